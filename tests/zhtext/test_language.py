"""zhtext: the Chinese language resources every layer shares (sentences, names, words)."""
from __future__ import annotations

from zhtext import words
from zhtext.entities import entity_kind, names_in, rivals_of
from zhtext.sentences import Span, answer_units, split_sentences


def test_sentences_keep_their_closing_quotes_and_offsets() -> None:
    text = "他说:“好。”然后走了!最后一句没有句号"
    spans = split_sentences(text, Span(0, len(text)))
    assert [s.text(text) for s in spans] == ["他说:“好。”", "然后走了!", "最后一句没有句号"]


def test_an_answer_unit_reads_a_pronoun_sentence_with_the_one_before() -> None:
    text = "吴淞路闸桥是已拆除的桥梁。它位于苏州河口。本桥长百米。"
    units = [u.text(text) for u in answer_units(text)]
    assert units == ["吴淞路闸桥是已拆除的桥梁。", "吴淞路闸桥是已拆除的桥梁。它位于苏州河口。", "本桥长百米。"]
    assert answer_units(text, whole=True) == [Span(0, len(text))]


def test_places_bodies_and_offices_have_kinds() -> None:
    assert entity_kind("金水区") == "区"
    assert entity_kind("福华颐养院") == "颐养院"
    assert entity_kind("区长") == entity_kind("区委书记") == "office"
    assert entity_kind("地区") is None  # a word, not a name
    assert entity_kind("增长") is None


def test_rivals_are_names_of_the_same_kind_that_the_question_does_not_use() -> None:
    assert "二七区" in rivals_of("金水区", "2020年,二七区地区生产总值达到760亿元")
    assert rivals_of("区长", "区委书记陈红民走进教室") == ["书记"]
    assert rivals_of("二七区", "二七区地区生产总值") == []  # the name itself is there
    assert rivals_of("生产总值", "二七区地区生产总值") == []  # not a name


def test_names_in_a_text() -> None:
    found = names_in("福华颐养院位于二七区,区委书记到牛角社区调研")
    assert {"福华颐养院", "二七区", "书记", "牛角社区"} <= set(found)
    assert "地区" not in names_in("中东地区的局势")


def test_one_segmenter_for_every_layer() -> None:
    common = words.COMMON  # the common dictionary; an index's segmenter adds its quoted terms to it
    assert common.cut("二七区的经济总量") == ["二七区", "的", "经济总量"]
    assert {0, 3, 4} <= common.boundaries("二七区的经济总量")
    assert [w for w, _ in common.tag("二七区的经济总量")] == ["二七区", "的", "经济总量"]
    assert common.dictionary_tag("就业") == "v" and common.dictionary_tag("陈红民") is None
