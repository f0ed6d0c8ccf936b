"""Making the next generation of a kept keyword index (its writer calls these while it holds the folder).

* :meth:`Builder.update`: the committed documents (the registry) are compared with the generation's; the
  chunks of new or changed documents are read from Chroma and tokenized into a new segment, the rows of
  deleted ones are marked dead, and rows whose text holds a corpus term that came or went are cut again;
* :meth:`Builder.merge_if_needed`: small segments are merged into one from their arrays, without
  tokenizing again.

Each writes a generation (:meth:`Folder.write`) and returns it as a :class:`Snapshot`; the service publishes it.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from vectorstore.chroma.schema import embedding_input
from vectorstore.chroma.store import ChunkStore
from vectorstore.keyword.folder import Folder
from vectorstore.keyword.lexical import text_tokens
from vectorstore.keyword.manifest import FORMAT, DocEntry, Manifest, SegmentRef, Version
from vectorstore.keyword.segment import Row, Segment, merge_segments, write_segment
from vectorstore.keyword.snapshot import Snapshot
from vectorstore.keyword.tokenpool import cut_in_pool
from vectorstore.records import Chunk, DocumentInfo
from zhtext.words import COMMON, corpus_terms

log = logging.getLogger("vectorstore")

FULL_SCAN_SHARE = 0.25  # more than this share of the documents changed: read the whole collection in one pass
# From this many texts jieba runs in other processes (vectorstore.keyword.tokenpool): starting them (about a second)
# is small beside cutting that many, and this process's interpreter stays free for questions meanwhile.
POOL_MIN_CHUNKS = 400
MAX_SMALL_SEGMENTS = 4  # more small segments than this are merged into one
MERGE_SHARE = 0.2  # small segments holding this share of the rows, or dead rows this share: everything is merged


@dataclass
class Progress:
    state: str = "idle"  # idle | building | updating | merging | error
    done: int = 0
    total: int = 0
    detail: str = ""
    error: str | None = None


class Builder:
    """Writes the generations of one folder."""

    def __init__(self, folder: Folder) -> None:
        self.folder = folder
        self.progress = Progress()

    def update(
        self, store: ChunkStore, snap: Snapshot | None, version: Version, generation: int | None = None
    ) -> Snapshot:
        """One new generation: ``snap`` with the collection's changes applied (``snap`` None: built from scratch)."""
        started = time.perf_counter()
        infos = {d.doc_id: d for d in store.documents()}
        old = snap.docs if snap is not None else {}
        changed = [d for d, info in infos.items() if d not in old or old[d].doc_hash != info.doc_hash]
        removed = {d for d in old if d not in infos or d in changed}
        self.progress = Progress("building" if snap is None else "updating", 0, 0, f"{len(changed)} document(s)")
        fetched = _fetch(store, changed, infos, whole=snap is None)
        partial = store.version() != version  # the collection moved while it was read: the next sync goes on
        docs = {d: e for d, e in old.items() if d not in removed} | _entries(fetched, infos)
        terms = sorted({t for e in docs.values() for t in e.terms})
        moved = set(snap.terms if snap is not None else ()) ^ set(terms)  # corpus terms that came or went
        dead, redo = _rows_to_drop(snap, removed, moved)
        again = [snap.segments[i].chunk(r) for i, r in redo] if snap is not None else []
        self.progress = Progress(self.progress.state, 0, len(fetched) + len(again), self.progress.detail)
        tokens = self._tokenize([embedding_input(c) for c in fetched + again], terms)
        key = snap.next_key if snap is not None else 0
        rows = [Row(key + j, c, t) for j, (c, t) in enumerate(zip(fetched, tokens[: len(fetched)], strict=True))]
        if snap is not None:
            rows += [
                Row(int(snap.segments[i].a["key"][r]), c, t)
                for (i, r), c, t in zip(redo, again, tokens[len(fetched) :], strict=True)
            ]
        manifest = Manifest(
            format=FORMAT,
            created=_now(),
            version=version,
            partial=partial,
            segments=self._segments_after(snap, dead, rows),
            terms=tuple(terms),
            next_key=key + len(fetched),
            generation=generation or (snap.generation + 1 if snap is not None else self.folder.next_generation()),
            embedding_model=store.embeddings.model_id,
            docs="",
        )
        new = self._write(manifest, self._draft(manifest, docs))
        log.info(
            "keyword index: generation %d (%d chunks, +%d -%d documents, %d rows cut again) in %.1fs",
            new.generation,
            new.n,
            len({c.doc_id for c in fetched}),
            len(removed),
            len(redo),
            time.perf_counter() - started,
        )
        return new

    def _segments_after(self, snap: Snapshot | None, dead: list[set[int]], rows: list[Row]) -> tuple[SegmentRef, ...]:
        """The manifest's segment list: the kept segments with their dead rows, and a new one for ``rows``."""
        segments = []
        if snap is not None:
            for i, (seg, ref) in enumerate(zip(snap.segments, snap.manifest.segments, strict=True)):
                all_dead = sorted(set(ref.dead) | dead[i])
                if len(all_dead) < seg.n:
                    segments.append(SegmentRef(seg.name, tuple(all_dead)))
        if rows:
            name = f"seg-{uuid.uuid4().hex[:16]}"
            write_segment(self.folder.path / name, rows)
            segments.append(SegmentRef(name))
        return tuple(segments)

    def _tokenize(self, texts: list[str], terms: list[str]) -> list[list[str]]:
        if len(texts) < POOL_MIN_CHUNKS:
            segmenter = COMMON.with_words(terms)
            out = []
            for i, t in enumerate(texts):
                out.append(text_tokens(t, segmenter))
                if i % 1000 == 999:
                    self.progress = Progress(self.progress.state, i + 1, self.progress.total, self.progress.detail)
            return out

        def done(n: int) -> None:
            self.progress = Progress(self.progress.state, n, self.progress.total, self.progress.detail)

        return cut_in_pool(texts, terms, done)

    def _draft(self, manifest: Manifest, docs: dict[str, DocEntry]) -> Snapshot:
        return Snapshot(self.folder.path, manifest, [self.folder.segment(ref.name) for ref in manifest.segments], docs)

    def _write(self, manifest: Manifest, draft: Snapshot) -> Snapshot:
        """Write the generation ``draft`` was built for; the draft, with the manifest as written, is its snapshot."""
        draft.manifest = self.folder.write(manifest, draft.docs)
        return draft

    def merge_if_needed(self, snap: Snapshot | None) -> Snapshot | None:
        """Merge small segments (or all of them, when many rows are small or dead) into one."""
        if snap is None or len(snap.segments) < 2 and not snap.dead_rows:
            return None
        sizes = sorted(
            (
                (seg.n - (0 if live is None else int((~live).sum())), i)
                for i, (seg, live) in enumerate(zip(snap.segments, snap.live, strict=True))
            ),
            reverse=True,
        )
        largest = sizes[0][0]
        small = [i for _, i in sizes[1:]]
        if snap.dead_rows > MERGE_SHARE * max(snap.rows, 1) or sum(n for n, _ in sizes[1:]) > MERGE_SHARE * max(
            largest, 1
        ):
            chosen = list(range(len(snap.segments)))
        elif len(small) > MAX_SMALL_SEGMENTS:
            chosen = small
        else:
            return None
        if len(chosen) < 2 and not any(snap.live[i] is not None for i in chosen):
            return None
        self.progress = Progress("merging", 0, sum(snap.segments[i].n for i in chosen), f"{len(chosen)} segment(s)")
        started = time.perf_counter()
        name = f"seg-{uuid.uuid4().hex[:16]}"
        parts = [(snap.segments[i], _live_rows(snap.segments[i], snap.live[i])) for i in chosen]
        merge_segments(self.folder.path / name, parts)
        segments = tuple(ref for i, ref in enumerate(snap.manifest.segments) if i not in chosen) + (SegmentRef(name),)
        manifest = replace(snap.manifest, generation=snap.generation + 1, segments=segments, created=_now())
        new = self._write(manifest, self._draft(manifest, snap.docs))
        log.info("keyword index: merged %d segment(s) into one in %.1fs", len(chosen), time.perf_counter() - started)
        return new


def _fetch(store: ChunkStore, changed: list[str], infos: dict[str, DocumentInfo], whole: bool) -> list[Chunk]:
    """The committed chunks of the changed documents (many changed: read in one pass of the collection)."""
    if whole or len(changed) > FULL_SCAN_SHARE * max(len(infos), 1):
        wanted = set(changed)
        fetched = [c for c in store.chunks_of(None) if c.doc_id in wanted]
    else:
        fetched = store.chunks_of(changed)
    return [c for c in fetched if infos[c.doc_id].doc_hash == c.doc_hash]


def _live_rows(seg: Segment, live: np.ndarray | None) -> np.ndarray:
    return np.arange(seg.n) if live is None else np.flatnonzero(live)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _entries(fetched: list[Chunk], infos: dict[str, DocumentInfo]) -> dict[str, DocEntry]:
    """The generation's record of each fetched document, with the terms it quotes."""
    by_doc: dict[str, list[Chunk]] = {}
    for c in fetched:
        by_doc.setdefault(c.doc_id, []).append(c)
    return {
        d: DocEntry(
            infos[d].doc_hash,
            len(chunks),
            infos[d].provenance.origin,
            tuple(corpus_terms(embedding_input(c) for c in chunks)),
        )
        for d, chunks in by_doc.items()
    }


def _rows_to_drop(
    snap: Snapshot | None, removed: set[str], moved: set[str]
) -> tuple[list[set[int]], list[tuple[int, int]]]:
    """Per segment, the rows that go (those of removed documents, and kept rows holding a corpus term that
    came or went), and the kept ones among them to be tokenized again, as (segment, row)."""
    if snap is None:
        return [], []
    dead: list[set[int]] = [set() for _ in snap.segments]
    for i, seg in enumerate(snap.segments):
        live = snap.live[i]
        for d, rows in seg.doc_rows().items():
            if d in removed:
                dead[i].update(r for r in rows.tolist() if live is None or live[r])
    redo: list[tuple[int, int]] = []
    for w in sorted(moved):
        for i, r in snap.rows_containing(w.lower()):
            if r not in dead[i]:
                redo.append((i, r))
                dead[i].add(r)
    return dead, redo
