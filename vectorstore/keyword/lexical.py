"""BM25 over jieba tokens, derived from the chunks in Chroma.

:class:`LexicalIndex` builds one in memory with ``bm25s``; a kept index (:mod:`vectorstore.keyword`)
stores postings instead and computes the same scores, bit for bit, with :func:`idf` and :func:`term_scores`.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Protocol

import bm25s
import numpy as np

from vectorstore.records import Chunk
from zhtext.lexicon import STOPWORDS  # function words and question words carry no evidence; _WORD drops punctuation
from zhtext.words import COMMON, Segmenter, corpus_terms

_WORD = re.compile(r"[\w\u4e00-\u9fff]")
EMPTY = "\u2205"  # the one token of a text without words (bm25s needs every document to have one)
K1, B = 1.5, 0.75  # bm25s's defaults (method "lucene"): the scores the answer model was fitted on


def tokenize(text: str, segmenter: Segmenter = COMMON) -> list[str]:
    return [
        w.lower()
        for w in (w.strip() for w in segmenter.cut_for_search(text))
        if w and _WORD.search(w) and w not in STOPWORDS
    ]


def text_tokens(text: str, segmenter: Segmenter = COMMON) -> list[str]:
    """What BM25 indexes for one text."""
    return tokenize(text, segmenter) or [EMPTY]


def idf(df: int, n: int) -> np.float32:
    """bm25s's Lucene idf, stored as float32 as bm25s stores it."""
    return np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5)))


def term_scores(idf32: np.float32, tf: np.ndarray, dl: np.ndarray, avgdl: float) -> np.ndarray:
    """BM25 of one term in documents with term frequencies ``tf`` and lengths ``dl``: bit for bit what bm25s
    stores for them (float64 arithmetic in its order, rounded to float32)."""
    tf = tf.astype(np.float64)
    tfc = tf / (K1 * ((1 - B) + B * dl.astype(np.float64) / np.float64(avgdl)) + tf)
    return (np.float64(idf32) * tfc).astype(np.float32)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best scores, best first (ties as NumPy orders them: the same for the same array)."""
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])]


class KeywordIndex(Protocol):
    """What retrieval and answering read of a BM25 index: a fresh :class:`LexicalIndex` or a kept snapshot."""

    @property
    def chunks(self) -> Sequence[Chunk]: ...

    @property
    def segmenter(self) -> Segmenter: ...

    def scores(self, query: str) -> np.ndarray: ...

    def score_of(self, scores: np.ndarray, chunk_id: str) -> float: ...

    def search(self, query: str, k: int, scores: np.ndarray | None = None) -> list[tuple[Chunk, float]]: ...


class LexicalIndex:
    """An immutable BM25 index over a list of chunks, built in memory (the reference a kept index must equal).

    ``segmenter``: the common dictionary plus the terms the texts quote (「六个区」, “官方带娃”), so
    that they stay whole (:mod:`zhtext.words`); questions read against this index use it too."""

    def __init__(self, chunks: list[Chunk], texts: list[str], segmenter: Segmenter | None = None) -> None:
        self.chunks = chunks
        self.segmenter = segmenter if segmenter is not None else COMMON.with_words(corpus_terms(texts))
        tokens = [text_tokens(t, self.segmenter) for t in texts]
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokens, show_progress=False) if chunks else None
        self._vocab = set(self._bm25.vocab_dict) if chunks else set()

        self._position = {c.chunk_id: i for i, c in enumerate(chunks)}

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (aligned with ``self.chunks``)."""
        tokens = [t for t in tokenize(query, self.segmenter) if t in self._vocab]
        if not tokens or not self.chunks:
            return np.zeros(len(self.chunks), dtype=np.float32)
        return self._bm25.get_scores(tokens)

    def score_of(self, scores: np.ndarray, chunk_id: str) -> float:
        i = self._position.get(chunk_id)
        return float(scores[i]) if i is not None else 0.0

    def search(self, query: str, k: int, scores: np.ndarray | None = None) -> list[tuple[Chunk, float]]:
        scores = self.scores(query) if scores is None else scores
        if not self.chunks or not scores.any():
            return []
        return [(self.chunks[i], float(scores[i])) for i in top_k(scores, k) if scores[i] > 0]
