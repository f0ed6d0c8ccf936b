"""The index of one web process: opened once, checked, held, and retried when it could not be opened.

With an embedded index the process holds the index's writer lock for its whole life (a `python -m ingest`
beside it is refused, naming it), verifies the index when it opens it, and serves the kept keyword index.
Opening never fails the process: the failure is kept (:attr:`IndexService.failure`), every caller of
:meth:`IndexService.require` gets it as a :class:`StoreError`, and the next caller after ``RETRY_SECONDS`` tries
again.  The other services (answers, documents, health) are built on this one.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from assistant.service import Assistant
from ingest.pipeline import writer_lock
from settings import Settings
from vectorstore.chroma.maintenance import check, clean
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import load_embeddings
from vectorstore.errors import IndexDamagedError, IndexPreparingError, StoreError
from vectorstore.index import open_store
from webapp import texts

log = logging.getLogger("webapp")
RETRY_SECONDS = 5.0  # a failed start (Chroma away, index busy) is retried by the next request after this long


class IndexService:
    """Loads the store and the assistant once; never fails to start (the error is kept instead, and retried)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.corpus_dir = Path(settings.ingest.corpus_dir)
        self.assistant: Assistant | None = None
        self.failure: StoreError | None = None  # why the index is not open (its message is for the log)
        self.on_opened: Callable[[ChunkStore], None] = lambda store: None  # the documents service's hook
        self._lock_held: AbstractContextManager[object] | None = None
        self._load_lock = threading.Lock()
        self._last_attempt = 0.0

    @property
    def damaged(self) -> bool:
        return isinstance(self.failure, IndexDamagedError)

    def open(self) -> None:
        self._last_attempt = time.monotonic()
        try:
            if self._lock_held is None:
                lock = writer_lock(self.settings)
                lock.__enter__()  # held for the life of the process: it is this index's writer
                self._lock_held = lock
            # create=True: a missing index becomes an empty collection, so the page can start and accept uploads.
            store = open_store(self.settings, load_embeddings(self.settings), create=True)
            self._verify(store)
            self.assistant = Assistant(self.settings, store=store)
            # the keyword index is updated (and, the first time, built) in the background from now on
            self.assistant.retriever.lexical.serve(store, self.settings.store.lexical_poll_seconds)
            self.failure = None
            self.on_opened(store)
        except IndexDamagedError as exc:
            self.failure = exc
            log.error("index damaged: %s", exc)
        except StoreError as exc:
            self.failure = exc
            log.error("index unavailable: %s", exc)
        except Exception as exc:  # noqa: BLE001 - e.g. an embedding model that cannot be loaded: report it on the page
            self.failure = StoreError(f"{type(exc).__name__}: {exc}")
            log.exception("the assistant could not be loaded")

    def _verify(self, store: ChunkStore) -> None:
        """Start-up check: unreadable segments stop the service with a message; leftovers of interrupted writes are
        cleaned."""
        result = check(store)
        if result.damaged:
            raise IndexDamagedError(self.settings.store.index_dir, result.damaged)
        if not result.ok:
            log.warning("index check: %s; cleaning up", "; ".join(result.problems()))
            clean(store, result)

    def require(self) -> Assistant:
        """The assistant, or the StoreError that keeps it closed (retried after ``RETRY_SECONDS``)."""
        if self.assistant is None and not self.damaged and time.monotonic() - self._last_attempt > RETRY_SECONDS:
            with self._load_lock:
                if self.assistant is None:
                    self.open()
        if self.assistant is None:
            raise self.failure or StoreError(texts.ERR_INDEX_UNAVAILABLE)
        return self.assistant

    @property
    def store(self) -> ChunkStore:
        return self.require().store

    @property
    def loaded(self) -> bool:
        return self.assistant is not None

    def chunk_count(self) -> int:
        return self.assistant.store.count() if self.assistant else 0

    def ready(self) -> bool:
        try:
            return self.chunk_count() > 0
        except Exception:  # a Chroma server that went away
            return False

    def warm_up(self) -> None:
        if not self.ready():
            return
        started = time.perf_counter()
        try:
            self.require().warm_up()
        except IndexPreparingError as exc:  # a first build of the keyword index: questions get 503 until it is done
            log.warning("%s", exc)
            return
        except StoreError as exc:  # damaged segments found by the first full read: report, do not crash the start
            self.failure, self.assistant = exc, None
            log.error("warm-up failed: %s", exc)
            return
        log.info("warmed up in %.1fs", time.perf_counter() - started)

    def close(self) -> None:
        if self._lock_held is not None:
            self._lock_held.__exit__(None, None, None)
            self._lock_held = None
