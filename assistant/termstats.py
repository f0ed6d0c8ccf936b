"""How rare a term is in the indexed corpus: exact substring document frequency, fast at 100k chunks.

The counting itself (posting lists of characters and character pairs) is in :mod:`vectorstore.keyword.grams`;
a kept index (:mod:`vectorstore.keyword.snapshot`) counts the same way over its pieces on disk.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Protocol

from assistant.types import Term
from vectorstore.keyword.grams import SubstringCounter, term_text
from vectorstore.records import Chunk

CACHE_SIZE = 16384  # terms whose document frequency and idf are remembered per snapshot


class DocumentFrequencies(Protocol):
    """Counts the texts that hold a string: the keyword index's ``SubstringCounter``, or a kept index."""

    def count(self, needle: str) -> int: ...


class TermStats:
    """How rare each term is in the indexed corpus (substring document frequency)."""

    def __init__(
        self, chunks: list[Chunk] | None = None, counter: DocumentFrequencies | None = None, n: int | None = None
    ) -> None:
        """From ``chunks`` (built here), or from a ``counter`` over ``n`` texts built elsewhere (a kept index)."""
        if counter is None:
            texts = [term_text(c) for c in chunks or []]
            counter, n = SubstringCounter(texts), len(texts)
        self.n = max(n or 0, 1)
        self._counter = counter
        self.df = lru_cache(maxsize=CACHE_SIZE)(self._df)
        self.idf = lru_cache(maxsize=CACHE_SIZE)(self._idf)

    def _df(self, alternatives: tuple[str, ...]) -> int:
        return max((self._counter.count(alt.lower()) for alt in alternatives if alt), default=0)

    def _idf(self, alternatives: tuple[str, ...]) -> float:
        return math.log((self.n + 1) / (self.df(alternatives) + 0.5)) + 1.0

    def known(self, term: Term) -> bool:
        return self.df(term.alternatives) > 0
