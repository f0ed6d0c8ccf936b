"""Serving and updating the kept keyword index: :class:`LexicalStore`, one per folder and process.

Questions read the snapshot this process holds (:meth:`LexicalStore.current`) and never wait for a write.
A write is followed by :meth:`LexicalStore.sync` (:func:`after_write`, which the store's owner registers,
:func:`vectorstore.index.open_store`): under the folder's lock the builder writes the next generation
(:mod:`vectorstore.keyword.builder`), which is then published to this process's questions.  One process
writes at a time (``flock`` on ``.lock``); the others — workers of one machine sharing the folder — load
the new generation when ``CURRENT`` moves.  In a server (:meth:`LexicalStore.serve`) the updates run on a
background thread at a lower priority, which also looks for writes made elsewhere and, once after the
start, checks the kept files against the collection.

A crash between a write and its keyword update (kill -9 in the middle of an upload) leaves documents the
registry lists, whole, that the kept index does not hold.  A server's start finds them cheaply (the kept
documents and their versions against the registry's, only when the collection's version has moved) and waits
for the index to take them in before it answers questions (``lexical_start_wait``); if that takes longer,
:meth:`LexicalStore.indexing` names them so that answers can say they are still being indexed.

A generation that cannot be read (a crash in the middle of an update, damaged files) is detected when it
is loaded; the newest readable one is used and brought up to date, or, if none is left, the index is
rebuilt (in a server in the background, while questions get :class:`IndexPreparingError`).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vectorstore.background import lower_thread_priority
from vectorstore.chroma.store import ChunkStore
from vectorstore.errors import IndexPreparingError, StoreError, lexical_damaged
from vectorstore.keyword.builder import Builder, Progress
from vectorstore.keyword.folder import LOCK, Folder, Stat
from vectorstore.keyword.manifest import DocEntry, Version
from vectorstore.keyword.segment import SegmentError
from vectorstore.keyword.snapshot import Snapshot
from vectorstore.lock import FileLock
from vectorstore.records import DocumentInfo
from vectorstore.settings import StoreConfig

log = logging.getLogger("vectorstore")

VERIFY_DELAY = 10.0  # seconds after a server starts before it checks its kept index against the collection
SYNC_ATTEMPTS = 3  # updates in a row while the collection keeps changing under one sync
WRITE_WAIT = 120.0  # seconds a writer waits for another process's update of the same folder


def lexical_folder(settings: StoreConfig) -> Path:
    """The kept keyword index of the configured collection."""
    s = settings.store
    base = Path(s.lexical_dir) if s.lexical_dir else Path(s.index_dir) / "lexical"
    name = f"{s.chroma_host}_{s.chroma_port}_{s.collection}" if s.server_mode else s.collection
    return base / re.sub(r"[^\w.-]", "_", name)


class LexicalStore:
    """The kept keyword index of one collection, as this process sees it (one object per folder): it serves
    snapshots to questions and keeps the folder up to date with the collection."""

    def __init__(self, folder: Path, settings: StoreConfig) -> None:
        self.folder = Path(folder)
        self.settings = settings
        self._files = Folder(self.folder)
        self._builder = Builder(self._files)
        self._lock = FileLock(self.folder / LOCK, threads="exclude")  # one writer: one process, one thread
        self._load_lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._current_stat: Stat | None = None
        self._store: ChunkStore | None = None
        self._wake = threading.Event()
        self._ready = threading.Event()
        self._published = threading.Condition()  # notified when a snapshot is published or an update failed
        self._thread: threading.Thread | None = None
        self._poll: float | None = None
        self._seen: Version | None = None  # the collection version the last question saw
        self._behind: tuple[tuple[int, Version], tuple[str, ...]] | None = None  # (generation, version) → sources
        self.last_error: str | None = None

    @property
    def progress(self) -> Progress:
        """What the writer is doing (the builder's steps report their progress)."""
        return self._builder.progress

    @progress.setter
    def progress(self, value: Progress) -> None:
        self._builder.progress = value

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
            self._seen = store.version()
            if snap is None or not snap.matches(self._seen):
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
        self._seen = version = store.version()
        if not snap.matches(version):
            self.kick()
        return snap

    def indexing(self, store: ChunkStore, snap: Snapshot) -> tuple[str, ...]:
        """The file names of the documents the registry lists that ``snap`` does not hold (or holds in another
        version): they are still being indexed, and a question read from ``snap`` cannot find their text by its
        words.  Nothing is read while ``snap`` is current with the collection version the last question saw; the
        registry is read once per snapshot and collection version otherwise."""
        version = self._seen or store.version()
        if snap.matches(version):
            return ()
        key = (snap.generation, version)
        known = self._behind
        if known is not None and known[0] == key:
            return known[1]
        found = tuple(d.source for d in missing_documents(store.documents(), snap.docs))
        self._behind = (key, found)
        return found

    def load(self) -> Snapshot | None:
        """The newest readable generation on disk (None if there is none); kept as this process's snapshot."""
        with self._load_lock:
            stat = self._files.stat_current()
            if self._snapshot is not None and stat == self._current_stat:
                return self._snapshot
            names = self._files.generations()
            current = self._files.read_current()
            if current in names:
                names.remove(current)
                names.insert(0, current)
            mine = self._snapshot
            for attempt, name in enumerate(names):
                if mine is not None and int(name[4:10]) <= mine.generation:
                    break  # nothing newer is readable: keep what this process has
                try:
                    snap = self._files.open(name)
                except (SegmentError, OSError, ValueError, KeyError, TypeError) as exc:
                    log.warning(lexical_damaged(self.folder, f"{name}: {exc}"))
                    continue
                if attempt:
                    log.warning("keyword index: using %s, the newest readable generation", name)
                self._publish(snap, stat)
                return snap
            self._current_stat = stat
            return mine

    def _publish(self, snap: Snapshot, stat: Stat | None) -> None:
        """Make ``snap`` this process's snapshot."""
        with self._published:
            self._snapshot, self._current_stat = snap, stat
            self._published.notify_all()
        self._ready.set()
        self._files.keep_only({ref.name for ref in snap.manifest.segments})

    def _publish_written(self, snap: Snapshot) -> Snapshot:
        """Publish a generation this process has just written (CURRENT names it)."""
        self._publish(snap, self._files.stat_current())
        return snap

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
        collection once, ``VERIFY_DELAY`` seconds after the start; questions never wait for them.  Before it
        returns, documents a crash left out of the kept index are taken in (:meth:`catch_up`)."""
        self._store = store
        self._poll = poll_seconds
        self.kick()
        try:
            self.catch_up(store, self.settings.store.lexical_start_wait)
        except StoreError as exc:  # Chroma away: the background thread follows once it is back
            log.warning("keyword index: not compared with the registry at start: %s", exc)

    def catch_up(self, store: ChunkStore, timeout: float) -> bool:
        """At a server's start: wait up to ``timeout`` seconds for the background thread to take in the documents
        the registry lists that the kept index does not hold, and to drop those it no longer lists (a crash between
        a write and its keyword update).  In the usual case (the kept index current with the collection) this costs
        a metadata read and the current generation's manifest (its segments are loaded by the first question or
        the warm-up, as before).  True if the kept documents are the registry's."""
        manifest = self._files.current_manifest()
        if manifest is None or not manifest.partial and manifest.version == store.version():
            return True  # nothing kept yet or unreadable (load() deals with it), or current
        infos = store.documents()
        try:
            kept = self._files.documents(manifest)
        except (OSError, ValueError, KeyError, TypeError):
            return True  # load() finds the generation unreadable and falls back or rebuilds
        if not stale(infos, kept):
            return True  # only vectors moved: the background thread follows as usual
        missing = [d.source for d in missing_documents(infos, kept)]
        log.warning(
            "keyword index: %d document(s) the registry lists are not in it (%s), %d it no longer lists;"
            " bringing it up to date before answering",
            len(missing), ", ".join(missing[:5]), len(set(kept) - {d.doc_id for d in infos}),
        )
        started, deadline = time.monotonic(), time.monotonic() + timeout
        self.kick()
        with self._published:
            while (snap := self._snapshot) is None or stale(infos, snap.docs):
                left = deadline - time.monotonic()
                if left <= 0 or self.progress.state == "error":
                    log.warning("keyword index: still indexing after %.0fs; answers say so meanwhile", timeout)
                    return False
                self._published.wait(min(left, 1.0))
        log.info("keyword index: caught up with the registry in %.1fs", time.monotonic() - started)
        return True

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
                snap = self._publish_written(self._builder.update(store, snap, version))
            if (merged := self._builder.merge_if_needed(self._snapshot)) is not None:
                self._publish_written(merged)
            self._files.cleanup()
            self.progress = Progress("idle")
            return self._snapshot

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
            new = self._publish_written(
                self._builder.update(store, None, store.version(), generation=self._files.next_generation())
            )
            self._files.cleanup()
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


def missing_documents(infos: list[DocumentInfo], kept: Mapping[str, DocEntry]) -> list[DocumentInfo]:
    """The committed documents a generation's ``kept`` documents lack, or hold in another version."""
    return [d for d in infos if d.doc_id not in kept or kept[d.doc_id].doc_hash != d.doc_hash]


def stale(infos: list[DocumentInfo], kept: Mapping[str, DocEntry]) -> bool:
    """A generation's ``kept`` documents are not the committed ones (some missing, in another version, or deleted)."""
    return bool(missing_documents(infos, kept)) or len(kept) != len(infos)


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


__all__ = ["LexicalStore", "after_write", "lexical_folder", "lexical_store", "missing_documents"]
