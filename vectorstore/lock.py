"""One writer per index directory.

The embedded Chroma store is not safe for two processes: a `python -m ingest`
beside a running server made half the server's questions fail (``Error finding
id``) and once crashed the ingest itself.  Every process that writes an embedded
index (the web server for its whole life, `python -m ingest` for its run) holds
an exclusive ``flock`` on ``INDEX_DIR/.writer.lock``; the file names the holder,
so a second writer can say who it is and what to do.  Within one process the
lock is re-entrant (threads share the process's one Chroma client).
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from vectorstore.errors import IndexBusyError

LOCK_FILE = ".writer.lock"

_held: dict[Path, tuple[int, int]] = {}  # resolved index dir → (fd, holders in this process)
_guard = threading.Lock()


def _holder_info() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join([Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:]])[:200],
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def read_holder(index_dir: Path) -> dict[str, object]:
    try:
        return json.loads((Path(index_dir) / LOCK_FILE).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


class IndexLock:
    """``with IndexLock(dir, wait=0):`` holds the writer lock; IndexBusyError names the other holder."""

    def __init__(self, index_dir: Path | str, wait: float = 0.0) -> None:
        self.index_dir = Path(index_dir).resolve()
        self.wait = wait
        self._mine = False

    def acquire(self) -> IndexLock:
        with _guard:
            if self.index_dir in _held:
                fd, count = _held[self.index_dir]
                _held[self.index_dir] = (fd, count + 1)
                self._mine = True
                return self
            self.index_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.index_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                self._lock(fd)
            except BaseException:
                os.close(fd)
                raise
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(_holder_info(), ensure_ascii=False).encode(), 0)
            _held[self.index_dir] = (fd, 1)
            self._mine = True
            return self

    def _lock(self, fd: int) -> None:
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(self.index_dir, read_holder(self.index_dir)) from None
                time.sleep(0.2)

    def release(self) -> None:
        if not self._mine:
            return
        self._mine = False
        with _guard:
            fd, count = _held[self.index_dir]
            if count > 1:
                _held[self.index_dir] = (fd, count - 1)
                return
            del _held[self.index_dir]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> IndexLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
