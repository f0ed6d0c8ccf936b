"""Reading one generation of the kept keyword index: a :class:`Snapshot` is what every question of a process
reads until the next one is loaded (BM25 scores and search, substring counts, the outline, the documents'
origins), over segments opened memory-mapped."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from vectorstore.keyword.grams import candidates
from vectorstore.keyword.lexical import idf, term_scores, tokenize, top_k
from vectorstore.keyword.manifest import DocEntry, Manifest, Version
from vectorstore.keyword.segment import Segment, section_key
from vectorstore.records import SECTION_SEP, Chunk
from zhtext.words import COMMON, Segmenter


class SnapshotChunks(Sequence[Chunk]):
    """The chunks of a snapshot in the collection's order, made from the segments when asked for."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._s = snapshot

    def __len__(self) -> int:
        return self._s.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._s.n))]
        if i < 0:
            i += self._s.n
        if not 0 <= i < self._s.n:
            raise IndexError(i)
        return self._s.segments[int(self._s.seg_of[i])].chunk(int(self._s.row_of[i]))

    def __iter__(self) -> Iterator[Chunk]:
        for i in range(self._s.n):
            yield self[i]


class OutlineMap(Mapping[tuple[str, str], list[Chunk]]):
    """(document id, section path) → chunks, in document order, for :class:`assistant.lists.Outline`:
    the text chunks of a section (``sec``) or the child headings under a section (``grp``, two or more)."""

    def __init__(self, snapshot: Snapshot, kind: str, min_items: int) -> None:
        self._s, self._kind, self._min = snapshot, kind, min_items
        self._lookup = lru_cache(maxsize=4096)(self._find)

    def _find(self, key: tuple[str, str]) -> tuple[Chunk, ...]:
        doc_id, section = key
        found: list[Chunk] = []
        for seg, live in zip(self._s.segments, self._s.live, strict=True):
            for row in seg.rows_with(self._kind, section_key(doc_id, section)).tolist():
                if live is not None and not live[row]:
                    continue
                chunk = seg.chunk(row)
                parent = chunk.section if self._kind == "sec" else chunk.section.rsplit(SECTION_SEP, 1)[0]
                if chunk.doc_id == doc_id and parent == section:
                    found.append(chunk)
        return tuple(sorted(found, key=lambda c: c.start)) if len(found) >= self._min else ()

    def __getitem__(self, key: tuple[str, str]) -> list[Chunk]:
        found = self._lookup(key)
        if not found:
            raise KeyError(key)
        return list(found)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and bool(self._lookup(key))

    def __iter__(self) -> Iterator[tuple[str, str]]:
        raise TypeError("an outline map is looked up, not listed")

    def __len__(self) -> int:
        raise TypeError("an outline map is looked up, not listed")


class Snapshot:
    """One generation, read-only: what every question of this process reads until the next one is loaded.

    It is a :class:`vectorstore.keyword.lexical.KeywordIndex` (``chunks``, ``scores``, ``search``, ``score_of``),
    counts substrings like :class:`vectorstore.keyword.grams.SubstringCounter` (``count``) and holds the outline
    maps and the documents' origins."""

    def __init__(self, folder: Path, manifest: Manifest, segments: list[Segment], docs: dict[str, DocEntry]) -> None:
        self.folder = folder
        self.manifest = manifest
        self.generation = manifest.generation
        self.version: Version | None = manifest.version
        self.partial = manifest.partial
        self.terms: tuple[str, ...] = manifest.terms
        self.segmenter: Segmenter = COMMON.with_words(self.terms)  # the dictionary its tokens were cut with
        self.next_key = manifest.next_key
        self.segments = segments
        self.docs = docs
        self.live: list[np.ndarray | None] = []
        keys, owner, local = [], [], []
        for i, (seg, ref) in enumerate(zip(segments, manifest.segments, strict=True)):
            dead = np.asarray(ref.dead, dtype=np.int64)
            live = None
            if len(dead):
                live = np.ones(seg.n, dtype=bool)
                live[dead] = False
            self.live.append(live)
            rows = np.arange(seg.n, dtype=np.int64) if live is None else np.flatnonzero(live)
            keys.append(np.asarray(seg.a["key"])[rows])
            owner.append(np.full(len(rows), i, dtype=np.int32))
            local.append(rows.astype(np.int32))
        all_keys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
        order = np.argsort(all_keys, kind="stable")
        self.seg_of = (np.concatenate(owner) if owner else np.zeros(0, np.int32))[order]
        self.row_of = (np.concatenate(local) if local else np.zeros(0, np.int32))[order]
        self.n = len(order)
        self.pos: list[np.ndarray] = []  # per segment: row → position in the collection's order (-1: dead)
        for i, seg in enumerate(segments):
            pos = np.full(seg.n, -1, dtype=np.int64)
            mine = self.seg_of == i
            pos[self.row_of[mine]] = np.flatnonzero(mine)
            self.pos.append(pos)
        total = sum(
            int(
                np.asarray(seg.a["dl"], dtype=np.int64).sum()
                if live is None
                else np.asarray(seg.a["dl"], dtype=np.int64)[live].sum()
            )
            for seg, live in zip(segments, self.live, strict=True)
        )
        self.avgdl = np.float64(total) / self.n if self.n else np.float64(0.0)
        self.chunks: Sequence[Chunk] = SnapshotChunks(self)
        self.sections = OutlineMap(self, "sec", 1)
        self.groups = OutlineMap(self, "grp", 2)
        self.origins = {d: e.origin for d, e in docs.items()}
        self._token_df = lru_cache(maxsize=65536)(self._df_of)

    @property
    def dead_rows(self) -> int:
        return sum(int((~live).sum()) for live in self.live if live is not None)

    @property
    def rows(self) -> int:
        return sum(seg.n for seg in self.segments)

    def matches(self, version: Version) -> bool:
        return not self.partial and self.version is not None and tuple(self.version) == tuple(version)

    # --- BM25 ---------------------------------------------------------------------------------------
    def _postings(self, token: str) -> list[tuple[int, np.ndarray, np.ndarray]]:
        out = []
        for i, (seg, live) in enumerate(zip(self.segments, self.live, strict=True)):
            t = seg.token_id(token)
            if t < 0:
                continue
            rows, tf = seg.postings(t)
            if live is not None:
                keep = live[rows]
                rows, tf = rows[keep], tf[keep]
            if len(rows):
                out.append((i, np.asarray(rows), np.asarray(tf)))
        return out

    def _df_of(self, token: str) -> int:
        return sum(len(rows) for _, rows, _ in self._postings(token))

    def df(self, token: str) -> int:
        """How many live chunks hold ``token`` (a BM25 token)."""
        return self._token_df(token)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, in the collection's order: what bm25s gives for the same chunks."""
        scores = np.zeros(self.n, dtype=np.float32)
        tokens = [t for t in tokenize(query, self.segmenter) if self.df(t) > 0]
        if not tokens or not self.n:
            return scores
        for token in tokens:
            postings = self._postings(token)
            weight = idf(sum(len(r) for _, r, _ in postings), self.n)
            for i, rows, tf in postings:
                dl = np.asarray(self.segments[i].a["dl"])[rows]
                scores[self.pos[i][rows]] += term_scores(weight, tf, dl, self.avgdl)
        return scores

    def ids(self) -> list[str]:
        """The chunk ids in the collection's order (without making the chunks)."""
        return [self.segments[int(s)].s["id"].get(int(r)) for s, r in zip(self.seg_of, self.row_of, strict=True)]

    def position(self, chunk_id: str) -> int:
        for seg, pos in zip(self.segments, self.pos, strict=True):
            row = seg.row_of_id(chunk_id)
            if row >= 0 and pos[row] >= 0:
                return int(pos[row])
        return -1

    def score_of(self, scores: np.ndarray, chunk_id: str) -> float:
        i = self.position(chunk_id)
        return float(scores[i]) if i >= 0 else 0.0

    def search(self, query: str, k: int, scores: np.ndarray | None = None) -> list[tuple[Chunk, float]]:
        scores = self.scores(query) if scores is None else scores
        if not self.n or not scores.any():
            return []
        return [(self.chunks[i], float(scores[i])) for i in top_k(scores, k) if scores[i] > 0]

    # --- term statistics (substring document frequency over section + text, lower-cased) --------------------
    def count(self, needle: str) -> int:
        """How many live chunks' lower-cased section + text contain ``needle`` (lower-cased)."""
        total = 0
        for i in range(len(self.segments)):
            rows = self._candidates(i, needle)
            total += len(rows) if len(needle) <= 2 else len(self._holding(i, rows, needle))
        return total

    def rows_containing(self, needle: str) -> list[tuple[int, int]]:
        """(segment, row) of the live rows whose lower-cased section + text contains ``needle`` (lower-cased)."""
        out: list[tuple[int, int]] = []
        for i in range(len(self.segments)):
            rows = self._candidates(i, needle).tolist()
            out += [(i, r) for r in (rows if len(needle) <= 2 else self._holding(i, rows, needle))]
        return out

    def _candidates(self, i: int, needle: str) -> np.ndarray:
        seg, live = self.segments[i], self.live[i]
        found = candidates(seg.chars, seg.pairs, needle)
        return found[live[found]] if live is not None and len(found) else found

    def _holding(self, i: int, rows: Iterable[int], needle: str) -> list[int]:
        raw, lower = needle.encode("utf-8"), self.segments[i].s["lower"]
        return [r for r in rows if lower.contains(int(r), raw)]
