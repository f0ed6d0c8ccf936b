"""jieba for the whole program, behind one lock (its segmenter is not thread-safe): the common
dictionary, or the common dictionary plus the words of one corpus.

Every layer segments through a :class:`Segmenter`.  :data:`COMMON` is jieba's dictionary as it
ships; nothing ever changes it.  An index adds the terms its documents put in quotation marks
(「六个区」, “官方带娃”: :func:`corpus_terms`) so that they stay whole:
``COMMON.with_words(terms)`` is a private copy of the dictionary with them added, made once per
index (about 25 ms and 25 MB), and the index's BM25 tokenizer and every step that reads a question
against that index (its terms, its names, the boundaries of a claim's names) use that copy.
The corpus vocabulary is therefore part of the index, not a side effect of having built one.

A copy is a function of its set of words alone, and a word changes only how the texts that contain
it are cut: each word gets the frequency jieba suggests for it against the common dictionary, and
the dictionary total stays the common one (jieba's ``add_word`` raises the total with every word, which
shifts every route score a little).  A kept keyword index relies on this: when a document brings or
takes away a corpus word, only the chunks holding that word are tokenized again.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import lru_cache, partial
from typing import TypeVar

import jieba
import jieba.posseg as pseg

from zhtext.chars import quoted
from zhtext.tags import CORPUS_TERM_TAG

jieba.setLogLevel(logging.WARNING)
_lock = threading.RLock()

CORPUS_TERM = quoted(2, 8)  # a quoted term the segmenter keeps whole
COPIES_KEPT = 2  # copies of a dictionary kept for reuse: an index that goes back to an earlier set of documents
T = TypeVar("T")


class Segmenter:
    """One jieba dictionary (``tokenizer``) and its parts of speech (``tagger``); ``words``: the corpus
    terms added to the common dictionary."""

    def __init__(
        self,
        tokenizer: jieba.Tokenizer,
        tagger: pseg.POSTokenizer,
        words: tuple[str, ...] = (),
        common: Segmenter | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.tagger = tagger
        self.words = words
        self.common = common or self  # the dictionary without corpus words
        self._copies: OrderedDict[tuple[str, ...], Segmenter] = OrderedDict()
        self._memos: dict[Callable, Callable] = {}

    def __repr__(self) -> str:
        return f"<Segmenter {len(self.words)} corpus words>"

    def with_words(self, words: Iterable[str]) -> Segmenter:
        """The common dictionary with this one's words and ``words`` added as proper nouns (itself when
        that adds nothing)."""
        wanted = tuple(sorted(set(words) | set(self.words)))
        if wanted == self.words:
            return self
        return self.common.exactly(wanted)

    def exactly(self, words: tuple[str, ...]) -> Segmenter:
        """This (common) dictionary with exactly ``words`` (sorted, none empty) added."""
        if not words:
            return self
        with _lock:
            if words in self._copies:
                self._copies.move_to_end(words)
                return self._copies[words]
            self.tokenizer.check_initialized()
            self.tagger.makesure_userdict_loaded()
            tokenizer = jieba.Tokenizer()
            tokenizer.FREQ, tokenizer.total = dict(self.tokenizer.FREQ), self.tokenizer.total
            tokenizer.initialized = True
            tagger = pseg.POSTokenizer.__new__(pseg.POSTokenizer)  # without reading the dictionary file again
            tagger.tokenizer = tokenizer
            tagger.word_tag_tab = dict(self.tagger.word_tag_tab)
            for word in words:
                tokenizer.FREQ[word] = self.tokenizer.suggest_freq(word, False)
                for end in range(1, len(word)):
                    tokenizer.FREQ.setdefault(word[:end], 0)  # jieba finds a word through its prefixes
                tagger.word_tag_tab[word] = CORPUS_TERM_TAG
            copy = self._copies[words] = Segmenter(tokenizer, tagger, words, self)
            while len(self._copies) > COPIES_KEPT:
                self._copies.popitem(last=False)
        return copy

    def memo(self, fn: Callable[[Segmenter, str], T], maxsize: int) -> Callable[[str], T]:
        """``fn(self, text)``, cached by text for this segmenter: the cache goes when the segmenter does
        (a cache keyed by segmenter would keep every index's dictionary alive)."""
        cached = self._memos.get(fn)
        if cached is None:
            cached = self._memos[fn] = lru_cache(maxsize=maxsize)(partial(fn, self))
        return cached

    def cut(self, text: str, hmm: bool = True) -> list[str]:
        with _lock:
            return self.tokenizer.lcut(text, HMM=hmm)

    def cut_for_search(self, text: str) -> list[str]:
        with _lock:
            return self.tokenizer.lcut_for_search(text)

    def tag(self, text: str, hmm: bool = True) -> list[tuple[str, str]]:
        """(word, part of speech) pairs."""
        with _lock:
            return [(w.word, w.flag) for w in self.tagger.lcut(text, HMM=hmm)]

    def boundaries(self, text: str) -> frozenset[int]:
        """Offsets where a word starts or ends."""
        with _lock:
            return frozenset({0} | {end for _, _, end in self.tokenizer.tokenize(text)})

    def dictionary_tag(self, word: str) -> str | None:
        """The part of speech the dictionary gives ``word``, or None when it is not a dictionary word."""
        return self.tagger.word_tag_tab.get(word)

    def frequency(self, word: str) -> int:
        """How often ``word`` occurs in the texts the dictionary was counted on (0: not a dictionary word)."""
        with _lock:
            self.tokenizer.check_initialized()
            return self.tokenizer.FREQ.get(word, 0)


COMMON = Segmenter(jieba.dt, pseg.dt)


def corpus_terms(texts: Iterable[str]) -> list[str]:
    """The terms the texts put in quotation marks (「六个区」, “官方带娃”): a corpus's own words."""
    return sorted({m for text in texts for m in CORPUS_TERM.findall(text)})

