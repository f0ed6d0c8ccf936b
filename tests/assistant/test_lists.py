"""assistant.lists: lists found through the outline or in an enumeration, and how they are ordered."""
from __future__ import annotations

from assistant.lists import (
    Outline,
    as_evidence,
    enumerates,
    enumeration_sizes,
    find_list,
    labelled_enumeration,
    promote_enumerations,
)
from assistant.question import analyse
from assistant.termstats import TermStats
from vectorstore.records import SECTION_SEP, Chunk, ScoredChunk

DOC = "doc-list"


def chunk(chunk_id: str, text: str, section: str = "", kind: str = "text", start: int = 0) -> Chunk:
    return Chunk(chunk_id, DOC, "list.txt", "规划", section, kind, start, start + len(text), text)  # type: ignore[arg-type]


def test_enumeration_sizes_and_enumerations() -> None:
    assert enumeration_sizes("打造品质二七、田园二七、温暖二七,建设美好家园") == {3}
    assert enumeration_sizes("甲、乙;丙、丁、戊") == {2, 3}
    assert enumerates(analyse("有哪些板块?"), "二七商圈板块、健康产业板块")
    assert enumerates(analyse("哪两个公司合作开发?"), "由光荣和ω-force合作开发"), "「甲和乙」 lists two"
    assert not enumerates(analyse("哪三个公司合作开发?"), "由光荣和ω-force合作开发")


def test_a_labelled_enumeration_names_as_many_items_as_the_label() -> None:
    question = analyse("“三个二七”指的是哪三个?")
    text = "深耕“三个二七”,打造品质二七、田园二七、温暖二七,成效显著。"
    found = labelled_enumeration(question, [ScoredChunk(chunk("a", text, start=100), 1.0)])
    assert found is not None and found.text == "打造品质二七、田园二七、温暖二七"
    assert found.start == 100 + text.index(found.text) and found.end == found.start + len(found.text)
    assert labelled_enumeration(analyse("“三个二七”是什么?"), [ScoredChunk(chunk("a", text), 1.0)]) is None


def test_a_list_of_child_headings_is_found_through_the_outline() -> None:
    parent = "今后五年,二七将重点打造“六个区”"
    kids = [chunk(f"h{i}", name, f"{parent}{SECTION_SEP}{name}", "heading", i * 50) for i, name in enumerate(
        ["改革创新引领区", "产业发展集聚区", "城市更新示范区", "文化旅游融合区", "生态宜居样板区", "社会治理标杆区"])]
    body = [chunk("t", "二七区将建设六个区。", parent, "text", 400)]
    corpus = kids + body
    outline, stats = Outline.of(corpus), TermStats(corpus)
    items = find_list(analyse("“六个区”分别是什么?"), [kids[0]], outline, stats, 0.4)
    assert [q.text for q in items] == [k.text for k in kids]
    assert find_list(analyse("“六个区”分别是什么?"), [], outline, stats, 0.4) == []
    assert find_list(analyse("二七区有多少个区?"), [kids[0]], outline, stats, 0.4) == [], "not a list question"


def test_passages_enumerating_the_asked_number_come_first() -> None:
    plain = ScoredChunk(chunk("a", "二七区有很多板块。"), 1.0)
    three = ScoredChunk(chunk("b", "二七商圈板块、健康产业板块、文旅板块"), 0.5)
    assert [s.chunk.chunk_id for s in promote_enumerations(analyse("重点打造哪三个板块?"), [plain, three], 2)] == [
        "b",
        "a",
    ]
    assert [s.chunk.chunk_id for s in promote_enumerations(analyse("重点打造哪些板块?"), [plain, three], 2)] == [
        "a",
        "b",
    ]


def test_the_chunks_of_a_found_list_lead_the_evidence() -> None:
    items = find_list(analyse("“六个区”分别是什么?"), [], Outline.of([]), TermStats([]), 0.4)
    assert items == []
    a, b = ScoredChunk(chunk("a", "甲。"), 0.9), ScoredChunk(chunk("b", "乙。"), 0.5)
    from assistant.types import Quote
    quote = Quote(b.chunk, b.chunk.start, b.chunk.end, b.chunk.text)
    evidence = as_evidence([quote], [a, b], 2)
    assert [s.chunk.chunk_id for s in evidence] == ["b", "a"] and evidence[0].score == 0.9
