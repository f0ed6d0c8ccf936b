"""Phase 2 of indexing in the background: uploads return once their text is searchable (BM25);
the embeddings for meaning search follow here, with progress the page shows."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from vectorstore.background import lower_thread_priority
from webapp.types import EmbedderProgress

log = logging.getLogger("webapp")


class BackgroundEmbedder:
    """One thread that embeds whatever is pending whenever it is kicked, then runs ``after`` (compaction)."""

    def __init__(
        self, embed: Callable[[Callable[[int], None]], int], pending: Callable[[], int], after: Callable[[], None]
    ) -> None:
        self._embed, self._pending, self._after = embed, pending, after
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._progress = EmbedderProgress()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    @property
    def progress(self) -> EmbedderProgress:
        return self._progress

    def kick(self) -> None:
        with self._lock:
            self._idle.clear()
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="erqi-embedder", daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything kicked so far is embedded (tests, shutdown)."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        lower_thread_priority()  # questions go first
        while self._wake.wait():
            self._wake.clear()
            try:
                self._round()
            except Exception as exc:  # noqa: BLE001 - reported on the page; the next kick retries
                log.exception("background embedding failed")
                self._progress = EmbedderProgress(self._progress.done, self._progress.total, False, str(exc))
            if not self._wake.is_set():
                self._idle.set()

    def _round(self) -> None:
        """Embed what is pending, then the follow-up (compaction); ``running`` until both are done."""
        total = self._pending()
        p = self._progress
        self._progress = EmbedderProgress(0, total, True) if total else EmbedderProgress(p.done, p.total, True)
        try:
            if total:
                def step(n: int) -> None:
                    p = self._progress
                    self._progress = EmbedderProgress(min(p.done + n, p.total), p.total, True)

                self._embed(step)
                self._progress = EmbedderProgress(total, total, True)
            self._after()
        finally:
            p = self._progress
            self._progress = EmbedderProgress(p.done, p.total, False, p.error)
