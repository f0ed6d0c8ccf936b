"""`python -m ingest --repair`: rebuild a damaged index from its stored texts or the source files, and compact it.

1. If the index opens and reads, its committed chunks and vectors are copied into
   fresh collections (this also drops the vectors of deleted chunks).
2. If its segment files are damaged, the texts and metadata are read from its
   SQLite file and the vectors from the embedding cache (anything missing is embedded again).
3. If even that fails, the damaged files are moved aside and the index is built anew.
4. Documents that could not be recovered whole are indexed again from their source
   files (the folder recorded in their provenance, or the PATHS given).
"""
from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from chromadb.api.shared_system_client import SharedSystemClient

from ingest import texts
from ingest.pipeline import Ingestor, IngestReport, cli_provenance, discover, writer_lock
from ingest.settings import IngestConfig
from vectorstore.chroma.maintenance import check, live_rows, rebuild, salvage, salvage_indicators, salvageable
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import load_embeddings
from vectorstore.errors import IndexMissingError, StoreError
from vectorstore.index import open_store
from vectorstore.records import DocumentInfo

log = logging.getLogger("ingest")

INDEX_FILES = ("chroma.sqlite3",)


@dataclass
class RepairReport:
    method: str = ""  # "copied" | "salvaged" | "rebuilt from sources"
    kept: int = 0  # documents recovered from the index
    reindexed: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # neither in the index nor among the source files
    ingest: IngestReport = field(default_factory=IngestReport)
    seconds: float = 0.0

    def summary(self) -> str:
        lost = f"; not recoverable (no source file): {', '.join(self.lost)}" if self.lost else ""
        return (
            f"repaired ({self.method}): {self.kept} document(s) kept, {len(self.reindexed)} "
            f"indexed again from their files"
            f"{lost}; {self.seconds:.1f}s"
        )


def run_repair(
    settings: IngestConfig, paths: list[Path], show_progress: bool = True, wait: float = 0.0
) -> RepairReport:
    started = time.perf_counter()
    report = RepairReport()
    with writer_lock(settings, wait):
        store, lost = _recovered_store(settings, report)
        sources = _source_files(lost, paths, report)
        ingestor = Ingestor(settings, store=store, show_progress=show_progress)
        ingestor.ingest(sources, report.ingest, provenance=lambda p: _provenance_of(p, lost))
        report.reindexed = report.ingest.added + report.ingest.updated
    report.seconds = time.perf_counter() - started
    return report


def _recovered_store(settings: IngestConfig, report: RepairReport) -> tuple[ChunkStore, list[DocumentInfo]]:
    """The index rebuilt from what could be read, and the documents that could not."""
    try:
        store = open_store(settings, load_embeddings(settings), create=True)
        result = check(store, full=True)
    except (StoreError, Exception) as exc:  # noqa: BLE001 - the SQLite file itself is unreadable
        if isinstance(exc, IndexMissingError) or settings.store.server_mode:
            raise
        log.warning("the index cannot be opened (%s): building it anew", exc)
        _set_aside(Path(settings.store.index_dir))
        SharedSystemClient.clear_system_cache()  # Chroma keeps the broken client of that path otherwise
        report.method = "rebuilt from sources"
        return open_store(settings, load_embeddings(settings), create=True), []
    indicators = None  # a readable index: the registry's own
    if result.damaged is None:
        rows, infos = live_rows(store)
        lost = [infos.pop(d) for d in result.incomplete if d in infos]
        rows = [r for r in rows if r.chunk.doc_id in infos]
        report.method = "copied"
    elif settings.store.server_mode:
        raise StoreError(texts.SERVER_COLLECTION_DAMAGED.format(detail=result.damaged))
    else:
        chunks, recorded = salvage(Path(settings.store.index_dir), settings.store.collection)
        rows, infos, lost = salvageable(chunks, recorded)
        indicators = salvage_indicators(Path(settings.store.index_dir), settings.store.collection)
        report.method = "salvaged"
    rebuild(store, rows, infos, indicators)
    report.kept = len(infos)
    return store, lost


def _set_aside(index_dir: Path) -> None:
    """Move the unreadable Chroma files into a dated folder (the embedding cache stays: it is only vectors)."""
    aside = index_dir / f".damaged-{time.strftime('%Y%m%d-%H%M%S')}"
    aside.mkdir(parents=True, exist_ok=True)
    for item in index_dir.iterdir():
        if item.name in INDEX_FILES or (item.is_dir() and len(item.name) == 36 and item.name.count("-") == 4):
            shutil.move(str(item), aside / item.name)


def _source_files(lost: list[DocumentInfo], paths: list[Path], report: RepairReport) -> list[Path]:
    """Files to index again: those of the lost documents (from their recorded folder), plus PATHS."""
    files = discover(paths, report.ingest) if paths else []
    names = {f.name for f in files}
    for info in lost:
        source = Path(info.provenance.folder) / info.source if info.provenance.folder else None
        if info.source in names:
            continue
        if source is not None and source.is_file():
            files.append(source)
            names.add(info.source)
        else:
            report.lost.append(info.source)
    return files


def _provenance_of(path: Path, lost: list[DocumentInfo]):
    """A lost document keeps the provenance it had; other files are the operator's."""
    for info in lost:
        if info.source == path.name and info.provenance.folder == str(path.resolve().parent):
            return info.provenance
    return cli_provenance(path)
