"""Files → chunks → Chroma, incrementally (content hashes decide what changes).

Each file is parsed and chunked in a worker process with memory and time limits
(:mod:`ingest.worker`); each document is committed in the store's registry with
its provenance once all its chunks are written.
"""
from __future__ import annotations

import getpass
import hashlib
import socket
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ingest import texts
from ingest.indicators import INDICATORS_VERSION, extract_indicators
from ingest.limits import ParseLimits, UnreadableFileError
from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.planted import confirm, planted_instructions
from ingest.progress import progress_bar
from ingest.settings import ChunkingParams, IngestConfig
from ingest.worker import ParsedDocument, ParseJob, worker_for
from vectorstore.chroma.client import drop_collection
from vectorstore.chroma.maintenance import check, clean, compact
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import load_embeddings
from vectorstore.errors import IndexDamagedError, IndexMissingError
from vectorstore.index import open_store
from vectorstore.lock import IndexLock
from vectorstore.records import Chunk, DocumentInfo, Indicator, Provenance, doc_id_for

CHUNKER_VERSION = "8"  # bump when chunking changes (or which chunks are flagged), so every document is re-chunked
BUNDLED_CORPUS = (Path(__file__).resolve().parent.parent / "data" / "corpus").resolve()
# The reports the repository ships, byte for byte (data/CORPUS_NOTES.md): the official documents, which answers and
# fact-checks put first.  Only these are "bundled": an upload stored in the same folder (the default corpus folder)
# never becomes official, whoever ingests that folder later.  SHA-256 of each file.
BUNDLED_REPORTS = {
    "erqi-plan-2021-2026.txt": "4c722c298d070db0173f5b663927d6e2a3b1732565f6fdb85fc9622875c9864d",
    "erqi-review-2016-2021.txt": "0244e1751e1ca859a4dfb032fff6491bd26a685b0d4ec949c7e5fc262c69a9eb",
}
TEMP_UPLOAD_PREFIX = ".upload-"  # the server's uploads in progress: not documents, never listed
# Documents are written together up to this many chunks: a Chroma call costs ~30 ms whatever its size.
WRITE_BATCH_CHUNKS = 500


class IngestError(Exception):
    """A problem with the request itself (e.g. a path that does not exist): nothing was written."""


@dataclass(frozen=True)
class IngestPlan:
    """The file names an ingest would add or update, and the documents it would remove."""

    added: list[str]
    updated: list[str]
    removed: list[str]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    too_large: set[str] = field(default_factory=set)  # the skipped files refused for a size limit (HTTP 413, not 422)
    suspicious: list[tuple[str, int, str]] = field(default_factory=list)  # (file, flagged chunks, first planted phrase)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (file, what the user should know)
    repaired: list[str] = field(default_factory=list)  # what the start-of-run check fixed
    chunks_written: int = 0
    indicators: int = 0  # indicators found in the documents written
    seconds: float = 0.0

    def summary(self) -> str:
        flagged = f", suspicious {len(self.suspicious)}" if self.suspicious else ""
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, skipped {len(self.skipped)}{flagged};"
            f" {self.chunks_written} chunks written in {self.seconds:.1f}s, {self.indicators} indicators"
        )


def discover(paths: Iterable[Path], report: IngestReport | None = None) -> list[Path]:
    """Expand folders recursively; refuse paths that do not exist.  Hidden files (and files in
    hidden folders) are not documents: they are listed in ``report.skipped`` with that reason."""
    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise IngestError(texts.PATH_NOT_FOUND.format(paths=", ".join(missing)))
    files: list[Path] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            continue
        for p in sorted(p for p in path.rglob("*") if p.is_file()):
            if not any(part.startswith(".") for part in p.relative_to(path).parts):
                files.append(p)
            elif report is not None and not p.name.startswith(TEMP_UPLOAD_PREFIX):
                report.skipped.append((str(p), texts.SKIP_HIDDEN))
    return list(dict.fromkeys(files))


def is_bundled(path: Path) -> bool:
    """Whether ``path`` is one of the reports the repository ships, unchanged, in data/corpus."""
    expected = BUNDLED_REPORTS.get(path.name)
    try:
        return (
            expected is not None
            and path.resolve().parent == BUNDLED_CORPUS
            and hashlib.sha256(path.read_bytes()).hexdigest() == expected
        )
    except OSError:
        return False


def cli_provenance(path: Path) -> Provenance:
    """`python -m ingest`: the bundled reports, or a file of the operator's (any other file of data/corpus too)."""
    folder = str(path.resolve().parent)
    origin = "bundled" if is_bundled(path) else "cli"
    try:
        who = f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):
        who = socket.gethostname()
    return Provenance(origin, who, folder)  # type: ignore[arg-type]


def _fingerprint(raw: bytes, params: ChunkingParams) -> str:
    h = hashlib.sha1(raw)
    h.update(f"|{CHUNKER_VERSION}|{params.fingerprint()}|indicators {INDICATORS_VERSION}".encode())
    return h.hexdigest()[:20]


class Ingestor:
    """Owns the store for one ingest run (or for a long-lived UI process)."""

    def __init__(
        self, settings: IngestConfig, store: ChunkStore | None = None, show_progress: bool = True, create: bool = True
    ) -> None:
        self.settings = settings
        self.params = settings.chunking
        self.limits = ParseLimits.from_settings(settings.ingest)
        self.store = store or open_store(settings, load_embeddings(settings), create=create)
        self.show_progress = show_progress

    def ingest(
        self,
        files: list[Path],
        report: IngestReport,
        dense: bool = True,
        provenance: Callable[[Path], Provenance] = cli_provenance,
        prune: bool = False,
        folder: Path | None = None,
    ) -> None:
        """Phase 1 for every file (text searchable by BM25 at once), then phase 2 (embeddings); with ``prune``, the
        documents whose files are not among ``files`` are removed (only those read from ``folder``, when given).

        With ``dense=False`` the caller runs :meth:`embed_pending` itself, e.g. in the background."""
        self.write(files, report, provenance)
        if dense:
            self.embed_pending()
        if prune:
            self.prune(files, report, folder)

    def plan(self, files: list[Path], folder: Path) -> IngestPlan:
        """What :meth:`ingest` of ``files`` with ``prune`` and ``folder`` would add, update and remove (nothing is
        written)."""
        committed = {d.doc_id: d for d in self.store.documents()}
        added, updated = [], []
        for f in files:
            known = committed.get(doc_id_for(f.name))
            if known is None:
                added.append(f.name)
            elif f.stat().st_size <= self.limits.max_bytes and known.doc_hash != _fingerprint(
                f.read_bytes(), self.params
            ):
                updated.append(f.name)
        names = {f.name for f in files}
        own = str(folder.resolve())
        removed = [d.source for d in committed.values() if d.source not in names and d.provenance.folder == own]
        return IngestPlan(added, updated, removed)

    def check_index(self, report: IngestReport) -> None:
        """Refuse a damaged index (IndexDamagedError: run --repair); clean up what an interrupted run left."""
        result = check(self.store)
        if result.damaged:
            raise IndexDamagedError(self.settings.store.index_dir, result.damaged)
        if not result.ok:
            clean(self.store, result)
            report.repaired += result.problems()

    def embed_pending(self, progress: Callable[[int], None] | None = None) -> int:
        """Embed every chunk still waiting for its vector (this run's and any interrupted run's)."""
        total = len(self.store.pending())
        if not total:
            return 0
        bar = progress_bar(total, texts.PROGRESS_EMBEDDINGS, "chunk", self.show_progress)

        def step(n: int) -> None:
            bar.update(n)
            if progress:
                progress(n)

        try:
            return self.store.embed_pending(progress=step)
        finally:
            bar.close()

    def write(
        self, files: list[Path], report: IngestReport, provenance: Callable[[Path], Provenance] = cli_provenance
    ) -> None:
        names = [f.name for f in files]
        duplicates = {n for n in names if names.count(n) > 1}
        bar = progress_bar(len(files), texts.PROGRESS_FILES, "file", self.show_progress)
        hashes = self.store.document_hashes(doc_id_for(n) for n in names)  # a few reads, not one query per file
        pending: dict[str, list[Chunk]] = {}
        infos: dict[str, DocumentInfo] = {}
        found: dict[str, list[Indicator]] = {}
        size = 0
        try:
            for path in files:
                bar.set_postfix_str(path.name[:30])
                if path.name in duplicates:
                    report.skipped.append((str(path), texts.SKIP_SAME_NAME))
                elif prepared := self._prepare(path, hashes, report, provenance):
                    pending[prepared.doc_id] = prepared.chunks
                    infos[prepared.doc_id] = prepared.info
                    found[prepared.doc_id] = prepared.indicators
                    size += len(prepared.chunks)
                bar.update()
                if size >= WRITE_BATCH_CHUNKS:
                    self.store.write_documents(pending, infos, found)
                    pending, infos, found, size = {}, {}, {}, 0
        finally:
            bar.close()
        self.store.write_documents(pending, infos, found)

    def _prepare(
        self, path: Path, hashes: dict[str, str], report: IngestReport, provenance: Callable[[Path], Provenance]
    ) -> _Prepared | None:
        """A new or changed file's doc id, chunks and registry record; None (and a report line) otherwise.

        ``hashes``: the committed content fingerprint of every indexed document."""
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            report.skipped.append((str(path), texts.SKIP_UNSUPPORTED.format(suffix=path.suffix)))
            return None
        doc_id = doc_id_for(path.name)
        try:
            if path.stat().st_size > self.limits.max_bytes:
                report.skipped.append(
                    (str(path), texts.FILE_TOO_LARGE.format(size=path.stat().st_size, limit=self.limits.max_bytes))
                )
                report.too_large.add(str(path))
                return None
            fingerprint = _fingerprint(path.read_bytes(), self.params)
        except OSError as exc:
            report.skipped.append((str(path), texts.SKIP_CANNOT_READ.format(reason=exc.strerror or exc)))
            return None
        previous = hashes.get(doc_id)
        if previous == fingerprint:
            report.unchanged.append(path.name)
            return None
        now = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            parsed = worker_for(self.limits).parse(
                ParseJob(str(path), path.name, self.params, self.limits, fingerprint, now)
            )
        except UnreadableFileError as exc:
            report.skipped.append((str(path), str(exc)))
            if exc.status == 413:
                report.too_large.add(str(path))
            return None
        if not parsed.chunks:
            report.skipped.append((str(path), texts.SKIP_NO_TEXT))
            return None
        parsed = replace(parsed, chunks=confirm(parsed.chunks))  # the planted-text detector's second stage
        self._note(path, parsed, report)
        (report.updated if previous else report.added).append(path.name)
        report.chunks_written += len(parsed.chunks)
        first = parsed.chunks[0]
        origin = provenance(path)
        if (origin.origin == "bundled") != is_bundled(path):  # a re-index of data/corpus keeps the reports official
            origin = replace(origin, origin="bundled" if is_bundled(path) else "cli")
        info = DocumentInfo(doc_id, path.name, first.title, len(parsed.chunks), fingerprint, now, origin,
                            sum(c.suspicious for c in parsed.chunks))
        indicators = extract_indicators(parsed.chunks, limit=self.settings.ingest.max_document_indicators)
        report.indicators += len(indicators)
        return _Prepared(doc_id, parsed.chunks, info, indicators)

    @staticmethod
    def _note(path: Path, parsed: ParsedDocument, report: IngestReport) -> None:
        report.warnings += [(path.name, w) for w in parsed.warnings]
        flagged = [c for c in parsed.chunks if c.suspicious]
        if flagged:
            phrases = planted_instructions(f"{flagged[0].section}\n{flagged[0].text}")
            report.suspicious.append((path.name, len(flagged), phrases[0] if phrases else flagged[0].text[:40]))

    def prune(self, files: list[Path], report: IngestReport, folder: Path | None = None) -> None:
        """Remove documents whose files are not among ``files``; with ``folder``, only documents read from that
        folder."""
        present = {doc_id_for(f.name) for f in files}
        own = str(folder.resolve()) if folder is not None else None
        gone = [
            d for d in self.store.documents() if d.doc_id not in present and (own is None or d.provenance.folder == own)
        ]
        self.store.delete_documents(d.doc_id for d in gone)
        report.removed += [d.source for d in gone]

    def remove(self, names: list[str], report: IngestReport) -> None:
        known = {d.source: d.doc_id for d in self.store.documents()} | {
            d.doc_id: d.doc_id for d in self.store.documents()
        }
        unknown = [n for n in names if n not in known]
        if unknown:
            raise IngestError(texts.NOT_IN_INDEX.format(names=", ".join(unknown)))
        self.store.delete_documents(known[n] for n in names)
        report.removed += names

    def compact_if_needed(self) -> bool:
        """Rebuild the collection without its deleted vectors once they outnumber the live ones."""
        if self.store.needs_compaction():
            compact(self.store)
            return True
        return False


@dataclass
class _Prepared:
    doc_id: str
    chunks: list[Chunk]
    info: DocumentInfo
    indicators: list[Indicator]


def writer_lock(settings: IngestConfig, wait: float = 0.0) -> AbstractContextManager[object]:
    """The index's writer lock (an embedded index only: a Chroma server serialises its writers itself)."""
    return nullcontext() if settings.store.server_mode else IndexLock(settings.store.index_dir, wait)


def run_ingest(
    settings: IngestConfig,
    paths: list[Path],
    prune: bool = False,
    remove: list[str] | None = None,
    rebuild: bool = False,
    show_progress: bool = True,
    wait: float = 0.0,
) -> IngestReport:
    """The whole `python -m ingest` run; raises IngestError before writing anything on bad requests,
    IndexBusyError when another process writes the index, IndexDamagedError when it needs --repair."""
    started = time.perf_counter()
    report = IngestReport()
    files = discover(paths, report) if not remove else []
    if remove and not settings.store.server_mode and not (Path(settings.store.index_dir) / "chroma.sqlite3").exists():
        raise IndexMissingError(settings.store.index_dir)
    with writer_lock(settings, wait):
        if rebuild:
            drop_collection(settings)
        ingestor = Ingestor(settings, show_progress=show_progress, create=not remove)
        ingestor.check_index(report)
        if remove:
            ingestor.remove(remove, report)
        else:
            ingestor.ingest(files, report, prune=prune)
        ingestor.compact_if_needed()
    report.seconds = time.perf_counter() - started
    return report
