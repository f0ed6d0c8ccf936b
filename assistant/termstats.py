"""How rare a term is in the indexed corpus: exact substring document frequency, fast at 100k chunks.

Terms are matched as substrings (二七区 counts in 二七区委), which an inverted index of
words cannot answer.  A scan of the joined corpus can, but costs a few ms per term at 100k
chunks and far more for common terms; a question needs a dozen of them.  So the corpus is
indexed once by single characters and by character pairs: a term of one or two characters
has its posting list's length as its frequency, and a longer term is checked only in the
chunks that hold all of its pairs (at 100k chunks: built in 3 s, 0.1 ms per term).
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from assistant.question import Term
from vectorstore.records import Chunk

_CHAR_BITS = 21  # a code point fits in 21 bits, a pair in 42; times a text id < 2^21 it still fits in int64
_BLOCK = 20000  # texts per build step: bounds the temporary arrays (about 40 bytes per character)


def _firsts(values: np.ndarray) -> np.ndarray:
    """Mask of the first of each run of equal values in a sorted array.

    np.unique does the same but, in NumPy 2.4, ~100 times slower on these arrays."""
    mask = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=mask[1:])
    return mask


class GramIndex:
    """For each string of ``size`` characters (1 or 2), the sorted ids of the texts that contain it."""

    def __init__(self, texts: list[str], size: int) -> None:
        self.size = size
        # One sorted key per (gram, text): gram * len(texts) + text id.
        keys = np.concatenate(
            [self._keys(texts, i, i + _BLOCK) for i in range(0, len(texts), _BLOCK)] or [np.zeros(0, np.int64)]
        )
        keys.sort()
        grams, docs = np.divmod(keys, max(len(texts), 1))
        self._docs = docs.astype(np.int32)
        first = _firsts(grams)
        self._grams = grams[first]
        self._offsets = np.append(np.flatnonzero(first), len(self._docs))

    def _keys(self, texts: list[str], start: int, stop: int) -> np.ndarray:
        block = texts[start:stop]
        codes = np.frombuffer("".join(block).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        owner = np.repeat(np.arange(start, start + len(block), dtype=np.int64), [len(t) for t in block])
        if self.size == 2:
            codes = (codes[:-1] << _CHAR_BITS) | codes[1:]
            keep = owner[:-1] == owner[1:]  # a pair must not straddle two texts
            codes, owner = codes[keep], owner[:-1][keep]
        keys = codes * len(texts) + owner
        keys.sort()
        return keys[_firsts(keys)]

    def postings(self, gram: str) -> np.ndarray:
        key = ord(gram[0]) if self.size == 1 else (ord(gram[0]) << _CHAR_BITS) | ord(gram[1])
        i = int(np.searchsorted(self._grams, key))
        if i == len(self._grams) or self._grams[i] != key:
            return self._docs[:0]
        return self._docs[self._offsets[i] : self._offsets[i + 1]]


class SubstringCounter:
    """How many of the texts contain a string: exact, without scanning them all."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self._chars = GramIndex(texts, 1)
        self._pairs = GramIndex(texts, 2)

    def count(self, needle: str) -> int:
        if len(needle) == 1:
            return len(self._chars.postings(needle))
        lists = sorted((self._pairs.postings(needle[i : i + 2]) for i in range(len(needle) - 1)), key=len)
        found = lists[0]
        if len(needle) == 2:
            return len(found)
        for other in lists[1:]:
            if not len(found):
                return 0
            found = np.intersect1d(found, other, assume_unique=True)
        # Holding every pair of 二七区 (二七, 七区) is not holding 二七区: check the few texts left.
        return sum(1 for i in found.tolist() if needle in self.texts[i])


class TermStats:
    """How rare each term is in the indexed corpus (substring document frequency)."""

    def __init__(self, chunks: list[Chunk]) -> None:
        texts = [f"{c.section}\n{c.text}".lower() for c in chunks]
        self.n = max(len(texts), 1)
        self._counter = SubstringCounter(texts)
        self.df = lru_cache(maxsize=16384)(self._df)
        self.idf = lru_cache(maxsize=16384)(self._idf)

    def _df(self, alternatives: tuple[str, ...]) -> int:
        return max((self._counter.count(alt.lower()) for alt in alternatives if alt), default=0)

    def _idf(self, alternatives: tuple[str, ...]) -> float:
        return math.log((self.n + 1) / (self.df(alternatives) + 0.5)) + 1.0

    def known(self, term: Term) -> bool:
        return self.df(term.alternatives) > 0
