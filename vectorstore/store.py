"""Chroma, through langchain-chroma, as the single source of truth for chunks.

Embedded ``PersistentClient`` under ``settings.index_dir`` by default, a Chroma
server (``HttpClient``) when ``chroma_host``/``chroma_port`` are set.  The
collection is created with cosine distance (collection configuration) and
records the embedding model that built it, plus a revision counter that is
bumped on every write so derived indexes (BM25) know when to rebuild.
"""
from __future__ import annotations

import functools
import threading
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterable, Mapping

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaClientSettings
from langchain_chroma import Chroma

from vectorstore.embeddings import CachedEmbeddings
from vectorstore.errors import IndexMissingError, ModelMismatchError, StoreUnavailableError
from vectorstore.records import Chunk, DocumentInfo, short_hash
from vectorstore.settings import Settings

_PAGE = 1000
DENSE_READY = "dense_ready"  # metadata flag: the chunk's vector is real, not the placeholder
PENDING = "pending"  # collection metadata: some chunks still carry the placeholder vector
_NETWORK_ERRORS = (httpx.TransportError, ConnectionError)


def _guarded(method: Callable) -> Callable:
    """A Chroma server that goes away mid-session gives a StoreUnavailableError, not a raw httpx error."""

    @functools.wraps(method)
    def wrapper(self: "ChunkStore", *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except _NETWORK_ERRORS as exc:
            s = self.settings
            raise StoreUnavailableError(
                f"Chroma 服务器 {s.chroma_host}:{s.chroma_port} 无法连接 / cannot reach the Chroma server at {s.chroma_host}:{s.chroma_port}: {exc}"
            ) from exc

    return wrapper


def embedding_input(chunk: Chunk) -> str:
    """What the model sees: the section path gives short passages their context."""
    return f"{chunk.section}\n{chunk.text}" if chunk.section and chunk.kind != "heading" else chunk.text


def _client(settings: Settings, create: bool) -> chromadb.ClientAPI:
    client_settings = ChromaClientSettings(anonymized_telemetry=False)
    if settings.server_mode:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=client_settings)
        except Exception as exc:  # connection refused, bad host…
            raise StoreUnavailableError(f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port}: {exc}") from exc
    index_dir = Path(settings.index_dir)
    if not create and not (index_dir / "chroma.sqlite3").exists():
        raise IndexMissingError(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(index_dir), settings=client_settings)


class ChunkStore:
    """Chunks of all documents in one Chroma collection."""

    def __init__(self, settings: Settings, embeddings: CachedEmbeddings, create: bool = False) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self._write_lock = threading.Lock()
        self._dim: int | None = None
        client = _client(settings, create)
        exists = settings.collection in {c.name for c in client.list_collections()}
        if not exists and not create:
            raise IndexMissingError(settings.index_dir)
        self.vectorstore = Chroma(
            client=client,
            collection_name=settings.collection,
            embedding_function=embeddings,
            collection_metadata={"embedding_model": embeddings.model_id, "revision": 0},
            collection_configuration={"hnsw": {"space": "cosine"}},
            create_collection_if_not_exists=True,
        )
        self._client = client
        self._check_model()

    # --- identity ---------------------------------------------------------
    @property
    def collection(self) -> chromadb.Collection:
        return self.vectorstore._collection

    @_guarded
    def _metadata(self) -> dict:
        return dict(self._client.get_collection(self.settings.collection).metadata or {})

    def _check_model(self) -> None:
        built_with = self._metadata().get("embedding_model")
        if built_with and built_with != self.embeddings.model_id:
            raise ModelMismatchError(built_with, self.embeddings.model_id)

    @_guarded
    def revision(self) -> tuple[int, int]:
        """Changes whenever chunks are written or deleted (one metadata read, no scan)."""
        meta = self._metadata()
        return int(meta.get("revision", 0)), self._count(meta)

    def _count(self, meta: dict) -> int:
        # Every write records the count in the metadata; a count query costs ~10 ms at 100k chunks.
        return int(meta["chunks"]) if "chunks" in meta else self.collection.count()

    def _bump_revision(self, pending: bool | None = None) -> None:
        """Record a write: new revision, chunk count and whether chunks await embedding.

        Kept in the collection metadata so that queries read them in one call
        instead of counting or scanning the collection (91 ms at 100k chunks)."""
        meta = self._metadata()
        meta["revision"] = int(meta.get("revision", 0)) + 1
        meta["chunks"] = self.collection.count()
        if pending is not None:
            meta[PENDING] = pending
        self._set_metadata(meta)

    def _set_metadata(self, meta: dict) -> None:
        meta.pop("hnsw:space", None)
        self.collection.modify(metadata=meta)

    # --- reading ------------------------------------------------------------
    @_guarded
    def count(self) -> int:
        return self._count(self._metadata())

    @_guarded
    def all_chunks(self, where: dict | None = None) -> list[Chunk]:
        chunks: list[Chunk] = []
        offset = 0
        while True:
            page = self.collection.get(where=where, include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            chunks += [Chunk.from_metadata(text, meta) for text, meta in zip(page["documents"], page["metadatas"])]
            if len(page["ids"]) < _PAGE:
                return chunks
            offset += _PAGE

    @_guarded
    def document_hash(self, doc_id: str) -> str | None:
        return self.document_hashes([doc_id]).get(doc_id)

    @_guarded
    def document_hashes(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """Stored content fingerprints of those of ``doc_ids`` that are indexed, in a few reads."""
        ids = list(dict.fromkeys(doc_ids))
        found: dict[str, str] = {}
        for i in range(0, len(ids), _PAGE):
            part = ids[i : i + _PAGE]
            where = {"doc_id": part[0]} if len(part) == 1 else {"doc_id": {"$in": part}}
            for meta in self.collection.get(where=where, include=["metadatas"])["metadatas"]:
                found.setdefault(meta["doc_id"], meta.get("doc_hash", ""))
        return found

    @_guarded
    def documents(self) -> list[DocumentInfo]:
        by_doc: dict[str, list[dict]] = defaultdict(list)
        offset = 0
        while True:
            page = self.collection.get(include=["metadatas"], limit=_PAGE, offset=offset)
            for meta in page["metadatas"]:
                by_doc[meta["doc_id"]].append(meta)
            if len(page["ids"]) < _PAGE:
                break
            offset += _PAGE
        infos = [
            DocumentInfo(doc_id, metas[0]["source"], metas[0]["title"], len(metas), metas[0].get("doc_hash", ""), metas[0].get("ingested_at", ""))
            for doc_id, metas in by_doc.items()
        ]
        return sorted(infos, key=lambda d: d.source)

    def dense_search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """Top-k chunks by cosine similarity to the query."""
        return self.dense_search_by_vector(self.embeddings.embed_query(query), k)

    @_guarded
    def dense_search_by_vector(self, vector: list[float], k: int) -> list[tuple[Chunk, float]]:
        meta = self._metadata()
        count = self._count(meta)
        if count == 0:
            return []
        # Filtered HNSW search can return fewer than k, so filter only while something is pending.
        pending = bool(meta[PENDING]) if PENDING in meta else self.has_pending()
        where = {DENSE_READY: True} if pending else None
        hits = self.vectorstore.similarity_search_by_vector_with_relevance_scores(vector, k=min(k, count), filter=where)
        # Placeholder vectors never count as matches, even if another process wrote them a moment ago.
        return [(Chunk.from_metadata(doc.page_content, doc.metadata), 1.0 - float(distance)) for doc, distance in hits if doc.metadata.get(DENSE_READY, True)]

    @_guarded
    def similarities(self, vector: list[float], chunk_ids: list[str]) -> dict[str, float]:
        """Cosine similarity of the query vector to the given chunks (for candidates BM25 found)."""
        if not chunk_ids:
            return {}
        page = self.collection.get(ids=chunk_ids, include=["embeddings", "metadatas"])
        query = np.asarray(vector, dtype=np.float32)
        query /= np.linalg.norm(query) or 1.0
        out = {}
        for chunk_id, emb, meta in zip(page["ids"], page["embeddings"], page["metadatas"]):
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

    @_guarded
    def write_documents(self, docs: Mapping[str, list[Chunk]]) -> None:
        """Phase 1 (fast): swap each document's old chunks for the new ones.

        The new chunks carry a placeholder vector and ``dense_ready: false``, so
        BM25 (rebuilt from the collection) finds them immediately while dense
        search ignores them until :meth:`embed_pending` has run; old and new
        versions are never visible together.  Several documents go in one
        write because each Chroma call costs about 30 ms whatever its size."""
        if not docs:
            return
        chunks = [c for part in docs.values() for c in part]
        with self._write_lock:
            self.collection.delete(where={"doc_id": {"$in": list(docs)}})
            for i in range(0, len(chunks), _PAGE):
                part = chunks[i : i + _PAGE]
                self.collection.upsert(
                    ids=[c.chunk_id for c in part],
                    embeddings=[self._placeholder(c.chunk_id) for c in part],
                    documents=[c.text for c in part],
                    metadatas=[c.metadata() | {DENSE_READY: False} for c in part],
                )
            self._bump_revision(pending=bool(chunks) or None)

    @_guarded
    def has_pending(self) -> bool:
        """Scans the metadata: for writers; queries read the flag kept by the writes."""
        return bool(self.collection.get(where={DENSE_READY: False}, limit=1, include=[])["ids"])

    @_guarded
    def pending(self) -> list[Chunk]:
        """Chunks written but not embedded yet (also after an interrupted run)."""
        return self.all_chunks(where={DENSE_READY: False})

    @_guarded
    def embed_pending(self, progress: Callable[[int], None] | None = None, batch: int = 64) -> int:
        """Phase 2 (slow): embed pending chunks and make them visible to dense search."""
        done = 0
        pending = self.pending()
        for i in range(0, len(pending), batch):
            part = pending[i : i + batch]
            vectors = self.embeddings.embed_documents([embedding_input(c) for c in part], progress=progress)
            with self._write_lock:
                alive = set(self.collection.get(ids=[c.chunk_id for c in part], include=[])["ids"])
                keep = [(c, v) for c, v in zip(part, vectors) if c.chunk_id in alive]  # a re-ingest may have replaced them
                if keep:
                    self.collection.update(
                        ids=[c.chunk_id for c, _ in keep],
                        embeddings=[v for _, v in keep],
                        metadatas=[c.metadata() | {DENSE_READY: True} for c, _ in keep],
                    )
            done += len(keep)
        with self._write_lock:
            meta = self._metadata()
            if meta.get(PENDING, True) and not self.has_pending():
                meta[PENDING] = False
                self._set_metadata(meta)
        return done

    def _placeholder(self, chunk_id: str) -> list[float]:
        """A random unit vector, fixed per chunk.  Identical placeholders would leave
        each HNSW node with about one link (the neighbour heuristic drops equidistant
        points), and the graph stays poorly connected after the real vectors arrive."""
        if self._dim is None:
            self._dim = len(self.embeddings.embed_query("维度"))
        rng = np.random.default_rng(int(short_hash(chunk_id, 16), 16))
        v = rng.standard_normal(self._dim)
        return (v / np.linalg.norm(v)).tolist()

    @_guarded
    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        removed = 0
        with self._write_lock:
            for doc_id in doc_ids:
                ids = self.collection.get(where={"doc_id": doc_id}, include=[])["ids"]
                if ids:
                    self.collection.delete(ids=ids)
                    removed += 1
            if removed:
                self._bump_revision()
        return removed


def drop_collection(settings: Settings) -> bool:
    """Delete the collection whatever model built it; False if there was none."""
    try:
        client = _client(settings, create=False)
        client.delete_collection(settings.collection)
    except (IndexMissingError, ValueError, chromadb.errors.NotFoundError):
        return False
    return True
