"""Small concurrency helpers of the store: a circuit breaker for a Chroma server, a swap lock, a bounded HTTP client."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import chromadb
import httpx
from chromadb.config import Settings as ChromaClientSettings

BREAKER_COOLDOWN = 1.0  # seconds during which calls fail at once after a Chroma server failed one


class Breaker:
    """After a failure, calls are refused for a moment; then one call probes while the others are still refused.

    A frozen server thus holds at most one request per cooldown for the whole
    timeout, instead of every worker thread of the web server."""

    def __init__(self, cooldown: float = BREAKER_COOLDOWN) -> None:
        self.cooldown = cooldown
        self._until = 0.0
        self._tripped = False
        self._probing = False
        self._lock = threading.Lock()

    def admit(self) -> bool:
        with self._lock:
            if not self._tripped:
                return True
            if time.monotonic() < self._until or self._probing:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        """The server answered (whatever the answer was)."""
        if self._tripped:
            with self._lock:
                self._tripped = self._probing = False

    def failure(self) -> None:
        with self._lock:
            self._tripped, self._probing = True, False
            self._until = time.monotonic() + self.cooldown


class SwapLock:
    """Readers share it; replacing the collection (compaction) waits for them and holds new ones for a moment.
    Readers are never blocked by a waiting swap, so a reader may nest reads."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._swapping = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._swapping:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def swapping(self) -> Iterator[None]:
        with self._cond:
            while self._swapping:
                self._cond.wait()
            self._swapping = True
            while self._readers:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._swapping = False
                self._cond.notify_all()


@dataclass
class SharedIndex:
    """What every store of this process on one index shares: the write lock, the swap lock and the
    generation of the Chroma client (bumped when a compaction restarts it, so the other stores reconnect)."""

    swap: SwapLock = field(default_factory=SwapLock)
    write_lock: threading.RLock = field(default_factory=threading.RLock)  # one writer at a time within the process
    generation: int = 0


_shared: dict[str, SharedIndex] = {}
_shared_lock = threading.Lock()


def shared_index(key: str) -> SharedIndex:
    with _shared_lock:
        return _shared.setdefault(key, SharedIndex())


def restart_embedded(path: str) -> None:
    """Stop this process's Chroma system for an embedded index (its caches hold every collection
    ever opened: a compaction would otherwise leak ~5 MB); the next client opens the index afresh."""
    from chromadb.api.shared_system_client import SharedSystemClient

    with SharedSystemClient._refcount_lock:
        system = SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)
    if system is not None:
        system.stop()
    shared_index(path).generation += 1


class _BoundedHttpx:
    """The httpx module as chromadb's HTTP client sees it while one is created: every Client gets our timeout."""

    def __init__(self, timeout: float) -> None:
        self._timeout = httpx.Timeout(timeout)

    def __getattr__(self, name: str):
        return getattr(httpx, name)

    def Client(self, *args, **kwargs) -> httpx.Client:  # noqa: N802 - mirrors httpx.Client
        kwargs["timeout"] = self._timeout
        return httpx.Client(*args, **kwargs)


_patch_lock = threading.Lock()


def http_client(
    host: str, port: int, timeout: float, settings: ChromaClientSettings
) -> chromadb.ClientAPI:
    """``chromadb.HttpClient`` whose every request (the first one included) gives up after ``timeout`` seconds.

    chromadb builds its httpx.Client with ``timeout=None`` and offers no setting, so the
    module it reads ``httpx`` from is swapped for the duration of the construction."""
    import chromadb.api.fastapi as chroma_http

    with _patch_lock:
        chroma_http.httpx = _BoundedHttpx(timeout)  # type: ignore[assignment]
        try:
            return chromadb.HttpClient(host=host, port=port, settings=settings)
        finally:
            chroma_http.httpx = httpx
