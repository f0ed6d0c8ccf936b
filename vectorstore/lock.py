"""Locks between processes: one ``flock`` implementation (:class:`FileLock`), re-entrant within a process.

:class:`IndexLock` is the writer lock of an index directory.  The embedded Chroma store is not safe
for two processes: a `python -m ingest` beside a running server made half the server's questions fail
(``Error finding id``) and once crashed the ingest itself.  Every process that writes an embedded
index (the web server for its whole life, `python -m ingest` for its run) holds an exclusive ``flock``
on ``INDEX_DIR/.writer.lock``; the file names the holder, so a second writer can say who it is and
what to do.  Within one process the lock is re-entrant and shared by the threads (they share the
process's one Chroma client).  The kept keyword index's writer holds a :class:`FileLock` on its folder
that also keeps the other threads of the process out (:mod:`vectorstore.keyword.service`).
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from vectorstore.errors import IndexBusyError

LOCK_FILE = ".writer.lock"


class FileLock:
    """An exclusive ``flock`` on ``path`` through this object's own open file: it keeps out other processes
    and other ``FileLock`` objects on the same file.  Re-entrant: holding it again through this object only
    counts, and the last release unlocks.  ``threads``: ``"share"`` (any thread of the process may hold it
    again) or ``"exclude"`` (one thread at a time, re-entrant in that thread).

    ``wait``: seconds to keep trying while another holds it (None: as long as it takes; 0: once), every
    ``poll`` seconds.  ``on_lock(fd)`` runs when the file is locked, ``on_unlock(fd)`` just before it is unlocked."""

    def __init__(
        self,
        path: Path | str,
        threads: Literal["share", "exclude"] = "share",
        poll: float = 0.05,
        on_lock: Callable[[int], None] | None = None,
        on_unlock: Callable[[int], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.poll = poll
        self._on_lock = on_lock
        self._on_unlock = on_unlock
        self._thread = threading.RLock() if threads == "exclude" else None
        self._guard = threading.Lock()
        self._fd: int | None = None
        self._holds = 0

    def acquire(self, wait: float | None) -> bool:
        """True once the lock is held; False when another held it for ``wait`` seconds."""
        if self._thread is not None and not self._thread.acquire(timeout=-1 if wait is None else wait):
            return False
        try:
            held = self._lock_file(wait)
        except BaseException:
            if self._thread is not None:
                self._thread.release()
            raise
        if not held and self._thread is not None:
            self._thread.release()
        return held

    def _lock_file(self, wait: float | None) -> bool:
        with self._guard:
            if self._holds:
                self._holds += 1
                return True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                deadline = None if wait is None else time.monotonic() + wait
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if deadline is not None and time.monotonic() >= deadline:
                            os.close(fd)
                            return False
                        time.sleep(self.poll)
                if self._on_lock is not None:
                    self._on_lock(fd)
            except BaseException:
                os.close(fd)
                raise
            self._fd, self._holds = fd, 1
            return True

    def release(self) -> None:
        """One hold fewer; the last one unlocks the file."""
        with self._guard:
            if not self._holds:
                raise RuntimeError(f"{self.path}: released more often than acquired")
            self._holds -= 1
            if self._holds == 0 and self._fd is not None:
                if self._on_unlock is not None:
                    self._on_unlock(self._fd)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = None
        if self._thread is not None:
            self._thread.release()

    @contextmanager
    def held(self, wait: float | None) -> Iterator[bool]:
        """Yields True while the lock is held; False when ``wait`` seconds passed first."""
        if not self.acquire(wait):
            yield False
            return
        try:
            yield True
        finally:
            self.release()


def _holder_info() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]])[:200],
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _name_the_holder(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(_holder_info(), ensure_ascii=False).encode(), 0)


def read_holder(index_dir: Path) -> dict[str, object]:
    try:
        return json.loads((Path(index_dir) / LOCK_FILE).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


_writer_locks: dict[Path, FileLock] = {}  # resolved index dir → the process's one lock on its writer lock file
_writer_locks_guard = threading.Lock()


def _writer_lock(index_dir: Path) -> FileLock:
    with _writer_locks_guard:
        if index_dir not in _writer_locks:
            _writer_locks[index_dir] = FileLock(
                index_dir / LOCK_FILE, poll=0.2, on_lock=_name_the_holder, on_unlock=lambda fd: os.ftruncate(fd, 0)
            )
        return _writer_locks[index_dir]


class IndexLock:
    """``with IndexLock(dir, wait=0):`` holds the writer lock; IndexBusyError names the other holder."""

    def __init__(self, index_dir: Path | str, wait: float = 0.0) -> None:
        self.index_dir = Path(index_dir).resolve()
        self.wait = wait
        self._mine = False

    def acquire(self) -> IndexLock:
        if not _writer_lock(self.index_dir).acquire(self.wait):
            raise IndexBusyError(self.index_dir, read_holder(self.index_dir))
        self._mine = True
        return self

    def release(self) -> None:
        if not self._mine:
            return
        self._mine = False
        _writer_lock(self.index_dir).release()

    def __enter__(self) -> IndexLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
