"""The files of one kept keyword index: its generations, the segments they use (each opened memory-mapped once
per process), ``CURRENT`` naming the newest, and writing a generation so that a crash at any point leaves
the one before readable (every file written aside, synced, then renamed; ``CURRENT`` moved last)."""

from __future__ import annotations

import io
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np

from vectorstore.keyword.manifest import FORMAT, DocEntry, Manifest, docs_json, read_docs
from vectorstore.keyword.segment import Segment, fsync_dir
from vectorstore.keyword.snapshot import Bridging, Snapshot

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
        snap = Snapshot(
            self.path, manifest, segments, docs, self.open_bridging(manifest.vocab, manifest.vocab_complete)
        )
        held = sum(e.chunks for e in docs.values())
        if held != snap.n:
            raise ValueError(f"{snap.n} live rows, its documents list {held}")
        return snap

    def open_bridging(self, name: str | None, complete: bool) -> Bridging:
        """The bridging vocabulary's words, and its raw vectors memory-mapped when they are kept."""
        if not name:
            return Bridging([], None)
        words = json.loads((self.path / f"{name}.json").read_text(encoding="utf-8"))
        if not complete or not words:
            return Bridging(words, None)
        raw = np.load(self.path / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        if len(words) != len(raw) or raw.ndim != 2:
            raise ValueError(f"{name}: {len(words)} words, {len(raw)} vectors")
        return Bridging(words, raw)

    # --- writing ------------------------------------------------------------------------------------------
    def write(
        self, manifest: Manifest, docs: dict[str, DocEntry], vocab: tuple[list[str], np.ndarray | None] | None
    ) -> Manifest:
        """Write the documents, the vocabulary (``vocab``: its words and their vectors, when it changed), then the
        manifest, then move CURRENT to it: the manifest as written."""
        gen = manifest.generation
        docs_name = f"docs-{gen:06d}.json"
        _atomic_write(self.path / docs_name, docs_json(docs))
        manifest = replace(manifest, docs=docs_name)
        if vocab is not None:
            words, vectors = vocab
            name = f"vocab-{gen:06d}"
            _atomic_write(self.path / f"{name}.json", json.dumps(words, ensure_ascii=False).encode("utf-8"))
            if vectors is not None and words:
                _atomic_write(self.path / f"{name}.npy", _npy(vectors))
            manifest = replace(manifest, vocab=name, vocab_complete=vectors is not None)
        manifest_name = f"gen-{gen:06d}.json"
        _atomic_write(self.path / manifest_name, manifest.to_json())
        _atomic_write(self.path / CURRENT, manifest_name.encode("utf-8"))
        return manifest

    def cleanup(self) -> None:
        """Remove what no kept generation uses: older generations, their files, unfinished (.tmp) writes."""
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


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()
