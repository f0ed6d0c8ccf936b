"""One jieba for the whole program, behind one lock (its segmenter is not thread-safe).

Every layer segments through these functions: BM25 tokens, question terms, name boundaries and
the corpus vocabulary all see the same words.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

import jieba
import jieba.posseg as pseg

jieba.setLogLevel(logging.WARNING)
_lock = threading.RLock()

# Dictionary words of these parts of speech are the wording a question and a document may share
# in other words (上学 / 入学, 看病 / 医疗): nouns, verbs, adjectives, idioms; never names.
CONTENT_TAGS = frozenset({"n", "v", "vn", "a", "an", "ad", "vd", "l", "i"})
COMMON_WORD_FREQ = 100  # jieba dictionary frequency of a word worth bridging to: rarer ones are names or jargon
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{2,4}")


def cut(text: str, hmm: bool = True) -> list[str]:
    with _lock:
        return jieba.lcut(text, HMM=hmm)


def cut_for_search(text: str) -> list[str]:
    with _lock:
        return jieba.lcut_for_search(text)


def tag(text: str, hmm: bool = True) -> list[tuple[str, str]]:
    """(word, part of speech) pairs."""
    with _lock:
        return [(w.word, w.flag) for w in pseg.lcut(text, HMM=hmm)]


def boundaries(text: str) -> frozenset[int]:
    """Offsets where a jieba word starts or ends."""
    with _lock:
        return frozenset({0} | {end for _, _, end in jieba.tokenize(text)})


def add_words(words: Iterable[str], part_of_speech: str = "nz") -> None:
    with _lock:
        for word in words:
            jieba.add_word(word, tag=part_of_speech)


def dictionary_tag(word: str) -> str | None:
    """The part of speech jieba's dictionary gives ``word``, or None when it is not a dictionary word."""
    return pseg.dt.word_tag_tab.get(word)


def frequency(word: str) -> int:
    """How often ``word`` occurs in the corpus jieba's dictionary was counted on (0: not a dictionary word)."""
    with _lock:
        jieba.dt.check_initialized()
    return jieba.dt.FREQ.get(word, 0)


def is_content_word(word: str) -> bool:
    """A common dictionary noun, verb or adjective of two to four characters (学位, 就业, 看病)."""
    return (_CJK_WORD.fullmatch(word) is not None and dictionary_tag(word) in CONTENT_TAGS
            and frequency(word) >= COMMON_WORD_FREQ)


def content_words(words: Iterable[str]) -> list[str]:
    """The content words among ``words``, each once, in order."""
    return [w for w in dict.fromkeys(words) if is_content_word(w)]

