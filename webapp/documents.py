"""The documents of the index: list, upload, delete, re-index, for the API and the page alike.

Every write goes through the ingest pipeline's own entry points (:class:`ingest.pipeline.Ingestor`: ``ingest``,
``remove``, ``plan``, ``embed_pending``) on the index service's store, one at a time (the writer lock of this
service); the BM25 side follows through the collection revision.  Phase 1 (chunks written, searchable by
keywords) happens in the request; phase 2 (the embeddings for meaning search) in the background embedder.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ingest.pipeline import Ingestor, IngestPlan, IngestReport, discover
from vectorstore.chroma.store import ChunkStore
from vectorstore.records import DocumentInfo, Provenance, doc_id_for
from webapp import texts
from webapp.embedder import BackgroundEmbedder
from webapp.errors import UnknownDocument
from webapp.index import IndexService
from webapp.types import EmbedderProgress, UploadResult, UploadStatus
from webapp.uploads import UploadError, check_name, save_stream, target_path, too_large

log = logging.getLogger("webapp")


class DocumentService:
    def __init__(self, index: IndexService) -> None:
        self.index = index
        self.settings = index.settings
        self.corpus_dir = index.corpus_dir
        self._write_lock = threading.Lock()
        self.embedder = BackgroundEmbedder(self._embed_pending, self._pending_count, self._compact_if_needed)
        index.on_opened = self._opened

    def _opened(self, store: ChunkStore) -> None:
        if store.has_pending():
            self.embedder.kick()  # an interrupted run's chunks

    @property
    def embedding(self) -> EmbedderProgress:
        return self.embedder.progress

    # --- reading -----------------------------------------------------------------------------------------
    def all_documents(self) -> list[DocumentInfo]:
        return self.index.store.documents()

    def document(self, doc_id: str) -> DocumentInfo:
        for d in self.all_documents():
            if d.doc_id == doc_id:
                return d
        raise UnknownDocument(doc_id)

    # --- the background embedder's work ----------------------------------------------------------------------
    def _pending_count(self) -> int:
        return len(self.index.store.pending())

    def _embed_pending(self, step: Callable[[int], None]) -> int:
        return self._ingestor().embed_pending(progress=step)

    def _compact_if_needed(self) -> None:
        with self._write_lock:
            self._ingestor().compact_if_needed()

    def _ingestor(self) -> Ingestor:
        return Ingestor(self.settings, store=self.index.store, show_progress=False)

    # --- writing --------------------------------------------------------------------------------------------
    def upload(self, filename: str | None, source: BinaryIO, actor: str = "") -> UploadResult:
        """Store one uploaded file in the corpus folder and index it (searchable by keywords when this returns).

        Raises UploadError (415 unsupported type, 413 too large, 422 unreadable,
        400 bad name) and StoreError; on failure the corpus folder is left as it was."""
        self.index.require()
        name = check_name(filename)
        target_path(self.corpus_dir, name)
        return self.commit_upload(
            name, save_stream(source, self.corpus_dir, self.settings.ingest.max_upload_bytes), actor
        )

    def commit_upload(self, name: str, tmp: Path, actor: str = "") -> UploadResult:
        """Move a received temporary file into place and index it; the file is removed again if it is refused."""
        try:
            self.index.require()
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
        self.index.require()
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
