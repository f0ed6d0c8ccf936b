"""The index a process writes: the Chroma store (:mod:`vectorstore.chroma`) with the kept keyword index
(:mod:`vectorstore.keyword`) following each of its writes.

The store knows nothing of the keyword index: it announces its writes to the observers its owner registers
(:meth:`ChunkStore.on_write`).  Writers open the store here; readers (the assistant) may open a plain
:class:`ChunkStore`, whose keyword index follows the collection when a question finds it behind.
"""
from __future__ import annotations

from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import CachedEmbeddings
from vectorstore.keyword.service import after_write
from vectorstore.settings import StoreConfig


def open_store(settings: StoreConfig, embeddings: CachedEmbeddings, create: bool = False) -> ChunkStore:
    """The store; with ``lexical_on_write`` (the default) the kept keyword index is brought up to date after each
    of its writes (before the write returns on the command line, on the background thread in a server)."""
    store = ChunkStore(settings, embeddings, create=create)
    if settings.store.lexical_on_write:
        store.on_write(after_write)
    return store
