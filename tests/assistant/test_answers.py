"""The answering pipeline end to end on the real index of the bundled reports."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant import texts
from assistant.service import Assistant, Request
from assistant.validation import InvalidRequest
from settings import Settings
from vectorstore.errors import IndexMissingError

from common import CORPUS_DIR


@pytest.fixture(scope="module")
def assistant(built_index: Settings) -> Assistant:
    a = Assistant(built_index)
    a.warm_up()
    return a


def originals() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in CORPUS_DIR.glob("*.txt")}


def assert_grounded(response) -> None:
    """Every citation quotes its source exactly and every marker points at a citation."""
    files = originals()
    refs = {c.ref for c in response.citations}
    assert response.citations, response.answer
    for c in response.citations:
        assert files[c.source][c.start : c.end] == c.text
        assert files[c.source][c.context_start : c.context_start + len(c.context)] == c.context
        assert c.text in c.context
        assert f"[{c.ref}]" in response.answer
    assert {int(m) for m in re.findall(r"\[(\d+)\]", response.answer)} <= refs


def test_fact_with_exact_citation(assistant: Assistant) -> None:
    r = assistant.ask("二七区2020年的地区生产总值是多少?")
    assert not r.no_answer
    assert "760亿元" in r.answer
    assert_grounded(r)
    assert r.citations[0].source == "erqi-review-2016-2021.txt"
    assert "秒懂五年" in r.citations[0].section
    assert len(r.retrieved) >= 5
    assert set(r.timings_ms) >= {"retrieve", "answer", "total"}


@pytest.mark.parametrize(
    "question, expected",
    [
        ("福华颐养院有多少张床位?", "317张"),
        ("到2025年地区生产总值的目标是多少?", "1200亿元"),
        ("二七这五年新建了多少学校啊", "64所"),
        ("郭家咀水库出现险情后二七区撤离了多少居民?", "9.8万居民"),
    ],
)
def test_facts(assistant: Assistant, question: str, expected: str) -> None:
    r = assistant.ask(question)
    assert not r.no_answer and expected in r.answer
    assert_grounded(r)


def test_list_across_headings(assistant: Assistant) -> None:
    r = assistant.ask("党建“五力”包括哪些?")
    for item in ["政治引领力", "党员向心力", "整体战斗力", "干部执行力", "纪律约束力"]:
        assert item in r.answer
    assert len(r.citations) == 5
    assert_grounded(r)


def test_list_of_six_districts(assistant: Assistant) -> None:
    r = assistant.ask("“六个区”分别是什么?")
    for item in [
        "高质量发展示范区",
        "改革创新引领区",
        "中优功能核心区",
        "西美风貌展示区",
        "美好生活样板区",
        "社会治理先行区",
    ]:
        assert item in r.answer
    assert_grounded(r)


@pytest.mark.parametrize(
    "question", [
        "二七区的区长是谁?",
        "2030年的目标是什么?",
        pytest.param("福华颐养院有多少名医生?", marks=pytest.mark.xfail(
            reason="issue 19, not met: the reader takes the home's 317张 (beds) for the doctors asked")),
        "樱桃沟景区的门票多少钱?",
    ]
)
def test_refuses_when_reports_do_not_say(assistant: Assistant, question: str) -> None:
    r = assistant.ask(question)
    assert r.no_answer
    assert r.confidence is not None and r.confidence < assistant.answerer.threshold
    if r.tentative:  # close enough to show the nearest passage, under the hint
        assert r.answer.startswith(texts.TENTATIVE_INTRO) and r.citations
    else:
        assert r.answer == texts.NO_ANSWER
        assert not r.citations
        assert r.related, "closest passages are offered separately"


@pytest.mark.parametrize("question, expected", [
    ("二七区这五年一共新开了多少所学校?", "64所"),  # the reports say 新投用中小学、幼儿园
    ("二七区2020年的经济规模有多大?", "760亿元"),  # …and 地区生产总值达到
])
def test_everyday_wording_is_answered(assistant: Assistant, question: str, expected: str) -> None:
    r = assistant.ask(question)
    assert not r.no_answer and expected in r.answer, (r.answer, r.confidence, r.reason)
    assert r.confidence is not None and r.confidence >= assistant.answerer.threshold
    assert_grounded(r)


@pytest.mark.parametrize("question", [
    "2020年中原区的地区生产总值是多少?",
    pytest.param("二七区2018年的地区生产总值是多少?", marks=pytest.mark.xfail(
        reason="issue 19, not met: the decision answers with the 2020 figure (confidence 0.35); a year the "
               "evidence does not give is a learned feature, too weak in the shipped decision")),
])
def test_a_near_miss_about_another_district_or_year_is_refused(assistant: Assistant, question: str) -> None:
    r = assistant.ask(question)
    assert r.no_answer, (r.answer, r.confidence)


def test_a_low_confidence_answer_is_tentative(built_index: Settings) -> None:
    """Between the hint and the answer thresholds the closest passage is shown under a hint, never as an answer."""
    strict = Assistant(built_index.replace(answer_min_confidence=0.999, answer_hint_confidence=0.01))
    r = strict.ask("二七区2020年的地区生产总值是多少?")
    assert r.no_answer and r.tentative
    assert r.answer.startswith(texts.TENTATIVE_INTRO) and "760亿元" in r.answer
    assert_grounded(r)


def test_follow_up_carries_the_subject(assistant: Assistant) -> None:
    history = [
        {"role": "user", "content": "福华颐养院有多少张床位?"},
        {"role": "assistant", "content": "设立床位317张 [1]"},
    ]
    r = assistant.ask("它能服务多少人?", history)
    assert "6万余人" in r.answer
    assert r.standalone_question and "福华" in r.standalone_question
    assert_grounded(r)


def test_follow_up_does_not_leak_previous_answer(assistant: Assistant) -> None:
    history = [
        {"role": "user", "content": "二七区2020年的地区生产总值是多少?"},
        {"role": "assistant", "content": "2020年,二七区地区生产总值达到760亿元 [1]"},
    ]
    r = assistant.ask("那到2025年的目标呢?", history)
    assert "1200亿元" in r.answer and "760" not in r.standalone_question


@pytest.mark.parametrize("bad", ["", "   \n", "问" * 2001, "二七区\x00的GDP", None, 42])
def test_bad_questions_are_refused(assistant: Assistant, bad) -> None:
    with pytest.raises(InvalidRequest):
        assistant.ask(bad)


def test_bad_history_is_refused(assistant: Assistant) -> None:
    with pytest.raises(InvalidRequest):
        assistant.ask("二七区的GDP?", history=[{"role": "robot", "content": "x"}])


def test_missing_index(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, index_dir=tmp_path / "nothing")
    with pytest.raises(IndexMissingError) as info:
        Assistant(settings)
    assert "python -m ingest" in str(info.value)
    assert not (tmp_path / "nothing").exists()


def test_the_answer_path_is_three_plain_steps(assistant: Assistant) -> None:
    turn = assistant.prepare(Request("二七区市场主体达到多少户?", None, "x1"))
    r = assistant.answer(turn, assistant.retrieve(turn))
    assert r.id == "x1" and "14.7万户" in r.answer
    assert r.answer == assistant.ask("二七区市场主体达到多少户?").answer


@pytest.mark.parametrize(
    "claim, verdict, differs",
    [
        ("五年内引进60个以上重大产业项目", "supported", None),
        ("全社会研发经费投入强度达到3%以上", "contradicted", "2.5%以上"),
        ("二七区2020年地区生产总值为800亿元", "contradicted", "760亿元"),
        ("“温暖二七”精准扶贫项目荣获第十届“中华慈善奖”", "contradicted", "第十一届"),
        ("7月20日特大暴雨中,二七区的常庄水库出现险情", "contradicted", "郭家咀水库"),
        ("二七区2020年一般公共预算收入达到60亿元", "not_found", None),
        ("到2030年,二七区地区生产总值将突破2000亿元", "not_found", None),
        ("二七区将建设一座国际机场", "not_found", None),  # no word-fragment "rival" names
        ("区委书记张振威走进政通路小学教室查看“美好午餐”运行情况", "contradicted", "陈红民"),
    ],
)
def test_fact_check(assistant: Assistant, claim: str, verdict: str, differs: str | None) -> None:
    r = assistant.check(claim)
    assert r.task == "check" and r.verdict == verdict, (r.verdict, r.differences, r.reason)
    if differs:
        assert any(differs in d for d in r.differences)
        assert differs in r.answer
    if verdict != "not_found":
        assert_grounded(r)
    else:
        assert r.no_answer and r.related


# --- answer selection on encyclopedia-style text (CMRC 2018-like paragraphs) --------------------------
ENCYCLOPEDIA = [
    "《战国无双3》是光荣和ω-force开发的战国无双系列的正统第三续作。两家公司长期合作。本作以三大故事为主轴。",
    "硕塞,清太宗皇太极第五子。卒于顺治十一年十二月初五,子博果铎袭爵。",
    "沼鹿,又名泽鹿,是鹿科的一种。沼鹿消失的原因是被猎杀、烹食及失去栖息地。",
    "白岳峰,朝鲜族,中国足球运动员,司职中场。2005年,白磊被家人改名为白岳峰。",
    "吴淞路闸桥是上海市已拆除的桥梁。它位于苏州河与黄浦江交汇处附近,大大减轻了外白渡桥的交通压力。",
]


def _chunks(texts: list[str]):
    from vectorstore.records import Chunk, ScoredChunk

    chunks = [Chunk(f"c{i}", f"d{i}", f"p{i}.txt", "", "", "text", 0, len(t), t) for i, t in enumerate(texts)]
    return chunks, [ScoredChunk(c, 1.0) for c in chunks]


def _extract(question: str, embeddings, texts: list[str] = ENCYCLOPEDIA, settings: Settings | None = None):
    from answering import extract

    return extract(question, _chunks(texts)[0], embeddings, settings)


def test_refine_splits_unknown_compounds_and_keeps_unknown_nouns() -> None:
    from assistant.evidence import refine, unknown_terms
    from assistant.question import analyse
    from assistant.termstats import TermStats

    chunks, _ = _chunks(ENCYCLOPEDIA)
    stats = TermStats(chunks)
    q = refine(analyse("《战国无双3》是由哪两个公司合作开发的?"), stats)
    assert not unknown_terms(q, stats)  # 合作开发 is not in the text, but 合作 and 开发 are
    q = refine(analyse("沼鹿的区长是谁?"), stats)
    assert "区长" in [t.surface for t in unknown_terms(q, stats)]  # a noun the corpus never uses stays unknown
    q = refine(analyse("硕塞卒于哪一年?"), stats)
    assert any(t.surface == "硕塞" for t in q.terms)  # a name the segmenter cut apart


@pytest.mark.parametrize(
    "question, expected",
    [
        ("《战国无双3》是由哪两个公司合作开发的?", "光荣和ω-force"),  # a two-item list joined by 和
        ("硕塞卒于哪一年?", "顺治十一年"),
        ("沼鹿又叫什么?", "泽鹿"),  # a name only the HMM segmenter finds
        ("白岳峰打什么位置?", "中场"),  # the title clause alone does not answer
        ("吴淞路闸桥原来的地址在哪里?", "苏州河与黄浦江交汇处"),  # 地址: the kind of answer, not a subject
        ("吴淞路闸桥起到了什么作用?", "减轻了外白渡桥的交通压力"),  # 「它…」 is quoted with the sentence before
    ],
)
def test_encyclopedia_answers(question: str, expected: str, embeddings) -> None:
    extraction = _extract(question, embeddings)
    assert not extraction.no_answer, extraction.reason
    assert any(expected in q.text for q in extraction.quotes), [q.text for q in extraction.quotes]
    for q in extraction.quotes:
        assert q.chunk.text[q.start - q.chunk.start : q.end - q.chunk.start] == q.text


def test_quantity_is_not_the_date_the_question_gives(assistant: Assistant) -> None:
    r = assistant.ask("2021年7月20日郭家咀水库出现险情后,二七区撤离了多少居民?")
    assert "9.8万居民" in r.answer
    assert_grounded(r)


def test_list_items_beyond_the_retrieved_chunks_are_gathered(assistant: Assistant) -> None:
    """One retrieved heading of the 六个区 is enough: the outline gives its five siblings."""
    from assistant.lists import find_list
    from assistant.question import analyse

    view = assistant.corpus_view()
    kids = [c for c in view.index.chunks if c.kind == "heading" and "改革创新引领区" in c.text]
    assert len(kids) == 1
    items = find_list(analyse("“六个区”分别是什么?"), kids, view.outline, view.stats, 0.4)
    assert len(items) == 6
    assert any("社会治理先行区" in q.text for q in items)
    assert find_list(analyse("“六个区”分别是什么?"), [], view.outline, view.stats, 0.4) == []
