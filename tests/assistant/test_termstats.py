"""Term document frequencies from the character indexes agree with a plain scan, on the real reports."""
from __future__ import annotations

import random

import pytest

from assistant.termstats import TermStats
from vectorstore.keyword.grams import GramIndex, SubstringCounter
from vectorstore.records import Chunk


@pytest.fixture(scope="module")
def chunks(built_store) -> list[Chunk]:
    return built_store.all_chunks()


def _scan(texts: list[str], needle: str) -> int:
    return sum(1 for t in texts if needle in t)


def test_counts_equal_a_scan_for_every_length(chunks: list[Chunk]) -> None:
    texts = [f"{c.section}\n{c.text}".lower() for c in chunks]
    counter = SubstringCounter(texts)
    rng = random.Random(7)
    needles = {"二七区", "二七区委", "发展", "的", "国际机场", "区长", "2020年", "and", "亿元", "七区", "zz", "\n"}
    for text in rng.sample(texts, 40):
        for size in (1, 2, 3, 4, 7):
            start = rng.randrange(0, max(1, len(text) - size))
            needles.add(text[start : start + size])
    assert len(needles) > 150
    wrong = {n: (counter.count(n), _scan(texts, n)) for n in needles if counter.count(n) != _scan(texts, n)}
    assert not wrong


def test_a_pair_across_two_texts_is_not_counted() -> None:
    counter = SubstringCounter(["甲乙", "丙丁"])
    assert counter.count("乙丙") == 0
    assert counter.count("甲乙") == 1
    # 甲乙 and 乙丙 are both there, 甲乙丙 is not: the pairs only narrow the texts to check.
    assert SubstringCounter(["甲乙x乙丙"]).count("甲乙丙") == 0


def test_postings_are_sorted_text_ids() -> None:
    index = GramIndex(["ab", "xab", "b", "ab"], 2)
    assert index.postings("ab").tolist() == [0, 1, 3]
    assert index.postings("ba").tolist() == []
    assert GramIndex(["ab", "b"], 1).postings("b").tolist() == [0, 1]


def test_empty_corpus() -> None:
    stats = TermStats([])
    assert stats.df(("二七",)) == 0
    assert stats.idf(("二七",)) > 1.0


def test_term_stats_is_case_insensitive_and_takes_the_best_alternative(chunks: list[Chunk]) -> None:
    stats = TermStats(chunks)
    assert stats.df(("AND",)) == stats.df(("and",)) > 0
    assert stats.df(("没有这个词", "二七区")) == stats.df(("二七区",))
    assert stats.idf(("区长",)) > stats.idf(("二七区",))
