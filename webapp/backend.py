"""The one object per web process: the assistant, its store, and the document operations.

The web page and the HTTP API both go through :class:`Backend`, so the index
and the embedding model are loaded once, and every write (upload, delete,
re-index) uses the assistant's own store; the BM25 index follows through the
collection revision.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator

from assistant import texts
from assistant.response import AssistantResponse
from assistant.service import Assistant
from ingest.pipeline import Ingestor, IngestReport, discover
from vectorstore.embeddings import load_embeddings
from vectorstore.errors import IndexMissingError, StoreError
from vectorstore.records import DocumentInfo, doc_id_for
from vectorstore.settings import Settings
from vectorstore.store import ChunkStore
from webapp.uploads import UploadError, check_suffix, human_size, sanitize_filename, save_stream, target_path

log = logging.getLogger("webapp")


class UnknownDocument(KeyError):
    def __init__(self, doc_id: str) -> None:
        super().__init__(doc_id)
        self.message = texts.ERR_UNKNOWN_DOCUMENT.format(doc_id=doc_id)


@dataclass
class UploadResult:
    name: str  # the sanitised file name in the corpus folder
    status: str  # "added" | "updated" | "unchanged"
    document: DocumentInfo


ProgressFn = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


def document_dict(d: DocumentInfo) -> dict[str, Any]:
    return {"doc_id": d.doc_id, "source": d.source, "title": d.title, "chunks": d.chunks, "ingested_at": d.ingested_at}


class Backend:
    """Loads the store and the assistant once; never fails to start (the error is reported instead)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.corpus_dir = Path(settings.corpus_dir)
        self.assistant: Assistant | None = None
        self.error: str | None = None
        self._write_lock = threading.Lock()
        try:
            # create=True: a missing index becomes an empty collection, so the page can start and accept uploads.
            store = ChunkStore(settings, load_embeddings(settings), create=True)
            self.assistant = Assistant(settings, store=store)
        except StoreError as exc:
            self.error = str(exc)
            log.error("index unavailable: %s", exc)
        except Exception as exc:  # noqa: BLE001 - e.g. an embedding model that cannot be loaded: report it on the page
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("the assistant could not be loaded")

    # --- state ----------------------------------------------------------------
    @property
    def answer_mode(self) -> str:
        """'llm' when an LLM endpoint is configured (answers verified, extractive fallback), else 'extractive'."""
        return "llm" if self.settings.llm_base_url else "extractive"

    def _require(self) -> Assistant:
        if self.assistant is None:
            raise StoreError(self.error or "index unavailable")
        return self.assistant

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
        if self.ready():
            started = time.perf_counter()
            self._require().warm_up()
            log.info("warmed up in %.1fs", time.perf_counter() - started)

    def health(self, documents: list[DocumentInfo] | None = None) -> dict[str, Any]:
        """``documents``: the caller's fresh list, so the collection's metadata is read once."""
        info: dict[str, Any] = {
            "status": "ok",
            "ready": False,
            "documents": 0,
            "chunks": 0,
            "embedding_model": None,
            "answer_mode": self.answer_mode,
            "index_dir": str(self.settings.index_dir),
            "corpus_dir": str(self.corpus_dir),
            "message": None,
        }
        if self.assistant is None:
            return info | {"status": "error", "message": self.error}
        info["embedding_model"] = self.assistant.store.embeddings.model_id
        try:
            info["chunks"] = self.assistant.store.count()
            if info["chunks"]:
                info["documents"] = len(documents if documents is not None else self.assistant.store.documents())
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            return info | {"status": "error", "message": str(exc)}
        info["ready"] = info["chunks"] > 0
        if not info["ready"]:
            info |= {"status": "index_missing", "message": str(IndexMissingError(self.settings.index_dir))}
        return info

    # --- answering ---------------------------------------------------------------
    def ask(self, question: Any, history: Any = None, id: str | None = None) -> AssistantResponse:
        """InvalidRequest for bad input, StoreError (IndexMissingError) when there is nothing to search."""
        return self._require().ask(question, history, id=id)

    def stream(self, question: Any, history: Any = None, id: str | None = None) -> Iterator[str | AssistantResponse]:
        """Text pieces, then the final response; bad input and a missing index raise before the first piece."""
        return self._require().stream(question, history, id=id)

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

    def _embed(self, ingestor: Ingestor, progress: ProgressFn | None) -> None:
        """Phase 2 of ingesting: embeddings for the chunks just written (they are BM25-searchable already)."""
        if progress is None:
            ingestor.embed_pending()
            return
        total, done = len(self.store.pending()), 0
        progress(0, total)

        def step(n: int) -> None:
            nonlocal done
            done += n
            progress(min(done, total), total)

        ingestor.embed_pending(progress=step)

    def upload(self, filename: str | None, source: BinaryIO, progress: ProgressFn | None = None) -> UploadResult:
        """Store one uploaded file in the corpus folder and index it.

        Raises UploadError (415 unsupported type, 413 too large, 422 unreadable,
        400 bad name) and StoreError; on failure the corpus folder is left as it was.
        """
        store = self.store
        if not filename or not filename.strip():
            raise UploadError(400, texts.ERR_UPLOAD_EMPTY_NAME)
        name = sanitize_filename(filename)
        check_suffix(name)
        target = target_path(self.corpus_dir, name)
        tmp = save_stream(source, self.corpus_dir, self.settings.max_upload_bytes)
        with self._write_lock:
            ingestor = Ingestor(self.settings, store=store, show_progress=False)
            report = IngestReport()
            backup = None
            try:  # phase 1: the file in place and its chunks written; undone on failure
                if target.exists():
                    backup = target.with_name(f".{target.name}.bak")
                    os.replace(target, backup)
                os.replace(tmp, target)
                ingestor.write([target], report)
                if report.skipped:
                    raise UploadError(422, texts.ERR_UPLOAD_UNREADABLE.format(reason=report.skipped[0][1]))
            except BaseException:
                tmp.unlink(missing_ok=True)
                if backup is not None:
                    os.replace(backup, target)
                else:
                    target.unlink(missing_ok=True)
                raise
            if backup is not None:
                backup.unlink(missing_ok=True)
            self._embed(ingestor, progress)  # phase 2: meaning search (an interrupted run is finished by the next one)
        status = "added" if report.added else "updated" if report.updated else "unchanged"
        log.info("upload %r stored as %s: %s", filename, target, status)
        return UploadResult(name, status, self.document(doc_id_for(name)))

    def upload_path(self, path: str | Path, filename: str | None = None, progress: ProgressFn | None = None) -> UploadResult:
        """Upload from a file on disk (the page's upload widget hands over temporary files)."""
        path = Path(path)
        name = filename or path.name
        check_suffix(sanitize_filename(name))  # 415 before reading anything
        if path.stat().st_size > self.settings.max_upload_bytes:
            raise UploadError(413, texts.ERR_UPLOAD_TOO_LARGE.format(limit=human_size(self.settings.max_upload_bytes)))
        with path.open("rb") as fh:
            return self.upload(name, fh, progress)

    def delete(self, doc_id: str) -> DocumentInfo:
        """Remove a document from the index and its file from the corpus folder (or re-indexing would bring it back)."""
        with self._write_lock:
            doc = self.document(doc_id)
            self.store.delete_documents([doc_id])
            for path in self._corpus_files_named(doc.source):
                path.unlink(missing_ok=True)
        log.info("deleted %s (%s)", doc.doc_id, doc.source)
        return doc

    def _corpus_files_named(self, name: str) -> list[Path]:
        root = self.corpus_dir.resolve()
        if not root.is_dir():
            return []
        return [p for p in discover([root]) if p.name == name and p.resolve().is_relative_to(root)]

    def reindex(self, progress: ProgressFn | None = None) -> IngestReport:
        """Bring the index in line with the corpus folder: new and changed files are indexed, vanished ones removed."""
        self._require()
        started = time.perf_counter()
        self.corpus_dir.mkdir(parents=True, exist_ok=True)
        with self._write_lock:
            files = discover([self.corpus_dir])
            report = IngestReport()
            ingestor = Ingestor(self.settings, store=self.store, show_progress=False)
            ingestor.write(files, report)
            ingestor.prune(files, report)
            self._embed(ingestor, progress)
        report.seconds = time.perf_counter() - started
        log.info("re-index: %s", report.summary())
        return report
