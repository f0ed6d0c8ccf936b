"""assistant.factcheck on hand-made passages: supported, contradicted (with what the sources say), conflicting,
not found; every document that speaks to a claim heard, official first; and the question a claim answers."""
from __future__ import annotations

import pytest

from assistant.factcheck import FactChecker, question_form
from assistant.question import analyse
from assistant.termstats import TermStats
from vectorstore.records import Chunk, Origin, ScoredChunk

BEDS = "淮河路街道依托辖区医疗优势建设了福华颐养院,设立床位317张。"
GDP = "2020年,二七区地区生产总值达到760亿元,是2015年的1.64倍。"
FLOOD = "郭家咀水库出现险情后,二七区紧急撤离群众。"


def chunk(chunk_id: str, text: str, doc_id: str = "doc-review", start: int = 0) -> Chunk:
    return Chunk(chunk_id, doc_id, f"{doc_id}.txt", "回顾", "民生", "text", start, start + len(text), text)


CHUNKS = [chunk(f"c{i}", text, start=i * 100) for i, text in enumerate((BEDS, GDP, FLOOD))]
EVIDENCE = [ScoredChunk(c, 1.0 - i / 10) for i, c in enumerate(CHUNKS)]
STATS = TermStats(CHUNKS)


def check(claim: str, answerable: bool = True, evidence: list[ScoredChunk] = EVIDENCE, stats: TermStats = STATS,
          origins: dict[str, Origin] | None = None):
    return FactChecker().check(analyse(claim), evidence, stats, answerable=answerable, origins=origins)


@pytest.mark.parametrize(
    ("claim", "verdict", "differences", "quote"),
    [
        ("福华颐养院设立床位317张", "supported", [], BEDS),
        ("二七区2020年地区生产总值达到760亿元", "supported", [], GDP),
        ("福华颐养院设立床位371张", "contradicted", ["资料记载为317张"], BEDS),
        ("二七区2020年地区生产总值为800亿元", "contradicted", ["资料记载为760亿元"], GDP),
        ("常庄水库出现险情后二七区紧急撤离群众", "contradicted", ["资料记载为郭家咀水库"], FLOOD),
    ],
)
def test_verdicts(claim: str, verdict: str, differences: list[str], quote: str) -> None:
    result = check(claim)
    assert (result.verdict, result.differences, [q.text for q in result.quotes]) == (verdict, differences, [quote])
    q = result.quotes[0]
    assert q.text == q.chunk.text[q.start - q.chunk.start : q.end - q.chunk.start], "a quote is a verbatim span"


def test_a_claim_the_documents_do_not_answer_is_not_found() -> None:
    result = check("福华颐养院设立床位371张", answerable=False)
    assert result.verdict == "not_found" and result.quotes == [] and result.reason
    assert check("福华颐养院设立床位317张", evidence=[]).verdict == "not_found"


def test_a_wrong_name_is_contradicted_even_when_the_question_form_is_unanswered() -> None:
    result = check("常庄水库出现险情后二七区紧急撤离群众", answerable=False)
    assert result.verdict == "contradicted" and result.differences == ["资料记载为郭家咀水库"]


ORIGINS: dict[str, Origin] = {"doc-review": "bundled", "doc-bulletin": "upload"}


def bulletin(text: str) -> Chunk:
    return Chunk("d0", "doc-bulletin", "bulletin.txt", "快报", "", "text", 0, len(text), text)


def test_sources_that_disagree_make_a_conflicting_verdict() -> None:
    upload = bulletin("二七区2020年地区生产总值为9999亿元。")
    evidence = [ScoredChunk(CHUNKS[1], 1.0), ScoredChunk(upload, 0.9)]
    result = check("二七区2020年地区生产总值达到760亿元", evidence=evidence, stats=TermStats([CHUNKS[1], upload]),
                   origins=ORIGINS)
    assert (result.verdict, result.conflict) == ("conflicting", True)
    assert result.differences == ["上传的资料「bulletin.txt」记载为9999亿元"]
    assert [q.text for q in result.quotes] == [GDP, upload.text]


@pytest.mark.parametrize("upload_first", [True, False])
def test_every_source_is_heard_and_the_official_one_comes_first(upload_first: bool) -> None:
    """The upload retrieved first and matching the claim's words best must not decide alone (issue 20)."""
    upload = bulletin("2020年,二七区地区生产总值为820亿元。")
    scored = [ScoredChunk(upload, 1.0), ScoredChunk(CHUNKS[1], 0.5)]
    evidence = scored if upload_first else scored[::-1]
    stats = TermStats([CHUNKS[1], upload])
    denied = check("二七区2020年地区生产总值为9999亿元", evidence=evidence, stats=stats, origins=ORIGINS)
    assert (denied.verdict, denied.conflict) == ("contradicted", True)
    assert denied.differences == ["官方资料记载为760亿元", "上传的资料「bulletin.txt」记载为820亿元"]
    assert [q.chunk.doc_id for q in denied.quotes] == ["doc-review", "doc-bulletin"]
    for claim in ("二七区2020年地区生产总值为820亿元", "二七区2020年地区生产总值为760亿元"):
        result = check(claim, evidence=evidence, stats=stats, origins=ORIGINS)
        assert (result.verdict, result.conflict) == ("conflicting", True), claim
        assert [q.chunk.doc_id for q in result.quotes] == ["doc-review", "doc-bulletin"], claim


def test_sources_that_agree_are_all_quoted_without_a_conflict() -> None:
    upload = bulletin("2020年,二七区地区生产总值为760亿元。")
    evidence = [ScoredChunk(upload, 1.0), ScoredChunk(CHUNKS[1], 0.5)]
    stats = TermStats([CHUNKS[1], upload])
    result = check("二七区2020年地区生产总值为760亿元", evidence=evidence, stats=stats, origins=ORIGINS)
    assert (result.verdict, result.conflict, result.differences) == ("supported", False, [])
    assert [q.chunk.doc_id for q in result.quotes] == ["doc-review", "doc-bulletin"]
    result = check("二七区2020年地区生产总值为800亿元", evidence=evidence, stats=stats, origins=ORIGINS)
    assert (result.verdict, result.conflict, result.differences) == ("contradicted", False, ["资料记载为760亿元"])


def test_a_target_or_another_year_is_not_a_second_view() -> None:
    upload = bulletin("到2025年,二七区地区生产总值达到1200亿元。")
    evidence = [ScoredChunk(CHUNKS[1], 1.0), ScoredChunk(upload, 0.9)]
    result = check("二七区2020年地区生产总值为800亿元", evidence=evidence, stats=TermStats([CHUNKS[1], upload]),
                   origins=ORIGINS)
    assert (result.verdict, result.conflict, [q.chunk.doc_id for q in result.quotes]) == (
        "contradicted", False, ["doc-review"])


def test_the_question_a_claim_answers() -> None:
    assert question_form("福华颐养院设立床位317张") == "福华颐养院设立床位多少张"
    assert question_form("二七区2020年地区生产总值为800亿元") == "二七区2020年地区生产总值为多少亿元"
    assert question_form("“温暖二七”荣获第十届“中华慈善奖”") == "“温暖二七”荣获第几届“中华慈善奖”"
