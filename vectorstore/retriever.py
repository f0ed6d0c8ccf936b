"""Hybrid retrieval as a LangChain ``BaseRetriever``: BM25 (jieba) + dense (Chroma), fused.

Chroma is the source of truth; the BM25 index is derived from the collection and kept on disk
beside it (:mod:`vectorstore.keyword`), updated per document after each write: a question reads
the newest snapshot this process has and never waits for an update.
"""
from __future__ import annotations

from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from vectorstore.chroma.store import ChunkStore
from vectorstore.keyword.lexical import KeywordIndex
from vectorstore.keyword.service import LexicalStore, lexical_store
from vectorstore.records import Chunk, ScoredChunk
from vectorstore.settings import RetrievalConfig, RetrievalSettings
from zhtext.chars import pairs


def _bigrams(text: str) -> set[str]:
    return set(pairs("".join(text.split())))


def jaccard(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def _minmax(scores: dict[str, float]) -> dict[str, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-9:
        return {key: 1.0 for key in scores}
    return {key: (value - lo) / (hi - lo) for key, value in scores.items()}


def _rrf(ranked: list[str], k: int) -> dict[str, float]:
    return {key: 1.0 / (k + rank + 1) for rank, key in enumerate(ranked)}


def fuse(
    dense: list[tuple[Chunk, float]], lexical: list[tuple[Chunk, float]], method: str, dense_weight: float, rrf_k: int
) -> list[ScoredChunk]:
    """Combine the two ranked lists into one, best first."""
    chunks = {c.chunk_id: c for c, _ in dense + lexical}
    dense_raw = {c.chunk_id: s for c, s in dense}
    lexical_raw = {c.chunk_id: s for c, s in lexical}
    if method == "rrf":
        d = _rrf([c.chunk_id for c, _ in sorted(dense, key=lambda x: -x[1])], rrf_k)
        b = _rrf([c.chunk_id for c, _ in sorted(lexical, key=lambda x: -x[1]) if _ > 0], rrf_k)
    else:
        d, b = _minmax(dense_raw), _minmax(lexical_raw)
    fused = {key: dense_weight * d.get(key, 0.0) + (1 - dense_weight) * b.get(key, 0.0) for key in chunks}
    order = sorted(fused, key=lambda key: -fused[key])
    return [ScoredChunk(chunks[key], fused[key], dense_raw.get(key), lexical_raw.get(key)) for key in order]


def collapse_duplicates(ranked: list[ScoredChunk], threshold: float, limit: int | None = None) -> list[ScoredChunk]:
    """Keep the best of each group of near-identical chunks (the two reports overlap), up to ``limit``."""
    kept: list[ScoredChunk] = []
    grams: list[set[str]] = []
    for candidate in ranked:
        if limit is not None and len(kept) >= limit:
            break
        mine = _bigrams(candidate.chunk.text)
        for i, (best, theirs) in enumerate(zip(kept, grams, strict=True)):
            if mine and theirs and len(mine & theirs) / len(mine | theirs) >= threshold:
                kept[i] = ScoredChunk(
                    best.chunk, best.score, best.dense, best.lexical, best.duplicates + (candidate.chunk.chunk_id,)
                )
                break
        else:
            kept.append(candidate)
            grams.append(mine)
    return kept


def to_document(scored: ScoredChunk) -> Document:
    meta = scored.chunk.metadata() | {"score": scored.score, "dense_score": scored.dense, "bm25_score": scored.lexical}
    return Document(page_content=scored.chunk.text, metadata=meta, id=scored.chunk.chunk_id)


_DEFAULTS = RetrievalSettings()


class HybridRetriever(BaseRetriever):
    """BM25 over jieba tokens plus Chroma dense search, fused and de-duplicated."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: ChunkStore
    k: int = _DEFAULTS.top_k
    candidate_k: int = _DEFAULTS.candidate_k
    fusion: Literal["minmax", "rrf"] = _DEFAULTS.fusion
    dense_weight: float = _DEFAULTS.dense_weight
    rrf_k: int = _DEFAULTS.rrf_k
    dedup_threshold: float = _DEFAULTS.dedup_threshold

    _lexical: LexicalStore | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, store: ChunkStore, settings: RetrievalConfig, **overrides: Any) -> HybridRetriever:
        r = settings.retrieval
        params = dict(
            k=r.top_k,
            candidate_k=r.candidate_k,
            fusion=r.fusion,
            dense_weight=r.dense_weight,
            rrf_k=r.rrf_k,
            dedup_threshold=r.dedup_threshold,
        )
        return cls(store=store, **(params | overrides))

    @property
    def lexical(self) -> LexicalStore:
        """The kept keyword index of this store's collection (one per folder and process)."""
        if self._lexical is None:
            self._lexical = lexical_store(self.store.settings)
        return self._lexical

    def lexical_index(self) -> KeywordIndex:
        """The BM25 index: the newest snapshot of the kept index this process has (an update, when the
        collection has moved on, runs in the background; only a first build is waited for)."""
        return self.lexical.current(self.store)

    def all_chunks(self) -> list[Chunk]:
        return list(self.lexical_index().chunks)

    def search(
        self, query: str, k: int | None = None, index: KeywordIndex | None = None, vector: list[float] | None = None
    ) -> list[ScoredChunk]:
        """Fused top-k. Each candidate found by one side is also scored by the other,
        so a chunk BM25 ranks first is not pushed out just because it missed the dense top-N.
        ``index``: the BM25 index the caller already holds (saves a metadata read);
        ``vector``: the query's embedding, if the caller already has it."""
        k = k or self.k
        index = index or self.lexical_index()
        bm25 = index.scores(query)
        lexical = index.search(query, self.candidate_k, bm25)
        dense: list[tuple[Chunk, float]] = []
        if self.dense_weight > 0:
            vector = vector if vector is not None else self.store.embeddings.embed_query(query)
            dense = self.store.dense_search_by_vector(vector, self.candidate_k)
            seen = {c.chunk_id for c, _ in dense}
            extra = self.store.similarities(vector, [c.chunk_id for c, _ in lexical if c.chunk_id not in seen])
            dense += [(c, extra[c.chunk_id]) for c, _ in lexical if c.chunk_id in extra]
            seen = {c.chunk_id for c, _ in lexical}
            lexical += [(c, index.score_of(bm25, c.chunk_id)) for c, _ in dense if c.chunk_id not in seen]
        ranked = fuse(dense, lexical, self.fusion, self.dense_weight, self.rrf_k)
        return collapse_duplicates(ranked, self.dedup_threshold, k)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        return [to_document(s) for s in self.search(query, k)]
