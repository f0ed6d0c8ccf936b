"""Checking, cleaning, compacting and rebuilding the index.

* :func:`check`: is the index readable (metadata, segment files) and consistent
  (every chunk belongs to a committed document, every committed document is whole)?
* :func:`clean`: removes uncommitted chunks and uncommits incomplete documents
  (the next ingest redoes them).
* :func:`rebuild`: writes chunks into fresh collections and swaps them in: this
  compacts (HNSW never reuses the slots of deleted vectors: 50 upload/delete cycles
  grew an index 36-fold) and repairs (the rows come from the readable SQLite part
  of a damaged index, the vectors from the embedding cache).
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import shutil
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import chromadb
import chromadb.errors
from chromadb.api.types import Include

from vectorstore.chroma import chroma_io
from vectorstore.chroma.client import NETWORK_ERRORS, REBUILD_SUFFIX, drop, exists
from vectorstore.chroma.registry import DocumentRegistry, registry_name
from vectorstore.chroma.schema import DEAD, DENSE_READY, METADATA_KEYS, PAGE, PENDING, document_info, embedding_input
from vectorstore.chroma.store import ChunkStore
from vectorstore.chroma.sync import restart_embedded
from vectorstore.errors import IndexDamagedError, unavailable
from vectorstore.records import Chunk, DocumentInfo, Indicator, indicators_from_json

log = logging.getLogger("vectorstore")


@dataclass
class IndexCheck:
    damaged: str | None = None  # why the index cannot be read; None when it can
    chunks: int = 0
    documents: int = 0
    uncommitted: int = 0  # chunks whose document is not committed with their fingerprint
    incomplete: list[str] = field(default_factory=list)  # committed documents with chunks missing
    metadata_missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.damaged is None and not self.uncommitted and not self.incomplete and not self.metadata_missing

    def problems(self) -> list[str]:
        """What is wrong, one line each (English; the index is the operator's)."""
        lines = [f"segment files unreadable: {self.damaged}"] if self.damaged else []
        if self.uncommitted:
            lines.append(f"{self.uncommitted} chunk(s) of unfinished writes")
        if self.incomplete:
            lines.append(f"{len(self.incomplete)} document(s) missing chunks: indexed again by the next ingest")
        if self.metadata_missing:
            lines.append(f"collection metadata missing: {', '.join(self.metadata_missing)}")
        return lines


def check(store: ChunkStore, full: bool = False) -> IndexCheck:
    """Counts (cheap) and segment readability; ``full`` also reads every chunk's metadata and vector."""
    result = IndexCheck()
    try:
        with store.reading():
            _inspect(store, result, full)
    except chromadb.errors.InternalError as exc:
        result.damaged = " ".join(str(exc).split())[:300]
    except IndexDamagedError as exc:
        result.damaged = exc.detail
    except NETWORK_ERRORS as exc:
        raise unavailable(store.settings.store.chroma_host, store.settings.store.chroma_port, exc) from exc
    return result


def _inspect(store: ChunkStore, result: IndexCheck, full: bool) -> None:
    meta = store.metadata()
    result.metadata_missing = [k for k in METADATA_KEYS if k not in meta]
    result.chunks = store.collection.count()
    sample = store.collection.get(limit=1, include=["embeddings"])
    if sample["ids"]:
        first = chroma_io.embeddings(sample)[0]
        store.collection.query(query_embeddings=chroma_io.vectors([list(first)]), n_results=min(3, result.chunks))
    if store.registry.ready:
        committed = store.registry.all()
        result.documents = len(committed)
        expected = sum(d.chunks for d in committed.values())
        if full or expected != result.chunks:
            _consistency(store, committed, result, full)


def _consistency(store: ChunkStore, committed: dict[str, DocumentInfo], result: IndexCheck, full: bool) -> None:
    """Which chunks are uncommitted and which committed documents lost chunks (one metadata scan)."""
    have: dict[str, int] = defaultdict(int)
    offset = 0
    include: Include = ["metadatas", "embeddings"] if full else ["metadatas"]
    while True:
        page = store.writable.get(include=include, limit=PAGE, offset=offset)
        for meta in chroma_io.metadatas(page):
            info = committed.get(meta["doc_id"])
            if info is not None and info.doc_hash == meta.get("doc_hash", ""):
                have[info.doc_id] += 1
            else:
                result.uncommitted += 1
        if len(page["ids"]) < PAGE:
            break
        offset += PAGE
    result.incomplete = sorted(d for d, info in committed.items() if have[d] != info.chunks)


def clean(store: ChunkStore, result: IndexCheck) -> None:
    """Fix what :func:`check` found short of damage: uncommitted chunks go, incomplete documents are uncommitted."""
    with store.write_lock:
        if result.incomplete:
            store.registry.delete(result.incomplete)
        if result.uncommitted or result.incomplete:
            committed = {d: i.doc_hash for d, i in store.registry.all().items()}
            stale = [c.chunk_id for c in store.all_chunks(visible=False) if committed.get(c.doc_id) != c.doc_hash]
            for i in range(0, len(stale), PAGE):
                store.writable.delete(ids=stale[i : i + PAGE])
        store.bump_revision(dead=result.uncommitted)
    store.notify()


# --- rebuilding --------------------------------------------------------------------------------
@dataclass
class Row:
    chunk: Chunk
    vector: list[float] | None  # None: embed again (placeholder until then)


def live_rows(store: ChunkStore) -> tuple[list[Row], dict[str, DocumentInfo]]:
    """Every committed chunk with its stored vector (a readable index)."""
    committed = store.registry.all() if store.registry.ready else {d.doc_id: d for d in store.scan_documents()}
    rows: list[Row] = []
    offset = 0
    while True:
        page = store.writable.get(include=["documents", "metadatas", "embeddings"], limit=PAGE, offset=offset)
        stored = zip(chroma_io.documents(page), chroma_io.metadatas(page), chroma_io.embeddings(page), strict=True)
        for text, meta, vector in stored:
            chunk = Chunk.from_metadata(text, meta)
            info = committed.get(chunk.doc_id)
            if info is not None and info.doc_hash == chunk.doc_hash:
                rows.append(Row(chunk, list(vector) if meta.get(DENSE_READY) else None))
        if len(page["ids"]) < PAGE:
            return rows, committed
        offset += PAGE


def rebuild(store: ChunkStore, rows: list[Row], infos: dict[str, DocumentInfo],
            indicators: Mapping[str, Sequence[Indicator] | None] | None = None) -> None:
    """Write ``rows`` into new collections and swap them in (crash-safe: a writer that opens the index finishes
    or undoes a swap a killed rebuild left, :func:`vectorstore.chroma.client.recover_interrupted_rebuild`).
    The documents keep their indicators (``indicators``, or else those the registry holds)."""
    client, name = store.client, store.settings.store.collection
    if indicators is None:
        indicators = store.registry.indicators(infos) if store.registry.ready else {}
    tmp = name + REBUILD_SUFFIX
    drop(client, tmp)
    drop(client, registry_name(tmp))
    old = dict(store.client.get_collection(name).metadata or {}) if exists(client, name) else {}
    revision = int(old.get("revision", 0)) + 1
    cached = store.embeddings.cached([embedding_input(r.chunk) for r in rows if r.vector is None])
    new = client.create_collection(tmp, metadata={"embedding_model": store.embeddings.model_id, "building": True},
                                   configuration={"hnsw": {"space": "cosine"}})
    pending = False
    for i in range(0, len(rows), PAGE):
        part = rows[i : i + PAGE]
        vectors = [r.vector or cached.get(embedding_input(r.chunk)) for r in part]
        pending = pending or any(v is None for v in vectors)
        new.add(
            ids=[r.chunk.chunk_id for r in part],
            embeddings=chroma_io.vectors(
                v or store.placeholder(r.chunk.chunk_id) for r, v in zip(part, vectors, strict=True)
            ),
            documents=[r.chunk.text for r in part],
            metadatas=[r.chunk.metadata() | {DENSE_READY: v is not None} for r, v in zip(part, vectors, strict=True)],
        )
    registry = DocumentRegistry(client, tmp)
    registry.open(create=True)
    registry.put(infos.values(), indicators)
    new.modify(metadata={"embedding_model": store.embeddings.model_id, "revision": revision, "chunks": len(rows),
                         PENDING: pending, DEAD: 0, "building": False})
    with store.write_lock, store.swapping():  # the write lock first, as every writer takes it
        drop(client, name)
        new.modify(name=name)
        drop(client, registry_name(name))
        client.get_collection(registry_name(tmp)).modify(name=registry_name(name))
        if store.settings.store.server_mode:
            store.reopen()
        else:
            restart_embedded(store.key)  # frees the old collections' caches, and the SQLite file is ours alone now
            _reclaim_space(Path(store.settings.store.index_dir))
            store.reconnect()
    _malloc_trim()
    store.notify()


def compact(store: ChunkStore) -> None:
    """Rebuild the collection from its live chunks and vectors: deleted vectors are gone, the files shrink."""
    with store.write_lock:
        store.revision()  # a guarded call first: follows a restart another store of this process made
        rows, infos = live_rows(store)
        rebuild(store, rows, infos)
    log.info("compacted the index: %d chunks", len(rows))


def _reclaim_space(index_dir: Path) -> None:
    """Embedded index, while this process has no Chroma client open on it (another SQLite library in
    the same process must never write the file under Chroma's feet): remove segment folders no
    collection uses any more and VACUUM the SQLite file."""
    db = index_dir / "chroma.sqlite3"
    try:
        with sqlite3.connect(str(db), timeout=10) as con:
            used = {row[0] for row in con.execute("SELECT id FROM segments")}
        for folder in index_dir.iterdir():
            if folder.is_dir() and _is_uuid(folder.name) and folder.name not in used:
                shutil.rmtree(folder, ignore_errors=True)
        con = sqlite3.connect(str(db), timeout=10, isolation_level=None)
        try:
            con.execute("VACUUM")
        finally:
            con.close()
    except sqlite3.Error as exc:  # busy (a reading process): the space is reclaimed next time
        log.warning("could not reclaim index space: %s", exc)


def _is_uuid(name: str) -> bool:
    return len(name) == 36 and name.count("-") == 4


def _malloc_trim() -> None:
    """Hand freed heap back to the system (the old HNSW graphs were in memory)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


# --- salvaging a damaged embedded index ------------------------------------------------------------
def salvage(index_dir: Path, collection: str) -> tuple[list[Chunk], dict[str, DocumentInfo]]:
    """Chunk texts and metadata, and registry records, read from chroma.sqlite3 directly.

    Chroma keeps documents and metadata in SQLite and vectors in the HNSW segment
    files; when those are damaged, even ``collection.get`` fails, but the rows
    are intact and the vectors are in the embedding cache."""
    db = Path(index_dir) / "chroma.sqlite3"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        chunk_rows = _records(con, collection)
        doc_rows = _records(con, registry_name(collection))
    finally:
        con.close()
    chunks = [Chunk.from_metadata(meta.pop("chroma:document", ""), meta) for meta in chunk_rows if "doc_id" in meta]
    infos = {meta["doc_id"]: DocumentInfo.from_metadata(meta) for meta in doc_rows if "doc_id" in meta}
    return chunks, infos


def salvage_indicators(index_dir: Path, collection: str) -> dict[str, tuple[Indicator, ...] | None]:
    """The indicators the registry records of a damaged embedded index keep (read from chroma.sqlite3)."""
    con = sqlite3.connect(f"file:{Path(index_dir) / 'chroma.sqlite3'}?mode=ro", uri=True)
    try:
        rows = _records(con, registry_name(collection))
    finally:
        con.close()
    return {m["doc_id"]: indicators_from_json(m.get("chroma:document")) for m in rows if "doc_id" in m}


def _records(con: sqlite3.Connection, collection: str) -> list[dict]:
    """Metadata (with the document under 'chroma:document') of each record of the collection's metadata segment."""
    rows = con.execute(
        "SELECT e.id, m.key, m.string_value, m.int_value, m.float_value, m.bool_value FROM collections c"
        " JOIN segments s ON s.collection = c.id AND s.scope = 'METADATA'"
        " JOIN embeddings e ON e.segment_id = s.id JOIN embedding_metadata m ON m.id = e.id WHERE c.name = ?",
        (collection,),
    )
    records: dict[int, dict] = defaultdict(dict)
    for rid, key, s, i, f, b in rows:
        records[rid][key] = (
            s if s is not None else i if i is not None else f if f is not None else bool(b) if b is not None else None
        )
    return list(records.values())


def salvageable(
    chunks: Iterable[Chunk], infos: dict[str, DocumentInfo]
) -> tuple[list[Row], dict[str, DocumentInfo], list[DocumentInfo]]:
    """Rows of the documents that are whole; (rows, their records, the documents that are not)."""
    by_doc: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in chunks:
        by_doc[chunk.doc_id].append(chunk)
    if not infos:  # an index from before the registry: every document counts as whole
        infos = {d: document_info(c) for d, c in by_doc.items()}
    rows: list[Row] = []
    kept: dict[str, DocumentInfo] = {}
    lost: list[DocumentInfo] = []
    for doc_id, info in infos.items():
        mine = [c for c in by_doc.get(doc_id, []) if c.doc_hash == info.doc_hash]
        if len(mine) == info.chunks:
            rows += [Row(c, None) for c in mine]
            kept[doc_id] = info
        else:
            lost.append(info)
    return rows, kept, lost
