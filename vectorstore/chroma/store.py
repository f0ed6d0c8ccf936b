"""Chroma, through langchain-chroma, as the single source of truth for chunks.

Embedded ``PersistentClient`` under ``settings.store.index_dir`` by default, a Chroma
server (``HttpClient``, every call bounded by ``settings.store.chroma_timeout``) when
``chroma_host``/``chroma_port`` are set.  The collection is created with cosine
distance (collection configuration) and records the embedding model that built
it, plus a revision counter that is bumped on every write so derived indexes
(BM25) know when to rebuild.  A second collection, the document registry
(:mod:`vectorstore.chroma.registry`), commits each document: readers see a chunk only
when its document's committed fingerprint matches, so a document is visible
whole or not at all.
"""
from __future__ import annotations

import functools
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import chromadb
import chromadb.errors
import numpy as np
from langchain_chroma import Chroma
from langchain_core.documents import Document

from vectorstore.chroma import chroma_io
from vectorstore.chroma.client import NETWORK_ERRORS, open_client, open_write_client, recover_interrupted_rebuild
from vectorstore.chroma.registry import DocumentRegistry
from vectorstore.chroma.schema import (
    DEAD,
    DENSE_READY,
    ID_PAGE,
    METADATA_KEYS,
    PAGE,
    PENDING,
    document_info,
    embedding_input,
)
from vectorstore.chroma.sync import Breaker, shared_index
from vectorstore.embedding.embeddings import CachedEmbeddings
from vectorstore.errors import (
    FAILED_A_MOMENT_AGO,
    IndexDamagedError,
    IndexMissingError,
    ModelMismatchError,
    unavailable,
)
from vectorstore.records import Chunk, DocumentInfo, short_hash
from vectorstore.settings import StoreConfig

PLACEHOLDER_MARGIN = 10  # extra dense hits asked for while chunks await their vectors (see ChunkStore._nearest)
COMPACT_MIN_DEAD = 32  # below this many deleted vectors a rebuild is not worth it


def _guarded(method: Callable) -> Callable:
    """Every Chroma call: a server that is away or frozen gives StoreUnavailableError (and the
    next calls fail at once for a moment instead of waiting again), unreadable index files give
    IndexDamagedError, a collection replaced by a compaction is reopened once."""

    @functools.wraps(method)
    def wrapper(self: ChunkStore, *args, **kwargs):
        if getattr(self._calls, "depth", 0):  # nested in a guarded call: the outermost one does the bookkeeping
            return method(self, *args, **kwargs)
        s = self.settings.store
        if not self._breaker.admit():
            raise unavailable(s.chroma_host, s.chroma_port, FAILED_A_MOMENT_AGO)
        failed = False
        self._calls.depth = 1
        try:
            with self._shared.swap.reading():
                if self._generation != self._shared.generation:  # a compaction restarted this process's Chroma
                    self._follow()
                try:
                    return method(self, *args, **kwargs)
                except chromadb.errors.NotFoundError:
                    self.reopen()
                    return method(self, *args, **kwargs)
        except NETWORK_ERRORS as exc:
            failed = True
            self._breaker.failure()
            raise unavailable(s.chroma_host, s.chroma_port, exc) from exc
        except chromadb.errors.InternalError as exc:
            raise IndexDamagedError(s.index_dir, " ".join(str(exc).split())[:300]) from exc
        finally:
            self._calls.depth = 0
            if not failed:
                self._breaker.success()  # any answer but a network failure: the server is there

    return wrapper


class ChunkStore:
    """Chunks of all documents in one Chroma collection, committed per document in the registry."""

    def __init__(self, settings: StoreConfig, embeddings: CachedEmbeddings, create: bool = False) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self._breaker = Breaker()
        self._calls = threading.local()  # depth of guarded calls in this thread
        self._reconnect_lock = threading.Lock()
        self._dim: int | None = None
        self._committed_cache: tuple[tuple[int, int], dict[str, str] | None] | None = None
        self._observers: list[Callable[[ChunkStore], None]] = []
        try:
            client = open_client(settings, create)
            write_client = open_write_client(settings, client, create)
            if create:
                recover_interrupted_rebuild(write_client, settings.store.collection)
            exists = settings.store.collection in {c.name for c in client.list_collections()}
        except NETWORK_ERRORS as exc:
            raise unavailable(settings.store.chroma_host, settings.store.chroma_port, exc) from exc
        except (chromadb.errors.InternalError, sqlite3.DatabaseError) as exc:  # chroma.sqlite3 itself unreadable
            raise IndexDamagedError(settings.store.index_dir, " ".join(str(exc).split())[:300]) from exc
        if not exists and not create:
            raise IndexMissingError(settings.store.index_dir)
        self._client, self._write_client = client, write_client
        self._shared = shared_index(self.key)
        self.write_lock = self._shared.write_lock
        self._generation = self._shared.generation
        self.reopen()
        self._check_model(fix=create)

    @property
    def key(self) -> str:
        """What identifies the index within this process (Chroma's own key for an embedded index)."""
        s = self.settings.store
        return f"http://{s.chroma_host}:{s.chroma_port}/{s.collection}" if s.server_mode else str(Path(s.index_dir))

    def reconnect(self) -> None:
        """New clients (after a compaction restarted the embedded Chroma of this process)."""
        self._client = open_client(self.settings, create=True)
        self._write_client = open_write_client(self.settings, self._client, create=True)
        self._generation = self._shared.generation
        self.reopen()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Raw Chroma calls (maintenance) under the swap lock, on a client that follows restarts."""
        with self._shared.swap.reading():
            if self._generation != self._shared.generation:
                self._follow()
            yield

    def _follow(self) -> None:
        """Reconnect once when another store of this process has restarted Chroma (threads wait for the first)."""
        with self._reconnect_lock:
            if self._generation != self._shared.generation:
                self.reconnect()

    def reopen(self) -> None:
        """(Re)attach to the collection and the registry, e.g. after a compaction swapped them."""
        self.vectorstore = Chroma(
            client=self._client,
            collection_name=self.settings.store.collection,
            embedding_function=self.embeddings,
            collection_metadata={"embedding_model": self.embeddings.model_id, "revision": 0},
            collection_configuration={"hnsw": {"space": "cosine"}},
            create_collection_if_not_exists=True,
        )
        self._writable = (
            self._write_client.get_collection(self.settings.store.collection)
            if self._write_client is not self._client
            else None
        )
        self.registry = DocumentRegistry(self._client, self.settings.store.collection, self._write_client)
        self.registry.open(create=False)
        self._committed_cache = None

    # --- identity ---------------------------------------------------------
    @property
    def collection(self) -> chromadb.Collection:
        return self.vectorstore._collection

    @property
    def writable(self) -> chromadb.Collection:
        """The collection through the write client (the same object for an embedded index)."""
        return self._writable if self._writable is not None else self.collection

    @property
    def client(self) -> chromadb.ClientAPI:
        """The client for maintenance (rebuilds, long reads): the write client, with the long timeout."""
        return self._write_client

    @contextmanager
    def swapping(self) -> Iterator[None]:
        """Replacing the collection (a rebuild): waits for this process's readers of the index, holds new ones."""
        with self._shared.swap.swapping():
            yield

    @_guarded
    def metadata(self) -> dict:
        return dict(self._client.get_collection(self.settings.store.collection).metadata or {})

    def _metadata_for_write(self) -> dict:
        return dict(self._write_client.get_collection(self.settings.store.collection).metadata or {})

    def _check_model(self, fix: bool) -> None:
        meta = self.metadata()
        built_with = meta.get("embedding_model")
        if built_with and built_with != self.embeddings.model_id:
            raise ModelMismatchError(built_with, self.embeddings.model_id)
        if fix and any(key not in meta for key in METADATA_KEYS):  # a new collection, or metadata an old version lost
            self._set_metadata(self._complete(meta))  # a missing model name: the configured one is the only candidate

    def _complete(self, meta: dict) -> dict:
        """The collection metadata with every key present."""
        meta.setdefault("embedding_model", self.embeddings.model_id)
        meta.setdefault("revision", 0)
        meta["chunks"] = self.writable.count()
        if PENDING not in meta:
            meta[PENDING] = self.has_pending()
        meta.setdefault(DEAD, 0)
        return meta

    @_guarded
    def revision(self) -> tuple[int, int]:
        """Changes whenever chunks are written or deleted (one metadata read, no scan)."""
        meta = self.metadata()
        return int(meta.get("revision", 0)), self._count(meta)

    @_guarded
    def version(self) -> tuple[str, int, int]:
        """(collection id, revision, chunk count): what a derived index is current with (one metadata read).
        The id tells a collection replaced by a compaction or a ``--rebuild`` from the one before."""
        collection = self._client.get_collection(self.settings.store.collection)
        meta = dict(collection.metadata or {})
        return str(collection.id), int(meta.get("revision", 0)), self._count(meta)

    def _count(self, meta: dict) -> int:
        # Every write records the count in the metadata; a count query costs ~10 ms at 100k chunks.
        return int(meta["chunks"]) if "chunks" in meta else self.collection.count()

    def bump_revision(self, pending: bool | None = None, dead: int = 0) -> None:
        """Record a write: new revision, chunk count, deleted vectors and whether chunks await embedding.

        Kept in the collection metadata so that queries read them in one call
        instead of counting or scanning the collection (91 ms at 100k chunks)."""
        meta = self._complete(self._metadata_for_write())
        meta["revision"] = int(meta["revision"]) + 1
        meta[DEAD] = int(meta[DEAD]) + dead
        if pending is not None:
            meta[PENDING] = pending
        self._set_metadata(meta)

    def _set_metadata(self, meta: dict) -> None:
        meta.pop("hnsw:space", None)
        self.writable.modify(metadata=meta)

    # --- the commit marks ---------------------------------------------------
    def _committed(self) -> dict[str, str] | None:
        """doc id → committed fingerprint, or None for an index without a registry (all chunks visible)."""
        revision = self.revision()
        cached = self._committed_cache
        if cached is not None and cached[0] == revision:
            return cached[1]
        committed = {d: info.doc_hash for d, info in self.registry.all().items()} if self.registry.ready else None
        self._committed_cache = (revision, committed)
        return committed

    @staticmethod
    def _visible(chunk: Chunk, committed: dict[str, str] | None) -> bool:
        return committed is None or committed.get(chunk.doc_id) == chunk.doc_hash

    def _ensure_registry(self) -> None:
        """Writers: create the registry, committing what an index from before it holds."""
        if self.registry.ready:
            return
        legacy = self.scan_documents()
        self.registry.open(create=True)
        self.registry.put(legacy)

    # --- reading ------------------------------------------------------------
    @_guarded
    def count(self) -> int:
        return self._count(self.metadata())

    @_guarded
    def all_chunks(self, where: dict | None = None, visible: bool = True) -> list[Chunk]:
        """Chunks (of committed documents only, unless ``visible=False``)."""
        committed = self._committed() if visible else None
        return [c for c in self._chunks_where(where) if self._visible(c, committed)]

    def _chunks_where(self, where: dict | None) -> list[Chunk]:
        """Every chunk matching ``where`` (committed or not), in the collection's order, a page at a time."""
        chunks: list[Chunk] = []
        offset = 0
        while True:
            page = self.collection.get(where=where, include=["documents", "metadatas"], limit=PAGE, offset=offset)
            texts, metas = chroma_io.documents(page), chroma_io.metadatas(page)
            chunks += [Chunk.from_metadata(text, meta) for text, meta in zip(texts, metas, strict=True)]
            if len(page["ids"]) < PAGE:
                return chunks
            offset += PAGE

    @_guarded
    def chunks_of(self, doc_ids: list[str] | None = None) -> list[Chunk]:
        """Every chunk of these documents (of all: None), committed or not, in the collection's order
        (the order chunks were written in: a document written again comes last)."""
        if doc_ids is not None and not doc_ids:
            return []
        if doc_ids is not None and len(doc_ids) > PAGE:
            wanted = set(doc_ids)
            return [c for c in self.chunks_of(None) if c.doc_id in wanted]
        if doc_ids is None:
            return self._chunks_where(None)
        where = {"doc_id": doc_ids[0]} if len(doc_ids) == 1 else {"doc_id": {"$in": list(doc_ids)}}
        return self._chunks_where(where)

    @_guarded
    def chunk_ids(self) -> list[str]:
        """Every chunk id (committed or not), in the collection's order: ids only, read in large pages
        (0.3 s at 100k chunks, where reading their metadata takes 10 s)."""
        ids: list[str] = []
        while True:
            page = self.collection.get(include=[], limit=ID_PAGE, offset=len(ids))["ids"]
            ids += page
            if len(page) < ID_PAGE:
                return ids

    @_guarded
    def chunk_refs(self) -> list[tuple[str, str, str]]:
        """(chunk id, doc id, doc hash) of every chunk, in the collection's order (metadata only)."""
        refs: list[tuple[str, str, str]] = []
        offset = 0
        while True:
            page = self.collection.get(include=["metadatas"], limit=PAGE, offset=offset)
            metas = chroma_io.metadatas(page)
            refs += [
                (i, str(m["doc_id"]), str(m.get("doc_hash") or "")) for i, m in zip(page["ids"], metas, strict=True)
            ]
            if len(page["ids"]) < PAGE:
                return refs
            offset += PAGE

    @_guarded
    def document_hash(self, doc_id: str) -> str | None:
        return self.document_hashes([doc_id]).get(doc_id)

    @_guarded
    def document_hashes(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """Committed content fingerprints of those of ``doc_ids`` that are indexed, in a few reads."""
        if self.registry.ready:
            return {d: info.doc_hash for d, info in self.registry.get(doc_ids).items()}
        ids = list(dict.fromkeys(doc_ids))
        found: dict[str, str] = {}
        for i in range(0, len(ids), PAGE):
            part = ids[i : i + PAGE]
            page = self.collection.get(where=chroma_io.of_documents(part), include=["metadatas"])
            for meta in chroma_io.metadatas(page):
                found.setdefault(meta["doc_id"], meta.get("doc_hash", ""))
        return found

    @_guarded
    def documents(self) -> list[DocumentInfo]:
        """The committed documents with their provenance, by file name."""
        infos = list(self.registry.all().values()) if self.registry.ready else self.scan_documents()
        return sorted(infos, key=lambda d: d.source)

    def scan_documents(self) -> list[DocumentInfo]:
        """Documents as the chunks describe them (an index without a registry)."""
        by_doc: dict[str, list[Chunk]] = defaultdict(list)
        offset = 0
        while True:
            page = self.collection.get(include=["metadatas"], limit=PAGE, offset=offset)
            for meta in chroma_io.metadatas(page):
                by_doc[meta["doc_id"]].append(Chunk.from_metadata("", meta))
            if len(page["ids"]) < PAGE:
                break
            offset += PAGE
        return [document_info(chunks) for chunks in by_doc.values()]

    def dense_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """Top-k chunks by cosine similarity to the query."""
        return self.dense_search_by_vector(self.embeddings.embed_query(query), k)

    @_guarded
    def dense_search_by_vector(self, vector: list[float], k: int) -> list[tuple[Chunk, float]]:
        meta = self.metadata()
        count = self._count(meta)
        if count == 0:
            return []
        pending = bool(meta[PENDING]) if PENDING in meta else self.has_pending()
        hits = self._nearest(vector, min(k, count), pending, count)
        committed = self._committed()
        # Placeholder vectors never count as matches, even if another process wrote them a moment ago.
        found = [
            (Chunk.from_metadata(doc.page_content, doc.metadata), 1.0 - float(distance))
            for doc, distance in hits
            if doc.metadata.get(DENSE_READY, True)
        ]
        return [(c, s) for c, s in found if self._visible(c, committed)]

    def _nearest(self, vector: list[float], k: int, pending: bool, count: int) -> list[tuple[Document, float]]:
        """The ``k`` nearest vectors that are real (not placeholders of chunks awaiting theirs).

        While chunks await their vectors, a search filtered on ``DENSE_READY`` costs 350 ms at 100k chunks
        (7 ms unfiltered: Chroma evaluates the filter over every chunk), and a filtered HNSW search can return
        fewer than k.  Placeholders are random unit vectors, nowhere near a text's (cosine about 0 against
        0.7-0.9), so a few more unfiltered hits are asked for and placeholders dropped; only if they crowded
        out real hits is the filtered search made."""
        search = self.vectorstore.similarity_search_by_vector_with_relevance_scores
        if not pending:
            return search(vector, k=k)
        hits = search(vector, k=min(k + PLACEHOLDER_MARGIN, count))
        real = [(doc, d) for doc, d in hits if doc.metadata.get(DENSE_READY, True)]
        if len(real) >= k or len(real) == len(hits):
            return real[:k]
        # langchain-chroma annotates ``filter`` as dict[str, str]; it hands any Chroma where clause on.
        return search(vector, k=k, filter={DENSE_READY: True})  # type: ignore[dict-item]

    @_guarded
    def similarities(self, vector: list[float], chunk_ids: list[str]) -> dict[str, float]:
        """Cosine similarity of the query vector to the given chunks (for candidates BM25 found)."""
        if not chunk_ids:
            return {}
        page = self.collection.get(ids=chunk_ids, include=["embeddings", "metadatas"])
        query = np.asarray(vector, dtype=np.float32)
        query /= np.linalg.norm(query) or 1.0
        out = {}
        for chunk_id, emb, meta in zip(
            page["ids"], chroma_io.embeddings(page), chroma_io.metadatas(page), strict=True
        ):
            if not meta.get(DENSE_READY):
                continue
            v = np.asarray(emb, dtype=np.float32)
            out[chunk_id] = float(v @ query / (np.linalg.norm(v) or 1.0))
        return out

    # --- writing ------------------------------------------------------------
    def replace_document(self, doc_id: str, chunks: list[Chunk], progress: Callable[[int], None] | None = None) -> None:
        """Both phases at once: the new version is searchable by BM25 at once, by meaning once embedded."""
        self.write_documents({doc_id: chunks})
        self.embed_pending(progress=progress)

    def write_documents(self, docs: Mapping[str, list[Chunk]], infos: Mapping[str, DocumentInfo] | None = None) -> None:
        """Phase 1 (fast): swap each document's old chunks for the new ones, then commit it.

        The document's registry record goes first and comes back last, after
        all its chunks: an interrupted write leaves the document invisible and
        its fingerprint unknown, so the next ingest redoes it.  The new chunks
        carry a placeholder vector and ``dense_ready: false``, so BM25 (rebuilt
        from the collection) finds them at once while dense search ignores them
        until :meth:`embed_pending` has run.  Several documents go in one write
        because each Chroma call costs about 30 ms whatever its size."""
        docs = {d: chunks for d, chunks in docs.items() if chunks}
        if not docs:
            return
        infos = {d: (infos or {}).get(d) or document_info(chunks) for d, chunks in docs.items()}
        with self.write_lock:  # always taken before the swap lock's read side (see maintenance.rebuild)
            self._write(docs, infos)
        self.notify()

    @_guarded
    def _write(self, docs: dict[str, list[Chunk]], infos: dict[str, DocumentInfo]) -> None:
        chunks = [c for part in docs.values() for c in part]
        self._ensure_registry()
        self.registry.delete(docs)
        dead = self._delete_chunks_of(list(docs))
        for i in range(0, len(chunks), PAGE):
            part = chunks[i : i + PAGE]
            self.writable.upsert(
                ids=[c.chunk_id for c in part],
                embeddings=chroma_io.vectors(self.placeholder(c.chunk_id) for c in part),
                documents=[c.text for c in part],
                metadatas=[c.metadata() | {DENSE_READY: False} for c in part],
            )
        self.registry.put(infos.values())
        self.bump_revision(pending=True, dead=dead)

    def _delete_chunks_of(self, doc_ids: list[str]) -> int:
        removed = 0
        for i in range(0, len(doc_ids), PAGE):
            part = doc_ids[i : i + PAGE]
            ids = self.writable.get(where=chroma_io.of_documents(part), include=[])["ids"]
            for j in range(0, len(ids), PAGE):
                self.writable.delete(ids=ids[j : j + PAGE])
            removed += len(ids)
        return removed

    @_guarded
    def has_pending(self) -> bool:
        """Scans the metadata: for writers; queries read the flag kept by the writes."""
        return bool(self.collection.get(where={DENSE_READY: False}, limit=1, include=[])["ids"])

    @_guarded
    def pending(self) -> list[Chunk]:
        """Chunks written but not embedded yet (also after an interrupted run)."""
        return self.all_chunks(where={DENSE_READY: False}, visible=False)

    def embed_pending(self, progress: Callable[[int], None] | None = None, batch: int = 64) -> int:
        """Phase 2 (slow): embed pending chunks and make them visible to dense search."""
        done = 0
        pending = self.pending()
        for i in range(0, len(pending), batch):
            part = pending[i : i + batch]
            vectors = self.embeddings.embed_documents([embedding_input(c) for c in part], progress=progress)
            with self.write_lock:
                done += self._store_vectors(part, vectors)
        with self.write_lock:
            self._settle_pending()
        if done:
            self.notify()  # the revision moved: the kept index follows (nothing to tokenize)
        return done

    @_guarded
    def _store_vectors(self, part: list[Chunk], vectors: list[list[float]]) -> int:
        alive = set(self.writable.get(ids=[c.chunk_id for c in part], include=[])["ids"])
        keep = [
            (c, v) for c, v in zip(part, vectors, strict=True) if c.chunk_id in alive
        ]  # a re-ingest may have replaced them
        if keep:
            self.writable.update(
                ids=[c.chunk_id for c, _ in keep],
                embeddings=chroma_io.vectors(v for _, v in keep),
                metadatas=[c.metadata() | {DENSE_READY: True} for c, _ in keep],
            )
        return len(keep)

    @_guarded
    def _settle_pending(self) -> None:
        meta = self._metadata_for_write()
        if meta.get(PENDING, True) and not self.has_pending():
            self._set_metadata(self._complete(meta) | {PENDING: False})

    def placeholder(self, chunk_id: str) -> list[float]:
        """A random unit vector, fixed per chunk.  Identical placeholders would leave
        each HNSW node with about one link (the neighbour heuristic drops equidistant
        points), and the graph stays poorly connected after the real vectors arrive."""
        if self._dim is None:
            self._dim = len(self.embeddings.embed_query("维度"))
        rng = np.random.default_rng(int(short_hash(chunk_id, 16), 16))
        v = rng.standard_normal(self._dim)
        return (v / np.linalg.norm(v)).tolist()

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        """Uncommit, then delete: the number of documents that had chunks."""
        with self.write_lock:
            removed = self._delete(list(dict.fromkeys(doc_ids)))
        if removed:
            self.notify()
        return removed

    # --- what follows the writes ---------------------------------------------------------------------
    def on_write(self, observer: Callable[[ChunkStore], None]) -> None:
        """Have ``observer(store)`` called after each write of this store (chunks written, embedded or deleted,
        the collection cleaned or rebuilt).  The store's owner registers what derives from the collection: the
        kept keyword index follows this way (:func:`vectorstore.index.open_store`).  An observer must not fail
        the write it follows (the keyword index logs and catches up later)."""
        if observer not in self._observers:
            self._observers.append(observer)

    def notify(self) -> None:
        """After a write of this process: tell the observers."""
        for observer in self._observers:
            observer(self)

    @_guarded
    def _delete(self, doc_ids: list[str]) -> int:
        self._ensure_registry()
        self.registry.delete(doc_ids)
        removed = [d for d in doc_ids if self.writable.get(where={"doc_id": d}, limit=1, include=[])["ids"]]
        dead = self._delete_chunks_of(removed)
        if removed:
            self.bump_revision(dead=dead)
        return len(removed)

    @_guarded
    def needs_compaction(self) -> bool:
        """Deleted vectors (kept by HNSW) outnumber ``compact_deleted_ratio`` × the live ones."""
        meta = self.metadata()
        dead = int(meta.get(DEAD, 0))
        return dead >= max(COMPACT_MIN_DEAD, self.settings.store.compact_deleted_ratio * self._count(meta))

