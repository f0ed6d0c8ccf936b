"""Cutting many texts into BM25 tokens in other processes, one per core, at a lower priority.

A kept keyword index's first build, or an update whose corpus terms touch many kept chunks, cuts
thousands of texts: done here, the serving process's interpreter stays free for questions.  This
module imports only what cutting needs, so that a pool process starts in about a second.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from vectorstore.background import lower_process_priority
from vectorstore.keyword.lexical import text_tokens
from zhtext.words import COMMON

PART = 500  # most texts sent to a pool process at once

_segmenter = COMMON  # a pool process's dictionary (set by _start)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cut_in_pool(texts: list[str], terms: list[str], done: Callable[[int], None]) -> list[list[str]]:
    """``text_tokens`` of every text with the common dictionary plus ``terms``; ``done(n)`` after each part."""
    n = cores()
    size = max(1, min(PART, -(-len(texts) // (2 * n))))
    out: list[list[str]] = []
    with ProcessPoolExecutor(n, mp_context=get_context("spawn"), initializer=_start, initargs=(terms,)) as pool:
        for part in pool.map(_cut, [texts[i : i + size] for i in range(0, len(texts), size)]):
            out += part
            done(len(out))
    return out


def _start(terms: list[str]) -> None:
    global _segmenter
    lower_process_priority()  # the cores go to the questions of the process that started the pool
    _segmenter = COMMON.with_words(terms)


def _cut(texts: list[str]) -> list[list[str]]:
    return [text_tokens(t, _segmenter) for t in texts]
