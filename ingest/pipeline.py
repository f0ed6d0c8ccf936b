"""Files → chunks → Chroma, incrementally (content hashes decide what changes)."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from tqdm import tqdm

from ingest.chunker import ChunkingParams, chunk_text
from ingest.loaders import SUPPORTED_SUFFIXES, UnreadableFileError, load_file
from vectorstore.embeddings import load_embeddings
from vectorstore.records import Chunk, doc_id_for
from vectorstore.settings import Settings
from vectorstore.store import ChunkStore, drop_collection

CHUNKER_VERSION = "5"  # bump when chunking changes, so every document is re-chunked
WRITE_BATCH_CHUNKS = 500  # documents are written together up to this many chunks: a Chroma call costs ~30 ms whatever its size


class IngestError(Exception):
    """A problem with the request itself (e.g. a path that does not exist): nothing was written."""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    chunks_written: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, skipped {len(self.skipped)}; {self.chunks_written} chunks written in {self.seconds:.1f}s"
        )


def chunking_params(settings: Settings) -> ChunkingParams:
    return ChunkingParams(settings.chunk_max_chars, settings.chunk_overlap_sentences, settings.heading_max_chars)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand folders (recursively, hidden files skipped); refuse paths that do not exist."""
    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise IngestError(f"路径不存在 / path not found: {', '.join(missing)}")
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def _fingerprint(raw: bytes, params: ChunkingParams) -> str:
    h = hashlib.sha1(raw)
    h.update(f"|{CHUNKER_VERSION}|{params}".encode())
    return h.hexdigest()[:20]


class Ingestor:
    """Owns the store for one ingest run (or for a long-lived UI process)."""

    def __init__(self, settings: Settings, store: ChunkStore | None = None, show_progress: bool = True, create: bool = True) -> None:
        self.settings = settings
        self.params = chunking_params(settings)
        self.store = store or ChunkStore(settings, load_embeddings(settings), create=create)
        self.show_progress = show_progress

    def ingest(self, files: list[Path], report: IngestReport, dense: bool = True) -> None:
        """Phase 1 for every file (text searchable by BM25 at once), then phase 2 (embeddings).

        With ``dense=False`` the caller runs :meth:`embed_pending` itself, e.g. in the background."""
        self.write(files, report)
        if dense:
            self.embed_pending()

    def embed_pending(self, progress: Callable[[int], None] | None = None) -> int:
        """Embed every chunk still waiting for its vector (this run's and any interrupted run's)."""
        total = len(self.store.pending())
        if not total:
            return 0
        with tqdm(total=total, desc="embeddings (dense index)", unit="chunk", disable=not self.show_progress) as bar:
            def step(n: int) -> None:
                bar.update(n)
                if progress:
                    progress(n)
            return self.store.embed_pending(progress=step)

    def write(self, files: list[Path], report: IngestReport) -> None:
        names = [f.name for f in files]
        duplicates = {n for n in names if names.count(n) > 1}
        bar = tqdm(files, desc="files", unit="file", disable=not self.show_progress)
        hashes = self.store.document_hashes(doc_id_for(n) for n in names)  # a few reads, not one query per file
        pending: dict[str, list[Chunk]] = {}
        size = 0
        for path in bar:
            bar.set_postfix_str(path.name[:30])
            if path.name in duplicates:
                report.skipped.append((str(path), "another file with the same name is in this run; rename one"))
                continue
            prepared = self._prepare(path, hashes, report)
            if prepared:
                pending[prepared[0]] = prepared[1]
                size += len(prepared[1])
            if size >= WRITE_BATCH_CHUNKS:
                self.store.write_documents(pending)
                pending, size = {}, 0
        self.store.write_documents(pending)

    def _prepare(self, path: Path, hashes: dict[str, str], report: IngestReport) -> tuple[str, list[Chunk]] | None:
        """A new or changed file's doc id and chunks; None (and a report line) otherwise.

        ``hashes``: the stored content fingerprint of every indexed document."""
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.skipped.append((str(path), f"unsupported file type '{path.suffix}'"))
            return None
        doc_id = doc_id_for(path.name)
        try:
            fingerprint = _fingerprint(path.read_bytes(), self.params)
        except OSError as exc:
            report.skipped.append((str(path), f"cannot read: {exc.strerror or exc}"))
            return None
        previous = hashes.get(doc_id)
        if previous == fingerprint:
            report.unchanged.append(path.name)
            return None
        try:
            loaded = load_file(path, self.settings.max_upload_bytes)
        except UnreadableFileError as exc:
            report.skipped.append((str(path), str(exc)))
            return None
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        chunks = chunk_text(loaded.text, path.name, self.params, loaded.title, fingerprint, now)
        if not chunks:
            report.skipped.append((str(path), "no text to index"))
            return None
        (report.updated if previous else report.added).append(path.name)
        report.chunks_written += len(chunks)
        return doc_id, chunks

    def prune(self, files: list[Path], report: IngestReport) -> None:
        present = {doc_id_for(f.name) for f in files}
        gone = [d for d in self.store.documents() if d.doc_id not in present]
        self.store.delete_documents(d.doc_id for d in gone)
        report.removed += [d.source for d in gone]

    def remove(self, names: list[str], report: IngestReport) -> None:
        known = {d.source: d.doc_id for d in self.store.documents()} | {d.doc_id: d.doc_id for d in self.store.documents()}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise IngestError(f"索引中没有这些文档 / not in the index: {', '.join(unknown)}")
        self.store.delete_documents(known[n] for n in names)
        report.removed += names


def run_ingest(settings: Settings, paths: list[Path], prune: bool = False, remove: list[str] | None = None, rebuild: bool = False, show_progress: bool = True) -> IngestReport:
    """The whole `python -m ingest` run; raises IngestError before writing anything on bad requests."""
    started = time.perf_counter()
    files = discover(paths) if not remove else []
    if rebuild:
        drop_collection(settings)
    report = IngestReport()
    ingestor = Ingestor(settings, show_progress=show_progress, create=not remove)
    if remove:
        ingestor.remove(remove, report)
    else:
        ingestor.ingest(files, report)
        if prune:
            ingestor.prune(files, report)
    report.seconds = time.perf_counter() - started
    return report
