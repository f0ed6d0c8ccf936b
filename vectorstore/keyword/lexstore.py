"""The kept keyword side of the index: BM25 postings, term statistics, the outline and the bridging
vocabulary, on disk beside the Chroma index, updated per document, loaded memory-mapped.

Chroma stays the source of truth.  This folder holds what is derived from it:

* immutable **segments** (:mod:`vectorstore.keyword.segment`): chunks with their BM25 postings, character
  and pair postings and outline keys;
* **generations** ``gen-NNNNNN.json``: which segments (and which of their rows are dead), the
  documents they hold, the corpus terms their segmenter adds to jieba's dictionary, the vocabulary
  file and the collection version (collection id, revision, chunk count) they are current with;
  ``CURRENT`` names the newest.

A write is followed by :meth:`LexicalStore.sync`: the committed documents (the registry) are
compared with the generation's, the chunks of new or changed documents are read from Chroma and
tokenized into a new segment, deleted ones are marked dead, and a new generation is published by
renaming ``CURRENT``.  Questions keep reading the snapshot they hold until the new one is there;
they never wait for a write.  Small segments are merged into bigger ones from their arrays,
without tokenizing again.  One process writes at a time (``flock`` on ``.lock``); the others —
workers of one machine sharing the folder — load the new generation when ``CURRENT`` moves.

Scores equal a fresh build (:class:`vectorstore.keyword.lexical.LexicalIndex` over ``all_chunks()``) bit
for bit: BM25 is computed from postings exactly as bm25s computes it, the segmenter is a function of
the set of corpus terms alone and a term changes only the cut of the texts holding it
(:class:`zhtext.words.Segmenter`), and rows whose text holds a term that came or went are tokenized again.

A generation that cannot be read (a crash in the middle of an update, damaged files) is detected
when it is loaded; the newest readable one is used and brought up to date, or, if none is left,
the index is rebuilt in the background while questions get :class:`IndexPreparingError`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from vectorstore.background import lower_thread_priority
from vectorstore.chroma.schema import embedding_input
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import CachedEmbeddings
from vectorstore.embedding.semantic import Vocabulary, vocabulary_words
from vectorstore.errors import IndexPreparingError, StoreError, lexical_damaged
from vectorstore.keyword.grams import candidates
from vectorstore.keyword.lexical import idf, term_scores, text_tokens, tokenize, top_k
from vectorstore.keyword.segment import (
    Row,
    Segment,
    SegmentError,
    fsync_dir,
    merge_segments,
    section_key,
    write_segment,
)
from vectorstore.keyword.tokenpool import cut_in_pool
from vectorstore.lock import FileLock
from vectorstore.records import SECTION_SEP, Chunk, Origin
from vectorstore.settings import StoreConfig
from zhtext.words import COMMON, Segmenter, corpus_terms, is_content_word

log = logging.getLogger("vectorstore")

FORMAT = 2  # 2: the segmenter's corpus terms ("terms") instead of words taught to the global jieba
CURRENT = "CURRENT"
LOCK = ".lock"
KEEP_GENERATIONS = 3  # generations kept on disk (a reader may still be opening the one before)
FULL_SCAN_SHARE = 0.25  # more than this share of the documents changed: read the whole collection in one pass
# From this many texts jieba runs in other processes (vectorstore.keyword.tokenpool): starting them (about a second)
# is small beside cutting that many, and this process's interpreter stays free for questions meanwhile.
POOL_MIN_CHUNKS = 400
MAX_SMALL_SEGMENTS = 4  # more small segments than this are merged into one
MERGE_SHARE = 0.2  # small segments holding this share of the rows, or dead rows this share: everything is merged
VERIFY_DELAY = 10.0  # seconds after a server starts before it checks its kept index against the collection
SYNC_ATTEMPTS = 3  # updates in a row while the collection keeps changing under one sync
WRITE_WAIT = 120.0  # seconds a writer waits for another process's update of the same folder


def lexical_folder(settings: StoreConfig) -> Path:
    """The kept keyword index of the configured collection."""
    s = settings.store
    base = Path(s.lexical_dir) if s.lexical_dir else Path(s.index_dir) / "lexical"
    name = f"{s.chroma_host}_{s.chroma_port}_{s.collection}" if s.server_mode else s.collection
    return base / re.sub(r"[^\w.-]", "_", name)


Version = tuple[str, int, int]  # (collection id, revision, chunk count)


@dataclass(frozen=True)
class DocEntry:
    """A committed document as a generation holds it."""

    doc_hash: str
    chunks: int  # rows held
    origin: Origin
    terms: tuple[str, ...]  # its quoted terms, which the index's segmenter keeps whole


# --- reading a generation --------------------------------------------------------------------------------
class SnapshotChunks(Sequence[Chunk]):
    """The chunks of a snapshot in the collection's order, made from the segments when asked for."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._s = snapshot

    def __len__(self) -> int:
        return self._s.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._s.n))]
        if i < 0:
            i += self._s.n
        if not 0 <= i < self._s.n:
            raise IndexError(i)
        return self._s.segments[int(self._s.seg_of[i])].chunk(int(self._s.row_of[i]))

    def __iter__(self) -> Iterator[Chunk]:
        for i in range(self._s.n):
            yield self[i]


class OutlineMap(Mapping[tuple[str, str], list[Chunk]]):
    """(document id, section path) → chunks, in document order, for :class:`assistant.lists.Outline`:
    the text chunks of a section (``sec``) or the child headings under a section (``grp``, two or more)."""

    def __init__(self, snapshot: Snapshot, kind: str, min_items: int) -> None:
        self._s, self._kind, self._min = snapshot, kind, min_items
        self._lookup = lru_cache(maxsize=4096)(self._find)

    def _find(self, key: tuple[str, str]) -> tuple[Chunk, ...]:
        doc_id, section = key
        found: list[Chunk] = []
        for seg, live in zip(self._s.segments, self._s.live, strict=True):
            for row in seg.rows_with(self._kind, section_key(doc_id, section)).tolist():
                if live is not None and not live[row]:
                    continue
                chunk = seg.chunk(row)
                parent = chunk.section if self._kind == "sec" else chunk.section.rsplit(SECTION_SEP, 1)[0]
                if chunk.doc_id == doc_id and parent == section:
                    found.append(chunk)
        return tuple(sorted(found, key=lambda c: c.start)) if len(found) >= self._min else ()

    def __getitem__(self, key: tuple[str, str]) -> list[Chunk]:
        found = self._lookup(key)
        if not found:
            raise KeyError(key)
        return list(found)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and bool(self._lookup(key))

    def __iter__(self) -> Iterator[tuple[str, str]]:
        raise TypeError("an outline map is looked up, not listed")

    def __len__(self) -> int:
        raise TypeError("an outline map is looked up, not listed")


class Bridging:
    """A snapshot's bridging vocabulary: its words and their vectors, kept memory-mapped (a server's writer
    embeds the words the cache lacks before it publishes).  A generation without kept vectors (written by
    the command line before the embedding phase, or with sentence vectors off) reads them from the cache
    when first needed, the missing ones embedded, as :meth:`Vocabulary.of` does; a later generation keeps
    them once the cache has them all."""

    def __init__(self, words: list[str], raw: np.ndarray | None) -> None:
        self.words = words
        self.raw = raw if words else np.zeros((0, 0), dtype=np.float32)
        self._table: Vocabulary | None = None
        self._lock = threading.Lock()

    @property
    def complete(self) -> bool:
        return self.raw is not None

    def table(self, embeddings: CachedEmbeddings) -> Vocabulary:
        if self._table is None:
            with self._lock:
                if self._table is None:
                    if not self.words:
                        self._table = Vocabulary([], np.zeros((0, 0), dtype=np.float32))
                    else:
                        self._table = Vocabulary(
                            self.words, np.array(self.raw) if self.raw is not None else embeddings.vectors(self.words)
                        )
        return self._table


class Snapshot:
    """One generation, read-only: what every question of this process reads until the next one is loaded.

    It is a :class:`vectorstore.keyword.lexical.KeywordIndex` (``chunks``, ``scores``, ``search``, ``score_of``),
    counts substrings like :class:`vectorstore.keyword.grams.SubstringCounter` (``count``) and holds the outline
    maps, the bridging vocabulary and the documents' origins."""

    def __init__(
        self, folder: Path, manifest: dict, segments: list[Segment], docs: dict[str, DocEntry], bridging: Bridging
    ) -> None:
        self.folder = folder
        self.manifest = manifest
        self.generation = int(manifest["generation"])
        version = manifest.get("version")
        self.version: Version | None = (str(version[0]), int(version[1]), int(version[2])) if version else None
        self.partial = bool(manifest.get("partial"))
        self.terms: tuple[str, ...] = tuple(manifest.get("terms", ()))
        self.segmenter: Segmenter = COMMON.with_words(self.terms)  # the dictionary its tokens were cut with
        self.next_key = int(manifest["next_key"])
        self.segments = segments
        self.docs = docs
        self.bridging = bridging
        self.live: list[np.ndarray | None] = []
        keys, owner, local = [], [], []
        for i, (seg, desc) in enumerate(zip(segments, manifest["segments"], strict=True)):
            dead = np.asarray(desc.get("dead", []), dtype=np.int64)
            live = None
            if len(dead):
                live = np.ones(seg.n, dtype=bool)
                live[dead] = False
            self.live.append(live)
            rows = np.arange(seg.n, dtype=np.int64) if live is None else np.flatnonzero(live)
            keys.append(np.asarray(seg.a["key"])[rows])
            owner.append(np.full(len(rows), i, dtype=np.int32))
            local.append(rows.astype(np.int32))
        all_keys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        order = np.argsort(all_keys, kind="stable")
        self.seg_of = (np.concatenate(owner) if owner else np.zeros(0, np.int32))[order]
        self.row_of = (np.concatenate(local) if local else np.zeros(0, np.int32))[order]
        self.n = len(order)
        self.pos: list[np.ndarray] = []  # per segment: row → position in the collection's order (-1: dead)
        for i, seg in enumerate(segments):
            pos = np.full(seg.n, -1, dtype=np.int64)
            mine = self.seg_of == i
            pos[self.row_of[mine]] = np.flatnonzero(mine)
            self.pos.append(pos)
        total = sum(
            int(
                np.asarray(seg.a["dl"], dtype=np.int64).sum()
                if live is None
                else np.asarray(seg.a["dl"], dtype=np.int64)[live].sum()
            )
            for seg, live in zip(segments, self.live, strict=True)
        )
        self.avgdl = np.float64(total) / self.n if self.n else np.float64(0.0)
        self.chunks: Sequence[Chunk] = SnapshotChunks(self)
        self.sections = OutlineMap(self, "sec", 1)
        self.groups = OutlineMap(self, "grp", 2)
        self.origins = {d: e.origin for d, e in docs.items()}
        self._token_df = lru_cache(maxsize=65536)(self._df_of)
        self._vocab: set[str] | None = None

    @property
    def dead_rows(self) -> int:
        return sum(int((~live).sum()) for live in self.live if live is not None)

    @property
    def rows(self) -> int:
        return sum(seg.n for seg in self.segments)

    def matches(self, version: Version) -> bool:
        return not self.partial and self.version is not None and tuple(self.version) == tuple(version)

    # --- BM25 ---------------------------------------------------------------------------------------
    def _postings(self, token: str) -> list[tuple[int, np.ndarray, np.ndarray]]:
        out = []
        for i, (seg, live) in enumerate(zip(self.segments, self.live, strict=True)):
            t = seg.token_id(token)
            if t < 0:
                continue
            rows, tf = seg.postings(t)
            if live is not None:
                keep = live[rows]
                rows, tf = rows[keep], tf[keep]
            if len(rows):
                out.append((i, np.asarray(rows), np.asarray(tf)))
        return out

    def _df_of(self, token: str) -> int:
        return sum(len(rows) for _, rows, _ in self._postings(token))

    def df(self, token: str) -> int:
        """How many live chunks hold ``token`` (a BM25 token)."""
        return self._token_df(token)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, in the collection's order: what bm25s gives for the same chunks."""
        scores = np.zeros(self.n, dtype=np.float32)
        tokens = [t for t in tokenize(query, self.segmenter) if self.df(t) > 0]
        if not tokens or not self.n:
            return scores
        for token in tokens:
            postings = self._postings(token)
            weight = idf(sum(len(r) for _, r, _ in postings), self.n)
            for i, rows, tf in postings:
                dl = np.asarray(self.segments[i].a["dl"])[rows]
                scores[self.pos[i][rows]] += term_scores(weight, tf, dl, self.avgdl)
        return scores

    def ids(self) -> list[str]:
        """The chunk ids in the collection's order (without making the chunks)."""
        return [self.segments[int(s)].s["id"].get(int(r)) for s, r in zip(self.seg_of, self.row_of, strict=True)]

    def position(self, chunk_id: str) -> int:
        for seg, pos in zip(self.segments, self.pos, strict=True):
            row = seg.row_of_id(chunk_id)
            if row >= 0 and pos[row] >= 0:
                return int(pos[row])
        return -1

    def score_of(self, scores: np.ndarray, chunk_id: str) -> float:
        i = self.position(chunk_id)
        return float(scores[i]) if i >= 0 else 0.0

    def search(self, query: str, k: int, scores: np.ndarray | None = None) -> list[tuple[Chunk, float]]:
        scores = self.scores(query) if scores is None else scores
        if not self.n or not scores.any():
            return []
        return [(self.chunks[i], float(scores[i])) for i in top_k(scores, k) if scores[i] > 0]

    @property
    def vocabulary(self) -> set[str]:
        """Every BM25 token of the live chunks."""
        if self._vocab is None:
            found: set[str] = set()
            for seg, live in zip(self.segments, self.live, strict=True):
                ptr = np.asarray(seg.a["tok_ptr"])
                if live is None:
                    alive = np.diff(ptr) > 0
                else:
                    held = live[np.asarray(seg.a["post_row"])].astype(np.int64)
                    alive = np.add.reduceat(held, ptr[:-1]) > 0 if len(held) else np.zeros(len(ptr) - 1, bool)
                    alive &= np.diff(ptr) > 0
                found.update(seg.s["tok"].get(int(t)) for t in np.flatnonzero(alive))
            self._vocab = found
        return self._vocab

    # --- term statistics (substring document frequency over section + text, lower-cased) --------------------
    def count(self, needle: str) -> int:
        """How many live chunks' lower-cased section + text contain ``needle`` (lower-cased)."""
        total = 0
        for i in range(len(self.segments)):
            rows = self._candidates(i, needle)
            total += len(rows) if len(needle) <= 2 else len(self._holding(i, rows, needle))
        return total

    def rows_containing(self, needle: str) -> list[tuple[int, int]]:
        """(segment, row) of the live rows whose lower-cased section + text contains ``needle`` (lower-cased)."""
        out: list[tuple[int, int]] = []
        for i in range(len(self.segments)):
            rows = self._candidates(i, needle).tolist()
            out += [(i, r) for r in (rows if len(needle) <= 2 else self._holding(i, rows, needle))]
        return out

    def _candidates(self, i: int, needle: str) -> np.ndarray:
        seg, live = self.segments[i], self.live[i]
        found = candidates(seg.chars, seg.pairs, needle)
        return found[live[found]] if live is not None and len(found) else found

    def _holding(self, i: int, rows: Iterable[int], needle: str) -> list[int]:
        raw, lower = needle.encode("utf-8"), self.segments[i].s["lower"]
        return [r for r in rows if lower.contains(int(r), raw)]


# --- the folder ---------------------------------------------------------------------------------------------
@dataclass
class Progress:
    state: str = "idle"  # idle | building | updating | merging | error
    done: int = 0
    total: int = 0
    detail: str = ""
    error: str | None = None


@dataclass
class _Plan:
    version: Version
    docs: dict[str, Any]  # doc id → DocumentInfo
    changed: list[str] = field(default_factory=list)
    removed: set[str] = field(default_factory=set)


class LexicalStore:
    """The kept keyword index of one collection, as this process sees it (one object per folder)."""

    def __init__(self, folder: Path, settings: StoreConfig) -> None:
        self.folder = Path(folder)
        self.settings = settings
        self._lock = FileLock(self.folder / LOCK, threads="exclude")  # one writer: one process, one thread
        self._load_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._current_stat: tuple[int, int] | None = None
        self._segments: dict[str, Segment] = {}
        self._store: ChunkStore | None = None
        self._wake = threading.Event()
        self._ready = threading.Event()
        self._published = threading.Condition()  # notified when a snapshot is published or an update failed
        self._thread: threading.Thread | None = None
        self._poll: float | None = None
        self.progress = Progress()
        self.last_error: str | None = None

    # --- reading ------------------------------------------------------------------------------------------
    def current(self, store: ChunkStore) -> Snapshot:
        """The snapshot one question reads.

        In a server (:meth:`serve`) it never waits for an update: it returns the newest snapshot this
        process has and, when the collection has moved on, starts one in the background.  Only when no
        snapshot exists at all does it wait for the first build, up to ``settings.lexical_wait`` seconds,
        then raises :class:`IndexPreparingError` (503).  Elsewhere (the command line, scripts) it brings the
        index up to date in the calling thread first, as a one-shot process needs."""
        self._store = store
        snap = self._snapshot or self.load()
        if self._poll is None:
            if snap is None or not snap.matches(store.version()):
                snap = self.sync(store) or self.load() or snap
            if snap is None:
                raise IndexPreparingError(self.progress.detail or "another process is building it")
            return snap
        if snap is None:
            self.kick()
            if not self._ready.wait(self.settings.store.lexical_wait) or self._snapshot is None:
                p = self.progress
                raise IndexPreparingError(f"{p.done}/{p.total}" if p.total else p.detail or "starting")
            return self._snapshot
        if not snap.matches(store.version()):
            self.kick()
        return snap

    def load(self) -> Snapshot | None:
        """The newest readable generation on disk (None if there is none); kept as this process's snapshot."""
        with self._load_lock:
            stat = self._stat_current()
            if self._snapshot is not None and stat == self._current_stat:
                return self._snapshot
            names = self._generations()
            current = self._read_current()
            if current in names:
                names.remove(current)
                names.insert(0, current)
            mine = self._snapshot
            for attempt, name in enumerate(names):
                if mine is not None and int(name[4:10]) <= mine.generation:
                    break  # nothing newer is readable: keep what this process has
                try:
                    snap = self._open(name)
                except (SegmentError, OSError, ValueError, KeyError, TypeError) as exc:
                    log.warning(lexical_damaged(self.folder, f"{name}: {exc}"))
                    continue
                if attempt:
                    log.warning("keyword index: using %s, the newest readable generation", name)
                self._publish(snap, stat)
                return snap
            self._current_stat = stat
            return mine

    def _stat_current(self) -> tuple[int, int] | None:
        try:
            st = (self.folder / CURRENT).stat()
            return st.st_ino, st.st_mtime_ns
        except OSError:
            return None

    def _read_current(self) -> str | None:
        try:
            return (self.folder / CURRENT).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def _generations(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted((p.name for p in self.folder.glob("gen-*.json")), reverse=True)

    def _open(self, name: str) -> Snapshot:
        manifest = json.loads((self.folder / name).read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')}, expected {FORMAT}")
        segments = []
        for desc in manifest["segments"]:
            seg = self._segments.get(desc["name"])
            if seg is None:
                seg = Segment(self.folder / desc["name"])
                self._segments[desc["name"]] = seg
            segments.append(seg)
        raw_docs = json.loads((self.folder / manifest["docs"]).read_text(encoding="utf-8"))
        docs = {
            d: DocEntry(e["hash"], int(e["chunks"]), e.get("origin", "unknown"), tuple(e.get("terms", ())))
            for d, e in raw_docs.items()
        }
        snap = Snapshot(
            self.folder,
            manifest,
            segments,
            docs,
            self._open_bridging(manifest.get("vocab"), manifest.get("vocab_complete", True)),
        )
        held = sum(e.chunks for e in docs.values())
        if held != snap.n:
            raise ValueError(f"{snap.n} live rows, its documents list {held}")
        return snap

    def _open_bridging(self, name: str | None, complete: bool) -> Bridging:
        """The bridging vocabulary's words, and its raw vectors memory-mapped when they are kept."""
        if not name:
            return Bridging([], None)
        words = json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))
        if not complete or not words:
            return Bridging(words, None)
        raw = np.load(self.folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        if len(words) != len(raw) or raw.ndim != 2:
            raise ValueError(f"{name}: {len(words)} words, {len(raw)} vectors")
        return Bridging(words, raw)

    def _publish(self, snap: Snapshot, stat: tuple[int, int] | None) -> None:
        """Make ``snap`` this process's snapshot."""
        with self._published:
            self._snapshot, self._current_stat = snap, stat
            self._published.notify_all()
        self._ready.set()
        live = {desc["name"] for desc in snap.manifest["segments"]}
        for name in [n for n in self._segments if n not in live]:
            del self._segments[name]  # unmapped once the last snapshot using it is gone

    # --- background --------------------------------------------------------------------------------------
    def kick(self) -> None:
        """Bring the index up to date in the background (this process's lexical thread)."""
        self._wake.set()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="erqi-lexical", daemon=True)
            self._thread.start()

    def serve(self, store: ChunkStore, poll_seconds: float) -> None:
        """A server's mode: updates (and a first build) run in this process's background thread, which also
        looks for writes made elsewhere every ``poll_seconds`` and checks the kept files against the
        collection once, ``VERIFY_DELAY`` seconds after the start; questions never wait for them."""
        self._store = store
        self._poll = poll_seconds
        self.kick()

    def _run(self) -> None:
        lower_thread_priority()  # questions go first
        verify_after = time.monotonic() + VERIFY_DELAY  # a server's check, once, after its first seconds
        while True:
            self._wake.wait(self._poll)
            self._wake.clear()
            store = self._store
            if store is None:
                continue
            try:
                self.refresh(store)
                if self._poll is not None and time.monotonic() >= verify_after:
                    verify_after = math.inf
                    self.verify(store)
            except StoreError as exc:  # Chroma away: try again at the next poll or question
                self.last_error = str(exc)
                log.warning("keyword index: %s", exc)
            except Exception as exc:  # noqa: BLE001 - never let the thread die
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.progress = Progress("error", error=self.last_error)
                log.exception("keyword index update failed")
                with self._published:
                    self._published.notify_all()
                time.sleep(1.0)

    def refresh(self, store: ChunkStore) -> Snapshot | None:
        """Load a newer generation another process published; update it ourselves if it is still behind."""
        snap = self.load()
        if snap is not None and snap.matches(store.version()):
            return snap
        return self.sync(store, wait=self._poll or 0.0) or self.load()

    # --- writing --------------------------------------------------------------------------------------
    def after_write(self, store: ChunkStore) -> None:
        """A write of this process is done: the index is brought up to date before this returns (an upload
        is searchable by keywords when it returns).  In a server the background thread does it, at its lower
        priority, while questions keep the previous snapshot."""
        if self._poll is None or self._thread is None or not self._thread.is_alive():
            self.sync(store)
            return
        version = store.version()
        self.kick()
        deadline = time.monotonic() + WRITE_WAIT
        with self._published:
            while not self._caught_up(version) and self.progress.state != "error":
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._published.wait(min(left, 1.0))

    def _caught_up(self, version: Version) -> bool:
        snap = self._snapshot
        return (
            snap is not None and not snap.partial and snap.version is not None
            and snap.version[0] == version[0] and snap.version[1] >= version[1]
        )

    def sync(self, store: ChunkStore, wait: float | None = WRITE_WAIT) -> Snapshot | None:
        """Bring the kept index up to date with the collection (writers call this after each write).

        Returns the new snapshot, or None when another process held the folder for ``wait`` seconds
        (it is updating it; this process loads its result when it is published)."""
        self._store = store
        with self._lock.held(wait) as held:
            if not held:
                return None
            snap = self.load()
            for _ in range(SYNC_ATTEMPTS):
                version = store.version()
                if snap is not None and snap.matches(version):
                    break
                snap = self._update(store, snap, version)
            self._complete_bridging(store)
            self._merge_if_needed(store)
            self._cleanup()
            self.progress = Progress("idle")
            return self._snapshot

    def _update(
        self, store: ChunkStore, snap: Snapshot | None, version: Version, generation: int | None = None
    ) -> Snapshot:
        """One new generation: ``snap`` with the collection's changes applied (``snap`` None: built from scratch)."""
        started = time.perf_counter()
        infos = {d.doc_id: d for d in store.documents()}
        old = snap.docs if snap is not None else {}
        changed = [d for d, info in infos.items() if d not in old or old[d].doc_hash != info.doc_hash]
        removed = {d for d in old if d not in infos or d in changed}
        self.progress = Progress("building" if snap is None else "updating", 0, 0, f"{len(changed)} document(s)")
        fetched = self._fetch(store, changed, infos, whole=snap is None)
        partial = store.version() != version  # the collection moved while it was read: the next sync goes on
        docs = {d: e for d, e in old.items() if d not in removed} | _entries(fetched, infos)
        terms = sorted({t for e in docs.values() for t in e.terms})
        segmenter = COMMON.with_words(terms)
        moved = set(snap.terms if snap is not None else ()) ^ set(terms)  # corpus terms that came or went
        dead, redo = _rows_to_drop(snap, removed, moved)
        again = [snap.segments[i].chunk(r) for i, r in redo] if snap is not None else []
        self.progress = Progress(self.progress.state, 0, len(fetched) + len(again), self.progress.detail)
        tokens = self._tokenize([embedding_input(c) for c in fetched + again], terms)
        key = snap.next_key if snap is not None else 0
        rows = [Row(key + j, c, t) for j, (c, t) in enumerate(zip(fetched, tokens[: len(fetched)], strict=True))]
        if snap is not None:
            rows += [
                Row(int(snap.segments[i].a["key"][r]), c, t)
                for (i, r), c, t in zip(redo, again, tokens[len(fetched) :], strict=True)
            ]
        manifest = {
            "format": FORMAT,
            "created": _now(),
            "version": list(version),
            "partial": partial,
            "segments": self._segments_after(snap, dead, rows),
            "terms": terms,
            "next_key": key + len(fetched),
            "generation": generation or (snap.generation + 1 if snap is not None else self._next_generation()),
            "vocab": snap.manifest.get("vocab") if snap is not None else None,
            "vocab_complete": snap.manifest.get("vocab_complete", True) if snap is not None else False,
            "embedding_model": store.embeddings.model_id,
        }
        draft = self._draft(manifest, docs, snap)
        words = _vocabulary(snap, draft, rows, dead, moved, segmenter)
        new = self._write_generation(manifest, draft, store, words)
        log.info(
            "keyword index: generation %d (%d chunks, +%d -%d documents, %d rows cut again) in %.1fs",
            new.generation,
            new.n,
            len({c.doc_id for c in fetched}),
            len(removed),
            len(redo),
            time.perf_counter() - started,
        )
        return new

    @staticmethod
    def _fetch(store: ChunkStore, changed: list[str], infos: dict[str, Any], whole: bool) -> list[Chunk]:
        """The committed chunks of the changed documents (many changed: read in one pass of the collection)."""
        if whole or len(changed) > FULL_SCAN_SHARE * max(len(infos), 1):
            wanted = set(changed)
            fetched = [c for c in store.chunks_of(None) if c.doc_id in wanted]
        else:
            fetched = store.chunks_of(changed)
        return [c for c in fetched if infos[c.doc_id].doc_hash == c.doc_hash]

    def _segments_after(self, snap: Snapshot | None, dead: list[set[int]], rows: list[Row]) -> list[dict[str, Any]]:
        """The manifest's segment list: the kept segments with their dead rows, and a new one for ``rows``."""
        segments = []
        if snap is not None:
            for i, (seg, desc) in enumerate(zip(snap.segments, snap.manifest["segments"], strict=True)):
                all_dead = sorted(set(desc.get("dead", [])) | dead[i])
                if len(all_dead) < seg.n:
                    segments.append({"name": seg.name, "dead": all_dead})
        if rows:
            name = f"seg-{uuid.uuid4().hex[:16]}"
            write_segment(self.folder / name, rows)
            segments.append({"name": name, "dead": []})
        return segments

    def _complete_bridging(self, store: ChunkStore) -> None:
        """Keep the vocabulary's vectors once the embedding cache has them all (after the embedding phase)."""
        snap = self._snapshot
        if snap is None or snap.bridging.complete or self._vectors(store, snap.bridging.words, snap.bridging) is None:
            return
        manifest = dict(snap.manifest) | {"generation": snap.generation + 1, "created": _now()}
        self._write_generation(manifest, self._draft(manifest, snap.docs, snap), store, snap.bridging.words)

    def _next_generation(self) -> int:
        names = self._generations()
        return int(names[0][4:10]) + 1 if names else 1

    @staticmethod
    def _tokens_of_rows(snap: Snapshot, dead: list[set[int]]) -> set[str]:
        """The BM25 tokens of the given rows of each segment (read back from the postings)."""
        found: set[str] = set()
        for seg, rows in zip(snap.segments, dead, strict=True):
            if not rows:
                continue
            held = np.isin(np.asarray(seg.a["post_row"]), np.fromiter(rows, dtype=np.int32))
            token_ids = np.unique(np.searchsorted(np.asarray(seg.a["tok_ptr"]), np.flatnonzero(held), side="right") - 1)
            found.update(seg.s["tok"].get(int(t)) for t in token_ids)
        return found

    def _tokenize(self, texts: list[str], terms: list[str]) -> list[list[str]]:
        if len(texts) < POOL_MIN_CHUNKS:
            segmenter = COMMON.with_words(terms)
            out = []
            for i, t in enumerate(texts):
                out.append(text_tokens(t, segmenter))
                if i % 1000 == 999:
                    self.progress = Progress(self.progress.state, i + 1, self.progress.total, self.progress.detail)
            return out

        def done(n: int) -> None:
            self.progress = Progress(self.progress.state, n, self.progress.total, self.progress.detail)

        return cut_in_pool(texts, terms, done)

    def _draft(self, manifest: dict, docs: dict[str, DocEntry], old: Snapshot | None) -> Snapshot:
        return Snapshot(
            self.folder,
            manifest,
            [self._segment(d["name"]) for d in manifest["segments"]],
            docs,
            old.bridging if old is not None else Bridging([], None),
        )

    def _write_generation(self, manifest: dict, draft: Snapshot, store: ChunkStore, words: list[str]) -> Snapshot:
        """Write the documents, the vocabulary if it changed, then the manifest, then move CURRENT."""
        gen = manifest["generation"]
        docs_name = f"docs-{gen:06d}.json"
        _atomic_write(
            self.folder / docs_name,
            json.dumps(
                {
                    d: {"hash": e.doc_hash, "chunks": e.chunks, "origin": e.origin, "terms": list(e.terms)}
                    for d, e in draft.docs.items()
                },
                ensure_ascii=False,
            ).encode("utf-8"),
        )
        manifest["docs"] = docs_name
        have = draft.bridging
        bridging = have
        if have.words != words or manifest.get("vocab") is None or not have.complete:
            vectors = self._vectors(store, words, have)
            if have.words != words or manifest.get("vocab") is None or vectors is not None:
                name = f"vocab-{gen:06d}"
                _atomic_write(self.folder / f"{name}.json", json.dumps(words, ensure_ascii=False).encode("utf-8"))
                if vectors is not None and words:
                    _atomic_write(self.folder / f"{name}.npy", _npy(vectors))
                manifest["vocab"], manifest["vocab_complete"] = name, vectors is not None
                bridging = self._open_bridging(name, vectors is not None)
        manifest_name = f"gen-{gen:06d}.json"
        _atomic_write(self.folder / manifest_name, json.dumps(manifest, ensure_ascii=False).encode("utf-8"))
        _atomic_write(self.folder / CURRENT, manifest_name.encode("utf-8"))
        snap = draft  # built on this same manifest: only the vocabulary may be new (no second pass over the rows)
        snap.bridging = bridging
        if bridging.complete:
            bridging.table(store.embeddings)  # built here, not by the first question to read the snapshot
        self._publish(snap, self._stat_current())
        return snap

    def _segment(self, name: str) -> Segment:
        if name not in self._segments:
            self._segments[name] = Segment(self.folder / name)
        return self._segments[name]

    def _vectors(self, store: ChunkStore, words: list[str], have: Bridging) -> np.ndarray | None:
        """The raw vectors of ``words`` in order, the rows :meth:`Vocabulary.of` would stack: kept ones reused,
        the rest from the embedding cache.  In a server, words it lacks (a new document's, before its
        embedding phase) are embedded now, by the writer, so that no question waits for them.  Elsewhere
        (no questions wait) or with sentence vectors off: None, and the vectors are kept by a later
        generation once the embedding phase, or the first question that needs them, has cached them all
        (so a command-line ingest packs and embeds them exactly as before the index was kept)."""
        if not words:
            return np.zeros((0, 0), dtype=np.float32)
        raw = have.raw
        known = {w: i for i, w in enumerate(have.words)} if raw is not None else {}
        missing = [w for w in words if w not in known]
        if self._poll is not None and store.settings.embedding.sentence_vectors:
            found = dict(zip(missing, store.embeddings.vectors(missing), strict=True)) if missing else {}
        else:
            found = store.embeddings.lookup(missing) if missing else {}
            if len(found) < len(set(missing)):
                return None
        kept = [(i, known[w]) for i, w in enumerate(words) if w in known]
        dim = raw.shape[1] if kept and raw is not None else len(next(iter(found.values())))
        out = np.empty((len(words), dim), dtype=np.float32)
        if kept:  # one gather from the memory-mapped rows, not a copy per word
            out[[i for i, _ in kept]] = raw[[j for _, j in kept]]  # type: ignore[index]
        for i, w in enumerate(words):
            if w in found:
                out[i] = found[w]
        return out

    # --- merging and tidying -----------------------------------------------------------------------------
    def _merge_if_needed(self, store: ChunkStore) -> None:
        snap = self._snapshot
        if snap is None or len(snap.segments) < 2 and not snap.dead_rows:
            return
        sizes = sorted(
            (
                (seg.n - (0 if live is None else int((~live).sum())), i)
                for i, (seg, live) in enumerate(zip(snap.segments, snap.live, strict=True))
            ),
            reverse=True,
        )
        largest = sizes[0][0]
        small = [i for _, i in sizes[1:]]
        if snap.dead_rows > MERGE_SHARE * max(snap.rows, 1) or sum(n for n, _ in sizes[1:]) > MERGE_SHARE * max(
            largest, 1
        ):
            chosen = list(range(len(snap.segments)))
        elif len(small) > MAX_SMALL_SEGMENTS:
            chosen = small
        else:
            return
        if len(chosen) < 2 and not any(snap.live[i] is not None for i in chosen):
            return
        self.progress = Progress("merging", 0, sum(snap.segments[i].n for i in chosen), f"{len(chosen)} segment(s)")
        started = time.perf_counter()
        name = f"seg-{uuid.uuid4().hex[:16]}"
        parts = [(snap.segments[i], _live_rows(snap.segments[i], snap.live[i])) for i in chosen]
        merge_segments(self.folder / name, parts)
        segments = [d for i, d in enumerate(snap.manifest["segments"]) if i not in chosen] + [
            {"name": name, "dead": []}
        ]
        manifest = dict(snap.manifest) | {"generation": snap.generation + 1, "segments": segments, "created": _now()}
        self._write_generation(manifest, self._draft(manifest, snap.docs, snap), store, snap.bridging.words)
        log.info("keyword index: merged %d segment(s) into one in %.1fs", len(chosen), time.perf_counter() - started)

    def _cleanup(self) -> None:
        """Remove what no kept generation uses: older generations, their files, unfinished (.tmp) writes."""
        keep = self._generations()[:KEEP_GENERATIONS]
        current = self._read_current()
        if current and current not in keep:
            keep.append(current)
        used: set[str] = set(keep) | {CURRENT, LOCK}
        for name in keep:
            try:
                manifest = json.loads((self.folder / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            used |= {d["name"] for d in manifest.get("segments", [])} | {manifest.get("docs") or ""}
            if manifest.get("vocab"):
                used |= {manifest["vocab"] + ".json", manifest["vocab"] + ".npy"}
        for path in self.folder.iterdir():
            if path.name in used:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    def verify(self, store: ChunkStore) -> bool:
        """The kept index against the collection (ids, order, documents) and its files' checksums: a background
        check at a server's start.  Anything wrong is rebuilt; True if all agreed."""
        snap = self._snapshot
        if snap is None:
            return True
        try:
            for seg in snap.segments:
                seg.verify()
            problem = self._disagreement(store, snap) if snap.matches(store.version()) else None
        except SegmentError as exc:
            problem = str(exc)
        if problem is None:
            return True
        log.warning(lexical_damaged(self.folder, problem))
        self.rebuild(store)
        return False

    @staticmethod
    def _disagreement(store: ChunkStore, snap: Snapshot) -> str | None:
        """What differs between the collection's committed chunks and the snapshot's, or None."""
        infos = {d.doc_id: d.doc_hash for d in store.documents()}
        if {d: e.doc_hash for d, e in snap.docs.items()} != infos:
            return f"{len(infos)} documents in the collection, {len(snap.docs)} kept, or other versions"
        mine = snap.ids()
        if store.chunk_ids() == mine:
            return None
        # chunks of an unfinished write are in the collection, not in the snapshot: compare the committed ones
        ids = [chunk_id for chunk_id, doc_id, doc_hash in store.chunk_refs() if infos.get(doc_id) == doc_hash]
        return None if ids == mine else f"{len(ids)} chunks in the collection, {snap.n} kept, or another order"

    def rebuild(self, store: ChunkStore) -> Snapshot | None:
        """Build a new generation from the whole collection (questions keep the current one meanwhile)."""
        with self._lock.held(WRITE_WAIT) as held:
            if not held:
                return None
            new = self._update(store, None, store.version(), generation=self._next_generation())
            self._cleanup()
            self.progress = Progress("idle")
            return new

    def status(self) -> dict[str, Any]:
        snap = self._snapshot
        p = self.progress
        return {
            "state": p.state if snap is not None or p.state != "idle" else "missing",
            "generation": snap.generation if snap else None,
            "chunks": snap.n if snap else 0,
            "segments": len(snap.segments) if snap else 0,
            "dead_rows": snap.dead_rows if snap else 0,
            "revision": snap.version[1] if snap and snap.version else None,
            "progress": {"done": p.done, "total": p.total, "detail": p.detail},
            "error": self.last_error,
        }


def _live_rows(seg: Segment, live: np.ndarray | None) -> np.ndarray:
    return np.arange(seg.n) if live is None else np.flatnonzero(live)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _entries(fetched: list[Chunk], infos: dict[str, Any]) -> dict[str, DocEntry]:
    """The generation's record of each fetched document, with the terms it quotes."""
    by_doc: dict[str, list[Chunk]] = {}
    for c in fetched:
        by_doc.setdefault(c.doc_id, []).append(c)
    return {
        d: DocEntry(
            infos[d].doc_hash,
            len(chunks),
            infos[d].provenance.origin,
            tuple(corpus_terms(embedding_input(c) for c in chunks)),
        )
        for d, chunks in by_doc.items()
    }


def _rows_to_drop(
    snap: Snapshot | None, removed: set[str], moved: set[str]
) -> tuple[list[set[int]], list[tuple[int, int]]]:
    """Per segment, the rows that go (those of removed documents, and kept rows holding a corpus term that
    came or went), and the kept ones among them to be tokenized again, as (segment, row)."""
    if snap is None:
        return [], []
    dead: list[set[int]] = [set() for _ in snap.segments]
    for i, seg in enumerate(snap.segments):
        live = snap.live[i]
        for d, rows in seg.doc_rows().items():
            if d in removed:
                dead[i].update(r for r in rows.tolist() if live is None or live[r])
    redo: list[tuple[int, int]] = []
    for w in sorted(moved):
        for i, r in snap.rows_containing(w.lower()):
            if r not in dead[i]:
                redo.append((i, r))
                dead[i].add(r)
    return dead, redo


def _vocabulary(
    snap: Snapshot | None, draft: Snapshot, rows: list[Row], dead: list[set[int]], moved: set[str], seg: Segmenter
) -> list[str]:
    """The bridging vocabulary: the content words among the live rows' tokens (only the tokens that came or
    went, and the corpus terms that moved, are looked at again)."""
    new_tokens = {t for r in rows for t in r.tokens}
    if snap is None:
        return vocabulary_words(new_tokens, seg)
    kept = set(snap.bridging.words)
    kept.update(t for t in new_tokens - kept if is_content_word(t, seg))
    for t in LexicalStore._tokens_of_rows(snap, dead) | moved:
        if draft.df(t) > 0 and is_content_word(t, seg):
            kept.add(t)
        else:
            kept.discard(t)
    return sorted(kept)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def _npy(array: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


# --- one object per folder and process ------------------------------------------------------------------------
_stores: dict[Path, LexicalStore] = {}
_stores_lock = threading.Lock()


def lexical_store(settings: StoreConfig) -> LexicalStore:
    folder = lexical_folder(settings)
    with _stores_lock:
        if folder not in _stores:
            _stores[folder] = LexicalStore(folder, settings)
        return _stores[folder]


def after_write(store: ChunkStore) -> None:
    """A write of this process is done: update the kept index now (questions keep the old snapshot meanwhile)."""
    try:
        lexical_store(store.settings).after_write(store)
    except StoreError as exc:
        log.warning("keyword index not updated after a write (it catches up later): %s", exc)
    except Exception:  # noqa: BLE001 - the write itself succeeded
        log.exception("keyword index not updated after a write (it catches up later)")


__all__ = ["DocEntry", "LexicalStore", "OutlineMap", "Snapshot", "after_write", "lexical_folder", "lexical_store"]
