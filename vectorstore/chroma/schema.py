"""What the store keeps in Chroma beside the chunks themselves: the flags and keys of the chunk and collection
metadata, the size of a read, what the model embeds for a chunk, and a registry record made from chunks."""
from __future__ import annotations

from vectorstore.records import Chunk, DocumentInfo

PAGE = 1000  # records per read or write call
ID_PAGE = 20_000  # ids only: a page is small however many
DENSE_READY = "dense_ready"  # chunk metadata flag: the chunk's vector is real, not the placeholder
PENDING = "pending"  # collection metadata: some chunks still carry the placeholder vector
DEAD = "dead"  # collection metadata: chunks deleted since the collection was (re)built (their vectors stay in HNSW)
# Collection metadata every write keeps; other keys are carried along unread (a collection written before
# sentence vectors were dropped may hold "semantic_model").
METADATA_KEYS = ("embedding_model", "revision", "chunks", PENDING, DEAD)


def embedding_input(chunk: Chunk) -> str:
    """What the model sees: the section path gives short passages their context."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section and chunk.kind != "heading" else chunk.text


def document_info(chunks: list[Chunk]) -> DocumentInfo:
    """A registry record for chunks written without one (no provenance)."""
    first = chunks[0]
    return DocumentInfo(first.doc_id, first.source, first.title, len(chunks), first.doc_hash, first.ingested_at,
                        suspicious=sum(c.suspicious for c in chunks))
