"""Making the next generation of a kept keyword index (its writer calls these while it holds the folder).

* :meth:`Builder.update`: the committed documents (the registry) are compared with the generation's; the
  chunks of new or changed documents are read from Chroma and tokenized into a new segment, the rows of
  deleted ones are marked dead, and rows whose text holds a corpus term that came or went are cut again;
* :meth:`Builder.merge_if_needed`: small segments are merged into one from their arrays, without
  tokenizing again;
* :meth:`Builder.complete_bridging`: the bridging vocabulary's vectors are kept once the embedding cache
  has them all.

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
from vectorstore.embedding.semantic import vocabulary_words
from vectorstore.keyword.folder import Folder
from vectorstore.keyword.lexical import text_tokens
from vectorstore.keyword.manifest import FORMAT, DocEntry, Manifest, SegmentRef, Version
from vectorstore.keyword.segment import Row, Segment, merge_segments, write_segment
from vectorstore.keyword.snapshot import Bridging, Snapshot
from vectorstore.keyword.tokenpool import cut_in_pool
from vectorstore.records import Chunk, DocumentInfo
from zhtext.words import COMMON, Segmenter, corpus_terms, is_content_word

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
    """Writes the generations of one folder.  ``serving``: a server's writer, which embeds the bridging words
    the cache lacks before it publishes (no question waits for them)."""

    def __init__(self, folder: Folder) -> None:
        self.folder = folder
        self.serving = False
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
        segmenter = COMMON.with_words(terms)
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
            vocab=snap.manifest.vocab if snap is not None else None,
            vocab_complete=snap.manifest.vocab_complete if snap is not None else False,
            embedding_model=store.embeddings.model_id,
            docs="",
        )
        draft = self._draft(manifest, docs, snap)
        words = _vocabulary(snap, draft, rows, dead, moved, segmenter)
        new = self._write(manifest, draft, store, words)
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

    def _draft(self, manifest: Manifest, docs: dict[str, DocEntry], old: Snapshot | None) -> Snapshot:
        return Snapshot(
            self.folder.path,
            manifest,
            [self.folder.segment(ref.name) for ref in manifest.segments],
            docs,
            old.bridging if old is not None else Bridging([], None),
        )

    def _write(self, manifest: Manifest, draft: Snapshot, store: ChunkStore, words: list[str]) -> Snapshot:
        """Write the generation ``draft`` was built for, with the vocabulary ``words`` (their vectors written too
        when the vocabulary changed, or its vectors can now be kept)."""
        have = draft.bridging
        vocab = None
        if have.words != words or manifest.vocab is None or not have.complete:
            vectors = self._vectors(store, words, have)
            if have.words != words or manifest.vocab is None or vectors is not None:
                vocab = (words, vectors)
        written = self.folder.write(manifest, draft.docs, vocab)
        snap = draft  # built on this same manifest: only the vocabulary may be new (no second pass over the rows)
        snap.manifest = written
        if vocab is not None and written.vocab is not None:
            snap.bridging = self.folder.open_bridging(written.vocab, written.vocab_complete)
        if snap.bridging.complete:
            snap.bridging.table(store.embeddings)  # built here, not by the first question to read the snapshot
        return snap

    def _vectors(self, store: ChunkStore, words: list[str], have: Bridging) -> np.ndarray | None:
        """The raw vectors of ``words`` in order, the rows :meth:`Vocabulary.of` would stack: kept ones reused,
        the rest from the embedding cache.  In a server, words it lacks (a new document's, before its
        embedding phase) are embedded now, by the writer, so that no question waits for them.  Elsewhere
        (no questions wait) or with sentence vectors off: None, and the vectors are kept by a later
        generation once the embedding phase, or the first question that needs them, has cached them all
        (so a command-line ingest packs and embeds them exactly as before the index was kept)."""
        if not words:
            return np.zeros((0, 0), dtype=np.float32)
        raw = have.raw
        known = {w: i for i, w in enumerate(have.words)} if raw is not None else {}
        missing = [w for w in words if w not in known]
        if self.serving and store.settings.embedding.sentence_vectors:
            found = dict(zip(missing, store.embeddings.vectors(missing), strict=True)) if missing else {}
        else:
            found = store.embeddings.lookup(missing) if missing else {}
            if len(found) < len(set(missing)):
                return None
        kept = [(i, known[w]) for i, w in enumerate(words) if w in known]
        dim = raw.shape[1] if kept and raw is not None else len(next(iter(found.values())))
        out = np.empty((len(words), dim), dtype=np.float32)
        if kept:  # one gather from the memory-mapped rows, not a copy per word
            out[[i for i, _ in kept]] = raw[[j for _, j in kept]]  # type: ignore[index]
        for i, w in enumerate(words):
            if w in found:
                out[i] = found[w]
        return out

    def complete_bridging(self, store: ChunkStore, snap: Snapshot | None) -> Snapshot | None:
        """Keep the vocabulary's vectors once the embedding cache has them all (after the embedding phase)."""
        if snap is None or snap.bridging.complete or self._vectors(store, snap.bridging.words, snap.bridging) is None:
            return None
        manifest = replace(snap.manifest, generation=snap.generation + 1, created=_now())
        return self._write(manifest, self._draft(manifest, snap.docs, snap), store, snap.bridging.words)

    def merge_if_needed(self, store: ChunkStore, snap: Snapshot | None) -> Snapshot | None:
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
        new = self._write(manifest, self._draft(manifest, snap.docs, snap), store, snap.bridging.words)
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


def _tokens_of_rows(snap: Snapshot, dead: list[set[int]]) -> set[str]:
    """The BM25 tokens of the given rows of each segment (read back from the postings)."""
    found: set[str] = set()
    for seg, rows in zip(snap.segments, dead, strict=True):
        if not rows:
            continue
        held = np.isin(np.asarray(seg.a["post_row"]), np.fromiter(rows, dtype=np.int32))
        token_ids = np.unique(np.searchsorted(np.asarray(seg.a["tok_ptr"]), np.flatnonzero(held), side="right") - 1)
        found.update(seg.s["tok"].get(int(t)) for t in token_ids)
    return found


def _vocabulary(
    snap: Snapshot | None, draft: Snapshot, rows: list[Row], dead: list[set[int]], moved: set[str], seg: Segmenter
) -> list[str]:
    """The bridging vocabulary: the content words among the live rows' tokens (only the tokens that came or
    went, and the corpus terms that moved, are looked at again)."""
    new_tokens = {t for r in rows for t in r.tokens}
    if snap is None:
        return vocabulary_words(new_tokens, seg)
    kept = set(snap.bridging.words)
    kept.update(t for t in new_tokens - kept if is_content_word(t, seg))
    for t in _tokens_of_rows(snap, dead) | moved:
        if draft.df(t) > 0 and is_content_word(t, seg):
            kept.add(t)
        else:
            kept.discard(t)
    return sorted(kept)
