"""assistant.question and assistant.followup: what a question asks, read without an index."""
from __future__ import annotations

import pytest

from assistant.followup import resolve
from assistant.question import analyse
from zhtext.words import COMMON


@pytest.mark.parametrize(
    ("question", "kind", "unit_class", "measure"),
    [
        ("二七区2020年的地区生产总值是多少?", "quantity", None, None),
        ("福华颐养院有多少张床位?", "quantity", "count", None),
        ("研发投入强度是多少?", "quantity", "percent", None),
        ("建成区面积有多大?", "quantity", "area", None),
        ("这座塔一共有几层?", "quantity", None, "层"),
        ("“温暖二七”荣获第几届“中华慈善奖”?", "quantity", "count", "届"),
        ("二七商圈什么时候改造完成?", "time", None, None),
        ("二七区的区委书记是谁?", "who", None, None),
        ("“六个区”分别是什么?", "list", None, None),
        ("他是哪里人?", "other", None, None),
    ],
)
def test_the_kind_of_answer_wanted(question: str, kind: str, unit_class: str | None, measure: str | None) -> None:
    q = analyse(question)
    assert (q.kind, q.unit_class, q.measure) == (kind, unit_class, measure)


def test_years_and_dates_are_pins_not_terms() -> None:
    q = analyse("7月20日特大暴雨中撤离了多少居民?")
    assert q.dates == ["7月20日"] and q.years == []
    assert all("日" not in t.surface for t in q.terms), "「7月20日特大暴雨」 must not yield the word 日特"
    assert analyse("二七区2020年的地区生产总值是多少?").years == ["2020"]


def test_list_questions_count_their_items() -> None:
    assert analyse("“六个区”分别是什么?").list_count == 6
    assert analyse("二七区重点打造哪三个板块?").list_count == 3
    assert analyse("二七区重点打造哪些板块?").list_count is None


def test_quoted_terms_are_whole_terms_of_weight() -> None:
    q = analyse("“温暖二七”荣获第几届“中华慈善奖”?")
    weights = {t.surface: t.weight for t in q.terms}
    assert weights["温暖二七"] == 1.5 and weights["中华慈善奖"] == 1.5
    assert [t.surface for t in analyse("“六个区”分别是什么?").terms] == ["六个区"]


def test_plans_and_origins() -> None:
    assert analyse("到2025年地区生产总值的目标是多少?").wants_plan
    assert not analyse("二七区2020年的地区生产总值是多少?").wants_plan
    assert analyse("他是哪里人?").wants_origin


def test_colloquial_words_expand_the_retrieval_query() -> None:
    q = analyse("二七区的GDP是多少?")
    assert q.terms[0].alternatives == ("地区生产总值", "gdp")
    assert q.retrieval_query() == "二七区的GDP是多少? 地区生产总值 gdp"
    assert analyse("二七区2020年的地区生产总值是多少?").retrieval_query() == "二七区2020年的地区生产总值是多少?"


def test_a_follow_up_carries_the_subject_of_the_question_before() -> None:
    history = [{"role": "user", "content": "福华颐养院有多少张床位?"}]
    q, standalone = resolve("它能服务多少人?", history)
    carried = {t.surface for t in q.terms if t.carried}
    assert "福华" in carried and standalone is not None and "福华" in standalone
    assert (q.kind, q.unit_class, q.measure) == ("quantity", "people", "人")
    q, standalone = resolve("它能服务多少人?", [])
    assert standalone is None and not any(t.carried for t in q.terms)


def test_a_follow_up_without_a_question_word_asks_what_the_one_before_asked() -> None:
    q, _ = resolve("那二七华侨城项目呢?", [{"role": "user", "content": "二七区计划投资多少亿元?"}])
    assert q.kind == "quantity"
    q, _ = resolve("那二七华侨城项目在哪?", [{"role": "user", "content": "二七区计划投资多少亿元?"}])
    assert q.kind != "quantity"


def test_a_question_is_read_with_the_dictionary_of_its_index() -> None:
    index_words = COMMON.with_words(["一网通办"])  # a term the indexed documents quote
    assert "一网通办" in {t.surface for t in analyse("一网通办的事项有多少?", index_words).terms}
    assert "一网通办" not in {t.surface for t in analyse("一网通办的事项有多少?").terms}
