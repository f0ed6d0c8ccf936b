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
    """Words the dictionary lacks, kept whole from now on (added to the ``extra`` set: see :func:`learn`)."""
    with _lock:
        learn("extra", _owners.get("extra", frozenset()) | set(words), part_of_speech)


# --- learned words ------------------------------------------------------------------------------------
# The corpus teaches jieba words of its own (quoted terms such as 「六个区」).  How a text is cut must be
# a function of the set of learned words alone, never of the order they came in or of how often an
# index was rebuilt: otherwise a kept (persisted) index could not equal a fresh build.  jieba's own
# add_word is neither (each call raises the word's frequency again, and the dictionary total with it),
# so learned words are applied here: each gets the frequency jieba would suggest against the base
# dictionary, the dictionary total never changes (a word then only changes how the texts containing it
# are cut), and a word no owner needs any more gets its base frequency and part of speech back.
_owners: dict[str, frozenset[str]] = {}  # who taught what (an index folder, "extra", …)
_learned: dict[str, int] = {}  # word → frequency applied
_base: dict[str, tuple[int | None, str | None]] = {}  # word → (frequency, part of speech) before it was first learned
_version = 0


def learn(owner: str, words: Iterable[str], part_of_speech: str = "nz") -> frozenset[str]:
    """Make ``owner``'s learned words exactly ``words``; the learned set is the union over owners.

    Returns the words whose state changed (learned or forgotten): only texts containing one of
    them are cut differently now."""
    global _version
    with _lock:
        mine = frozenset(w for w in words if w)
        if _owners.get(owner, frozenset()) == mine:
            return frozenset()
        if mine:
            _owners[owner] = mine
        else:
            _owners.pop(owner, None)
        target = frozenset().union(*_owners.values()) if _owners else frozenset()
        gone = [w for w in _learned if w not in target]
        new = sorted(w for w in target if w not in _learned)
        if not gone and not new:
            return frozenset()
        dt = jieba.dt
        dt.check_initialized()
        pseg.dt.makesure_userdict_loaded()
        for w in _learned:  # the base dictionary, on which new words get their frequencies
            _restore(w)
        for w in gone:
            del _learned[w]
        for w in new:
            if w not in _base:
                _base[w] = (dt.FREQ.get(w), pseg.dt.word_tag_tab.get(w))
        _learned.update({w: dt.suggest_freq(w, False) for w in new})
        for w, freq in _learned.items():
            _apply(w, freq, part_of_speech)
        _version += 1
        return frozenset(gone) | frozenset(new)


def learned() -> dict[str, int]:
    """The learned words with the frequencies they were given."""
    with _lock:
        return dict(_learned)


def learned_version() -> int:
    """Bumped whenever the learned set changes."""
    return _version


def _apply(word: str, freq: int, part_of_speech: str) -> None:
    dt = jieba.dt
    dt.FREQ[word] = freq
    for i in range(1, len(word)):
        dt.FREQ.setdefault(word[:i], 0)  # jieba finds a word through its prefixes
    pseg.dt.word_tag_tab[word] = part_of_speech


def _restore(word: str) -> None:
    freq, tag = _base[word]
    jieba.dt.FREQ[word] = freq or 0  # a zero entry is what jieba keeps for a prefix: the same as no word
    if tag is None:
        pseg.dt.word_tag_tab.pop(word, None)
    else:
        pseg.dt.word_tag_tab[word] = tag


def base_tag(word: str) -> str | None:
    """The part of speech the dictionary itself gives ``word`` (learned words get 'nz')."""
    with _lock:
        return _base[word][1] if word in _learned else pseg.dt.word_tag_tab.get(word)


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


def vocabulary_word(word: str) -> bool:
    """A content word by the dictionary's own part of speech: the corpus vocabulary word bridging targets.

    Unlike :func:`is_content_word` it does not depend on when a learned word's tag reached the tagger."""
    return _CJK_WORD.fullmatch(word) is not None and base_tag(word) in CONTENT_TAGS and frequency(word) >= COMMON_WORD_FREQ


def content_words(words: Iterable[str]) -> list[str]:
    """The content words among ``words``, each once, in order."""
    return [w for w in dict.fromkeys(words) if is_content_word(w)]

