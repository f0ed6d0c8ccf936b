"""Sentence and word vectors kept beside the chunk vectors, for the answerer's semantic features.

At ingest every chunk's answer units (its sentences, as :func:`zhtext.sentences.answer_units`
cuts them) and its common content words are embedded into the embedding cache, keyed by model
and text hash like the chunk vectors: a question then costs one dot product per candidate
sentence, and a word the corpus does not use can be bridged to the corpus words nearest in
meaning.  Being keyed by content, they can never disagree with the chunks after a re-ingest.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from vectorstore.embedding.embeddings import CachedEmbeddings
from vectorstore.records import Chunk
from zhtext.sentences import answer_units
from zhtext.words import COMMON, Segmenter, content_words


def unit_texts(chunk: Chunk) -> list[str]:
    """The texts of the chunk's answer units (the whole chunk for a heading)."""
    return [s.text(chunk.text) for s in answer_units(chunk.text, whole=chunk.kind == "heading")]


def chunk_words(chunk: Chunk) -> list[str]:
    """The chunk's common content words, as the corpus vocabulary counts them (common dictionary)."""
    return content_words(w.lower() for w in COMMON.cut_for_search(chunk.text))


def embed_semantic(
    embeddings: CachedEmbeddings, chunks: Iterable[Chunk], progress: Callable[[int], None] | None = None
) -> int:
    """Embed the answer units and content words of ``chunks`` that the cache lacks; how many texts were embedded."""
    texts: list[str] = []
    for chunk in chunks:
        texts += unit_texts(chunk) + chunk_words(chunk)
    have = embeddings.lookup(texts)
    missing = [t for t in dict.fromkeys(texts) if t not in have]
    if missing:
        embeddings.vectors(missing, progress=progress)
    return len(missing)


def vocabulary_words(tokens: Iterable[str], segmenter: Segmenter = COMMON) -> list[str]:
    """The bridging targets among the corpus's BM25 tokens, sorted: common dictionary content words
    (``segmenter``: the index's dictionary)."""
    return content_words(sorted(set(tokens)), segmenter)


class Vocabulary:
    """The corpus's common content words and their vectors, centred: the targets of word bridging.

    Centring (subtracting the mean word vector) removes the direction all short texts share, so
    that cosine similarity separates 就业 from 岗位 for 找工作 instead of rating every pair about 0.9."""

    def __init__(self, words: list[str], vectors: np.ndarray) -> None:
        self.words = words
        self.mean = vectors.mean(axis=0) if len(words) else np.zeros(vectors.shape[1] if vectors.ndim == 2 else 0)
        self.matrix = _unit_rows(vectors - self.mean) if len(words) else vectors
        self._index = {w: i for i, w in enumerate(words)}

    @classmethod
    def of(cls, embeddings: CachedEmbeddings, candidates: Iterable[str], segmenter: Segmenter = COMMON) -> Vocabulary:
        """The content words among ``candidates`` (the index's tokens; ``segmenter``: the index's dictionary)."""
        words = vocabulary_words(candidates, segmenter)
        return cls(words, embeddings.vectors(words) if words else np.zeros((0, 0), dtype=np.float32))

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def nearest(self, vectors: np.ndarray, k: int, min_similarity: float) -> list[list[tuple[str, float]]]:
        """For each vector (a word the corpus lacks), up to ``k`` corpus words at least this similar, best first."""
        if not len(self.words) or not len(vectors):
            return [[] for _ in range(len(vectors))]
        sims = _unit_rows(vectors - self.mean) @ self.matrix.T
        out = []
        for row in sims:
            top = np.argsort(-row, kind="stable")[:k]
            out.append([(self.words[i], float(row[i])) for i in top if row[i] >= min_similarity])
        return out


def _unit_rows(m: np.ndarray) -> np.ndarray:
    return m / np.linalg.norm(m, axis=1, keepdims=True).clip(1e-12)
