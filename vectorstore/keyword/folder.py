"""The files of one kept keyword index: its generations, the segments they use (each opened memory-mapped once
per process), ``CURRENT`` naming the newest, and writing a generation so that a crash at any point leaves
the one before readable (every file written aside, synced, then renamed; ``CURRENT`` moved last)."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

from vectorstore.keyword.manifest import FORMAT, DocEntry, Manifest, docs_json, read_docs
from vectorstore.keyword.segment import Segment, fsync_dir
from vectorstore.keyword.snapshot import Snapshot

CURRENT = "CURRENT"
LOCK = ".lock"
KEEP_GENERATIONS = 3  # generations kept on disk (a reader may still be opening the one before)

Stat = tuple[int, int]  # CURRENT's inode and modification time: it moved when they change


class Folder:
    """One kept index's folder, as this process reads and writes it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._segments: dict[str, Segment] = {}

    # --- reading ------------------------------------------------------------------------------------------
    def stat_current(self) -> Stat | None:
        try:
            st = (self.path / CURRENT).stat()
            return st.st_ino, st.st_mtime_ns
        except OSError:
            return None

    def read_current(self) -> str | None:
        try:
            return (self.path / CURRENT).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def generations(self) -> list[str]:
        """The manifests on disk, newest first."""
        if not self.path.is_dir():
            return []
        return sorted((p.name for p in self.path.glob("gen-*.json")), reverse=True)

    def next_generation(self) -> int:
        names = self.generations()
        return int(names[0][4:10]) + 1 if names else 1

    def segment(self, name: str) -> Segment:
        if name not in self._segments:
            self._segments[name] = Segment(self.path / name)
        return self._segments[name]

    def keep_only(self, names: set[str]) -> None:
        """Forget the other segments (unmapped once the last snapshot using them is gone)."""
        for name in [n for n in self._segments if n not in names]:
            del self._segments[name]

    def current_manifest(self) -> Manifest | None:
        """The manifest ``CURRENT`` names, without opening its segments (None if there is none or it cannot be read)."""
        name = self.read_current()
        try:
            return Manifest.from_json((self.path / name).read_text(encoding="utf-8")) if name else None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def documents(self, manifest: Manifest) -> dict[str, DocEntry]:
        """The documents file of ``manifest``; raises OSError, ValueError, KeyError or TypeError if unreadable."""
        return read_docs((self.path / manifest.docs).read_text(encoding="utf-8"))

    def open(self, name: str) -> Snapshot:
        """The generation ``name`` read whole; raises SegmentError, OSError, ValueError, KeyError or TypeError for
        one that cannot be read."""
        manifest = Manifest.from_json((self.path / name).read_text(encoding="utf-8"))
        if manifest.format != FORMAT:
            raise ValueError(f"format {manifest.format}, expected {FORMAT}")
        segments = [self.segment(ref.name) for ref in manifest.segments]
        if not manifest.docs:
            raise KeyError("docs")
        docs = read_docs((self.path / manifest.docs).read_text(encoding="utf-8"))
        snap = Snapshot(self.path, manifest, segments, docs)
        held = sum(e.chunks for e in docs.values())
        if held != snap.n:
            raise ValueError(f"{snap.n} live rows, its documents list {held}")
        return snap

    # --- writing ------------------------------------------------------------------------------------------
    def write(self, manifest: Manifest, docs: dict[str, DocEntry]) -> Manifest:
        """Write the documents, then the manifest, then move CURRENT to it: the manifest as written."""
        gen = manifest.generation
        docs_name = f"docs-{gen:06d}.json"
        _atomic_write(self.path / docs_name, docs_json(docs))
        manifest = replace(manifest, docs=docs_name)
        manifest_name = f"gen-{gen:06d}.json"
        _atomic_write(self.path / manifest_name, manifest.to_json())
        _atomic_write(self.path / CURRENT, manifest_name.encode("utf-8"))
        return manifest

    def cleanup(self) -> None:
        """Remove what no kept generation uses: older generations, their files, unfinished (.tmp) writes, and
        any other file (the vocabulary files an older writer kept are among them)."""
        keep = self.generations()[:KEEP_GENERATIONS]
        current = self.read_current()
        if current and current not in keep:
            keep.append(current)
        used: set[str] = set(keep) | {CURRENT, LOCK}
        for name in keep:
            try:
                used |= Manifest.from_json((self.path / name).read_text(encoding="utf-8")).files()
            except (OSError, ValueError, KeyError, TypeError):
                continue
        for path in self.path.iterdir():
            if path.name in used:
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
