"""The one object per web process: the assistant, its store, and the document operations.

The web page and the HTTP API both go through :class:`Backend`, so the index
and the embedding model are loaded once, and every write (upload, delete,
re-index) goes through the ingest pipeline's own entry points
(:class:`ingest.pipeline.Ingestor`: ``ingest``, ``remove``, ``plan``,
``embed_pending``) on the assistant's own store; the BM25 index follows through
the collection revision.  With an embedded index the process holds the index's
writer lock for its whole life (a `python -m ingest` beside it is refused, naming
it), verifies the index when it opens it, and embeds new documents in the
background.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal

from assistant.response import AssistantResponse
from assistant.service import Assistant
from assistant.validation import clean_history
from ingest.pipeline import Ingestor, IngestPlan, IngestReport, discover, writer_lock
from settings import Settings
from vectorstore.chroma.maintenance import check, clean
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import load_embeddings
from vectorstore.errors import IndexDamagedError, IndexMissingError, IndexPreparingError, StoreError
from vectorstore.index import open_store
from vectorstore.records import DocumentInfo, Provenance, doc_id_for
from webapp import texts
from webapp.embedder import BackgroundEmbedder, Progress
from webapp.uploads import UploadError, check_name, save_stream, target_path, too_large

log = logging.getLogger("webapp")
RETRY_SECONDS = 5.0  # a failed start (Chroma away, index busy) is retried by the next request after this long


class UnknownDocument(KeyError):
    def __init__(self, doc_id: str) -> None:
        super().__init__(doc_id)
        self.message = texts.ERR_UNKNOWN_DOCUMENT.format(doc_id=doc_id)


UploadStatus = Literal["added", "updated", "unchanged"]


@dataclass
class UploadResult:
    name: str  # the sanitised file name in the corpus folder
    status: UploadStatus
    document: DocumentInfo
    suspicious: list[tuple[int, str]] = field(default_factory=list)  # (flagged chunks, first planted phrase)
    warnings: list[str] = field(default_factory=list)


class Backend:
    """Loads the store and the assistant once; never fails to start (the error is reported instead, and retried)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.corpus_dir = Path(settings.ingest.corpus_dir)
        self.assistant: Assistant | None = None
        self.error: str | None = None
        self.damaged = False
        self._lock_held: AbstractContextManager[object] | None = None
        self._write_lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._last_attempt = 0.0
        self.embedder = BackgroundEmbedder(self._embed_pending, self._pending_count, self._compact_if_needed)
        self._load()

    # --- start-up -------------------------------------------------------------------------------
    def _load(self) -> None:
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
            self.error = None
            if store.has_pending():
                self.embedder.kick()  # an interrupted run's chunks
        except IndexDamagedError as exc:
            self.error, self.damaged = str(exc), True
            log.error("index damaged: %s", exc)
        except StoreError as exc:
            self.error = str(exc)
            log.error("index unavailable: %s", exc)
        except Exception as exc:  # noqa: BLE001 - e.g. an embedding model that cannot be loaded: report it on the page
            self.error = f"{type(exc).__name__}: {exc}"
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

    def _require(self) -> Assistant:
        if self.assistant is None and not self.damaged and time.monotonic() - self._last_attempt > RETRY_SECONDS:
            with self._load_lock:
                if self.assistant is None:
                    self._load()
        if self.assistant is None:
            raise StoreError(self.error or texts.ERR_INDEX_UNAVAILABLE)
        return self.assistant

    def close(self) -> None:
        if self._lock_held is not None:
            self._lock_held.__exit__(None, None, None)
            self._lock_held = None

    # --- state ----------------------------------------------------------------
    @property
    def answer_mode(self) -> str:
        """'llm' when an LLM endpoint is configured (answers verified, extractive fallback), else 'extractive'."""
        return "llm" if self.settings.llm.base_url else "extractive"

    @property
    def store(self) -> ChunkStore:
        return self._require().store

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
            self._require().warm_up()
        except IndexPreparingError as exc:  # a first build of the keyword index: questions get 503 until it is done
            log.warning("%s", exc)
            return
        except StoreError as exc:  # damaged segments found by the first full read: report, do not crash the start
            self.error, self.assistant, self.damaged = str(exc), None, isinstance(exc, IndexDamagedError)
            log.error("warm-up failed: %s", exc)
            return
        log.info("warmed up in %.1fs", time.perf_counter() - started)

    def health(self, documents: list[DocumentInfo] | None = None, verify: bool = False) -> dict[str, Any]:
        """``documents``: the caller's fresh list, so the registry is read once; ``verify``: also read a stored
        vector."""
        progress = self.embedder.progress
        info: dict[str, Any] = {
            "status": "ok",
            "ready": False,
            "documents": 0,
            "chunks": 0,
            "embedding_model": None,
            "answer_mode": self.answer_mode,
            "index_dir": str(self.settings.store.index_dir),
            "corpus_dir": str(self.corpus_dir),
            "message": None,
            "problems": [],
            "embedding": {"done": progress.done, "total": progress.total, "running": progress.running},
            "writes": "token" if self.settings.web.admin_token else "loopback",
        }
        try:
            assistant = self._require()
        except StoreError:
            return info | {"status": "damaged" if self.damaged else "error", "message": self.error}
        info["embedding_model"] = assistant.store.embeddings.model_id
        info["keyword_index"] = assistant.retriever.lexical.status()
        try:
            info["chunks"] = assistant.store.count()
            if info["chunks"]:
                info["documents"] = len(documents if documents is not None else assistant.store.documents())
            if verify:
                result = check(assistant.store)
                info["problems"] = result.problems()
                if result.damaged:
                    return info | {
                        "status": "damaged",
                        "message": str(IndexDamagedError(self.settings.store.index_dir, result.damaged)),
                    }
        except StoreError as exc:
            return info | {"status": "damaged" if isinstance(exc, IndexDamagedError) else "error", "message": str(exc)}
        info["ready"] = info["chunks"] > 0
        if not info["ready"]:
            info |= {"status": "index_missing", "message": str(IndexMissingError(self.settings.store.index_dir))}
        return info

    # --- answering ---------------------------------------------------------------
    def _history(self, history: Any) -> list[dict[str, str]] | None:
        """The history within this server's limits (InvalidRequest otherwise), before anything is computed."""
        s = self.settings
        return None if history is None else clean_history(history, s.answering)

    def ask(self, question: Any, history: Any = None, id: str | None = None) -> AssistantResponse:
        """InvalidRequest for bad input, StoreError (IndexMissingError) when there is nothing to search."""
        return self._require().ask(question, self._history(history), id=id)

    def stream(self, question: Any, history: Any = None, id: str | None = None) -> Iterator[str | AssistantResponse]:
        """Text pieces, then the final response; bad input and a missing index raise before the first piece."""
        return self._require().stream(question, self._history(history), id=id)

    def check(self, claim: Any, id: str | None = None) -> AssistantResponse:
        """Fact-check a claim: the response has ``verdict`` (supported / contradicted / not_found) and its evidence."""
        return self._require().check(claim, id=id)

    # --- documents -----------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        return self.store.documents()

    def document(self, doc_id: str) -> DocumentInfo:
        for d in self.documents():
            if d.doc_id == doc_id:
                return d
        raise UnknownDocument(doc_id)

    def _pending_count(self) -> int:
        return len(self.store.pending())

    def _embed_pending(self, step: Callable[[int], None]) -> int:
        return self._ingestor().embed_pending(progress=step)

    def _compact_if_needed(self) -> None:
        with self._write_lock:
            self._ingestor().compact_if_needed()

    @property
    def embedding(self) -> Progress:
        return self.embedder.progress

    def _ingestor(self) -> Ingestor:
        return Ingestor(self.settings, store=self.store, show_progress=False)

    def upload(self, filename: str | None, source: BinaryIO, actor: str = "") -> UploadResult:
        """Store one uploaded file in the corpus folder and index it (searchable by keywords when this returns).

        Raises UploadError (415 unsupported type, 413 too large, 422 unreadable,
        400 bad name) and StoreError; on failure the corpus folder is left as it was."""
        self._require()
        name = check_name(filename)
        target_path(self.corpus_dir, name)
        return self.commit_upload(
            name, save_stream(source, self.corpus_dir, self.settings.ingest.max_upload_bytes), actor
        )

    def commit_upload(self, name: str, tmp: Path, actor: str = "") -> UploadResult:
        """Move a received temporary file into place and index it; the file is removed again if it is refused."""
        try:
            self._require()
            target = target_path(self.corpus_dir, name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        provenance = Provenance("upload", actor, str(target.parent))
        with self._write_lock:
            report = self._place_and_write(tmp, target, provenance)
        self.embedder.kick()  # phase 2 (meaning search) in the background
        status: UploadStatus = "added" if report.added else "updated" if report.updated else "unchanged"
        log.info("upload by %s stored as %s: %s", actor or "?", target, status)
        return UploadResult(name, status, self.document(doc_id_for(name)),
                            [(n, phrase) for _, n, phrase in report.suspicious], [w for _, w in report.warnings])

    def _place_and_write(self, tmp: Path, target: Path, provenance: Provenance) -> IngestReport:
        """Phase 1: the file in place and its chunks written and committed; undone on any failure."""
        report = IngestReport()
        backup = None
        try:
            if target.exists():
                backup = target.with_name(f".{target.name}.bak")
                os.replace(target, backup)
            os.replace(tmp, target)
            self._ingestor().ingest([target], report, dense=False, provenance=lambda _: provenance)
            if report.skipped:
                status = 413 if report.too_large else 422
                raise UploadError(status, texts.ERR_UPLOAD_UNREADABLE.format(reason=report.skipped[0][1]))
        except BaseException:
            tmp.unlink(missing_ok=True)
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
            raise
        if backup is not None:
            backup.unlink(missing_ok=True)
        return report

    def upload_path(self, path: str | Path, filename: str | None = None, actor: str = "") -> UploadResult:
        """Upload from a file on disk (the page's upload widget hands over temporary files)."""
        path = Path(path)
        name = check_name(filename or path.name)  # 415 / 400 before reading anything
        if path.stat().st_size > self.settings.ingest.max_upload_bytes:
            raise too_large(self.settings.ingest.max_upload_bytes)
        with path.open("rb") as fh:
            return self.upload(name, fh, actor)

    def delete(self, doc_id: str) -> DocumentInfo:
        """Remove a document from the index and its file from the corpus folder (or re-indexing would bring it back)."""
        with self._write_lock:
            doc = self.document(doc_id)
            self._ingestor().remove([doc_id], IngestReport())
            for path in self._corpus_files_named(doc.source):
                path.unlink(missing_ok=True)
        log.info("deleted %s (%s)", doc.doc_id, doc.source)
        self.embedder.kick()  # compaction, when deletions have piled up
        return doc

    def _corpus_files_named(self, name: str) -> list[Path]:
        root = self.corpus_dir.resolve()
        if not root.is_dir():
            return []
        return [p for p in discover([root]) if p.name == name and p.resolve().is_relative_to(root)]

    def reindex_plan(self) -> IngestPlan:
        """What :meth:`reindex` would do: files of the corpus folder against the documents read from it."""
        self.corpus_dir.mkdir(parents=True, exist_ok=True)
        files = [f for f in discover([self.corpus_dir]) if f.is_file()]
        return self._ingestor().plan(files, self.corpus_dir)

    def reindex(self) -> IngestReport:
        """Bring the index in line with the corpus folder: new and changed files are indexed, and documents
        read from this folder whose files are gone are removed; documents from anywhere else are kept."""
        self._require()
        started = time.perf_counter()
        self.corpus_dir.mkdir(parents=True, exist_ok=True)
        with self._write_lock:
            report = IngestReport()
            files = discover([self.corpus_dir], report)
            folder = str(self.corpus_dir.resolve())
            self._ingestor().ingest(
                files,
                report,
                dense=False,
                provenance=lambda _: Provenance("folder", "re-index", folder),
                prune=True,
                folder=self.corpus_dir,
            )
        self.embedder.kick()
        report.seconds = time.perf_counter() - started
        log.info("re-index: %s", report.summary())
        return report
