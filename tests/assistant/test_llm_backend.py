"""The optional LLM backend against a real OpenAI-compatible server on 127.0.0.1.

Everything is real: the scripted server (tests/assistant/llm_server.py, FastAPI + uvicorn) speaks
the chat-completions protocol, streaming and not; the assistant reaches it through
``langchain_openai.ChatOpenAI`` and the ``openai`` client; retrieval runs on the
session index of the bundled reports.  The server's replies are scripted per question:
a correct cited answer, a hallucinated number, a citation to a passage that does not
exist, garbage, an empty reply, invalid JSON, an HTTP error, a hang past the timeout,
and the refusal sentence.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from common import CORPUS_DIR, REPO

pytest.register_assert_rewrite("llm_server")
pytest_plugins = ["llm_server"]

from assistant import texts  # noqa: E402
from assistant.condense import Condenser, clean_rewrite, report_dates  # noqa: E402
from assistant.evaluation import evaluate  # noqa: E402
from assistant.followup import resolve  # noqa: E402
from assistant.llm import Passage, chat_model  # noqa: E402
from assistant.response import AssistantResponse  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from assistant.validation import InvalidRequest  # noqa: E402
from assistant.verify import Verifier, split_reply  # noqa: E402
from settings import Settings  # noqa: E402
from vectorstore.records import Chunk  # noqa: E402

from llm_server import (  # noqa: E402
    AREA,
    BEDS,
    EVACUATED,
    GDP,
    GDP_BAD_REF,
    GDP_HALLUCINATED,
    GDP_MIXED,
    MARKET_2020,
    MAYOR,
    SCHOOLS,
    SERVER_ERROR,
    TARGET,
    ScriptedLLM,
)

TIMEOUT = 2.0
GDP_HISTORY = [
    {"role": "user", "content": GDP},
    {"role": "assistant", "content": "2020年,二七区地区生产总值达到760亿元[1]。"},
]
BEDS_HISTORY = [{"role": "user", "content": BEDS}, {"role": "assistant", "content": "设立床位317张 [1]"}]
MARKER = re.compile(r"\[(\d+)\]")


@pytest.fixture(scope="module")
def llm_settings(built_index: Settings, scripted_llm: ScriptedLLM) -> Settings:
    return built_index.replace(llm_base_url=scripted_llm.base_url, llm_timeout=TIMEOUT, llm_model="scripted-qwen")


@pytest.fixture(scope="module")
def llm_assistant(llm_settings: Settings, built_store) -> Assistant:
    a = Assistant(llm_settings, store=built_store)
    a.warm_up()
    return a


@pytest.fixture(scope="module")
def plain_assistant(built_index: Settings, built_store) -> Assistant:
    a = Assistant(built_index, store=built_store)
    a.warm_up()
    return a


def originals() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in CORPUS_DIR.glob("*.txt")}


def assert_cited_verbatim(r: AssistantResponse) -> None:
    """Every citation quotes its source exactly; markers and citations match."""
    files = originals()
    assert r.citations, r.answer
    for c in r.citations:
        assert files[c.source][c.start : c.end] == c.text
        assert c.text in c.context
    assert {int(n) for n in MARKER.findall(r.answer)} == {c.ref for c in r.citations}


def last_request(server: ScriptedLLM, marker: str, kind: str = "answer") -> dict:
    found = server.requests_about(marker, kind)
    assert found, f"the server got no {kind} request about {marker}"
    return found[-1]


def split_stream(items: list) -> tuple[list[str], AssistantResponse]:
    *pieces, final = items
    assert all(isinstance(p, str) for p in pieces)
    assert isinstance(final, AssistantResponse)
    return pieces, final


# --- the model object -------------------------------------------------------------------------
def test_chat_model_is_built_from_settings(llm_settings: Settings) -> None:
    model = chat_model(llm_settings.llm)
    assert model.openai_api_base == llm_settings.llm.base_url
    assert model.model_name == "scripted-qwen"
    assert model.temperature == 0 and model.max_retries == 0
    assert model.request_timeout == TIMEOUT


def test_no_llm_configured_means_extractive(plain_assistant: Assistant, scripted_llm: ScriptedLLM) -> None:
    before = len(scripted_llm.requests)
    r = plain_assistant.ask(GDP)
    assert plain_assistant.llm is None and plain_assistant.condenser is None
    assert r.mode == "extractive" and r.sentences is None and r.notice is None
    assert "760亿元" in r.answer
    assert len(scripted_llm.requests) == before


# --- answers ------------------------------------------------------------------------------------
def test_correct_cited_answer(llm_assistant: Assistant, scripted_llm: ScriptedLLM) -> None:
    r = llm_assistant.ask(GDP)
    assert r.mode == "llm" and not r.no_answer and r.notice is None
    n = int(MARKER.search(r.answer).group(1))
    assert r.answer == f"2020年,二七区地区生产总值达到760亿元[{n}]。"
    assert [s.verified for s in r.sentences] == [True] and r.sentences[0].refs == [n]
    assert_cited_verbatim(r)
    (c,) = r.citations
    assert c.ref == n and "760亿元" in c.text and c.chunk_id == r.retrieved[n - 1].chunk_id
    assert len(c.text) < len(c.context)  # the supporting sentence, not the whole chunk
    assert {"retrieve", "llm", "answer", "total"} <= set(r.timings_ms)

    body = last_request(scripted_llm, GDP)
    assert body["model"] == "scripted-qwen" and body["temperature"] == 0 and not body.get("stream")
    system, user = body["messages"][0], body["messages"][-1]
    assert system["role"] == "system" and texts.LLM_REFUSAL in system["content"] and "[n]" in system["content"]
    assert user["content"].startswith("资料段落") and "[1] 《" in user["content"] and user["content"].endswith(GDP)


def test_hallucinated_sentence_is_dropped(llm_assistant: Assistant) -> None:
    r = llm_assistant.ask(GDP_MIXED)
    assert r.mode == "llm" and "760亿元" in r.answer and "2倍" not in r.answer
    assert [s.verified for s in r.sentences] == [True, False]
    assert "2倍" in r.sentences[1].text and "2倍" in r.sentences[1].reason
    assert r.notice == texts.LLM_NOTICE_DROPPED.format(n=1)
    assert_cited_verbatim(r)


def test_hallucinated_number_falls_back_to_extractive(llm_assistant: Assistant) -> None:
    r = llm_assistant.ask(GDP_HALLUCINATED)
    assert r.mode == "extractive" and "760亿元" in r.answer and "800" not in r.answer
    assert r.notice.startswith(texts.LLM_NOTICE_UNVERIFIED)
    (s,) = r.sentences
    assert not s.verified and "800亿元" in s.text and "800亿元" in s.reason
    assert_cited_verbatim(r)


def test_citation_of_missing_passage_is_unverified(llm_assistant: Assistant) -> None:
    r = llm_assistant.ask(GDP_BAD_REF)
    assert r.mode == "extractive" and "760亿元" in r.answer
    (s,) = r.sentences
    assert s.refs == [99] and not s.verified and "[99]" in s.reason


@pytest.mark.parametrize(
    "question, expected, reason",
    [
        (BEDS, "317张", None),  # garbage without a single [n]
        (SCHOOLS, "64所", texts.LLM_REASON_EMPTY),
        (TARGET, "1200亿元", texts.LLM_REASON_MALFORMED.split("{")[0]),  # invalid JSON body
        (SERVER_ERROR, "14.7万户", texts.LLM_REASON_STATUS.format(status=500)),
    ],
)
def test_bad_replies_fall_back(llm_assistant: Assistant, question: str, expected: str, reason: str | None) -> None:
    r = llm_assistant.ask(question)
    assert r.mode == "extractive" and not r.no_answer and expected in r.answer
    assert_cited_verbatim(r)
    if reason is None:
        assert r.notice.startswith(texts.LLM_NOTICE_UNVERIFIED)
        assert r.sentences and all(not s.verified and s.reason == texts.LLM_UNVERIFIED_NO_REF for s in r.sentences)
    else:
        assert r.notice.startswith(texts.LLM_NOTICE_ERROR.split("{")[0]) and reason in r.notice
        assert r.sentences is None


def test_timeout_falls_back_with_reason(llm_assistant: Assistant, scripted_llm: ScriptedLLM) -> None:
    started = time.monotonic()
    r = llm_assistant.ask(EVACUATED)
    assert time.monotonic() - started < TIMEOUT + 3
    assert r.mode == "extractive" and "9.8万居民" in r.answer
    assert texts.LLM_REASON_TIMEOUT.format(seconds=TIMEOUT) in r.notice
    assert len(scripted_llm.requests_about(EVACUATED, "answer")) == 1  # max_retries=0


def test_connection_refused_falls_back(llm_settings: Settings, built_store) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    url = f"http://127.0.0.1:{port}/v1"
    a = Assistant(llm_settings.replace(llm_base_url=url), store=built_store)
    r = a.ask(GDP)
    assert r.mode == "extractive" and "760亿元" in r.answer
    assert texts.LLM_REASON_CONNECTION.format(url=url) in r.notice


def test_refusal_sentence_means_no_answer(llm_assistant: Assistant) -> None:
    r = llm_assistant.ask(MAYOR)
    assert r.mode == "llm" and r.no_answer and r.answer == texts.NO_ANSWER
    assert not r.citations and r.related
    assert [s.verified for s in r.sentences] == [True]


@pytest.mark.slow  # python -m assistant as a process
def test_batch_output_carries_sentence_verification(built_index: Settings, scripted_llm: ScriptedLLM) -> None:
    """The CLI configured by environment variables, as a user would run it."""
    env = os.environ | {"ERQI_LLM_BASE_URL": scripted_llm.base_url, "ERQI_LLM_TIMEOUT": str(TIMEOUT)}
    lines = [{"id": "ok", "question": GDP}, {"id": "mixed", "question": GDP_MIXED}]
    p = subprocess.run([sys.executable, "-m", "assistant", "batch", "--index-dir", str(built_index.store.index_dir)],
                       input="".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
                       capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    ok, mixed = (json.loads(line) for line in p.stdout.splitlines())
    assert ok["mode"] == "llm" and ok["sentences"] == [
        {"text": ok["answer"], "refs": ok["sentences"][0]["refs"], "verified": True, "reason": None}
    ]
    assert mixed["mode"] == "llm" and [s["verified"] for s in mixed["sentences"]] == [True, False]


# --- streaming ----------------------------------------------------------------------------------
def test_stream_with_llm(llm_assistant: Assistant, scripted_llm: ScriptedLLM) -> None:
    pieces, r = split_stream(list(llm_assistant.stream(GDP)))
    assert len(pieces) > 3
    assert "".join(pieces) == r.answer and r.mode == "llm"
    assert last_request(scripted_llm, GDP)["stream"] is True


def test_stream_verifies_at_the_end(llm_assistant: Assistant) -> None:
    pieces, r = split_stream(list(llm_assistant.stream(GDP_MIXED)))
    assert "2倍" in "".join(pieces)  # streamed as generated …
    assert "2倍" not in r.answer and [s.verified for s in r.sentences] == [True, False]  # … dropped once verified


def test_stream_hang_mid_reply_falls_back(llm_assistant: Assistant) -> None:
    started = time.monotonic()
    pieces, r = split_stream(list(llm_assistant.stream(AREA)))
    assert time.monotonic() - started < TIMEOUT + 3
    assert pieces and "".join(pieces) != r.answer
    assert r.mode == "extractive" and "68.45平方公里" in r.answer
    assert texts.LLM_REASON_TIMEOUT.format(seconds=TIMEOUT) in r.notice


def test_stream_error_before_tokens_streams_the_fallback(llm_assistant: Assistant) -> None:
    pieces, r = split_stream(list(llm_assistant.stream(SERVER_ERROR)))
    assert r.mode == "extractive" and "".join(pieces) == r.answer and "14.7万户" in r.answer


def test_stream_without_llm(plain_assistant: Assistant) -> None:
    items = plain_assistant.stream(GDP)
    assert isinstance(items, Iterator)
    pieces, r = split_stream(list(items))
    assert len(pieces) > 3 and "".join(pieces) == r.answer
    assert r.answer == plain_assistant.ask(GDP).answer
    for piece in pieces:  # a marker is never cut in two
        assert piece.count("[") == piece.count("]")


def test_stream_rejects_bad_input_before_iterating(llm_assistant: Assistant) -> None:
    with pytest.raises(InvalidRequest):
        llm_assistant.stream("   ")


# --- the condense step --------------------------------------------------------------------------
def test_report_dates() -> None:
    assert report_dates("2021-09") == {
        "report_month": "2021年9月",
        "this_year": "2021",
        "last_year": "2020",
        "year_before": "2019",
        "next_year": "2022",
    }
    with pytest.raises(ValueError):
        report_dates("September")


def test_clean_rewrite() -> None:
    assert clean_rewrite("改写后的问题:“二七区2020年的市场主体有多少户?”\n解释……") == "二七区2020年的市场主体有多少户?"
    assert clean_rewrite("  \n") == ""


def test_condense_resolves_relative_date(llm_assistant: Assistant, scripted_llm: ScriptedLLM) -> None:
    question = "那去年的市场主体有多少户?"
    r = llm_assistant.ask(question, GDP_HISTORY)
    assert r.standalone_question == MARKET_2020
    assert r.mode == "llm" and "14.7万户" in r.answer
    assert_cited_verbatim(r)
    body = last_request(scripted_llm, question, "condense")
    assert body["temperature"] == 0
    messages = body["messages"]
    assert (
        messages[0]["role"] == "system"
        and "去年=2020年" in messages[0]["content"]
        and "2021年9月" in messages[0]["content"]
    )
    assert sum(m["role"] == "assistant" for m in messages) == len(texts.LLM_CONDENSE_EXAMPLES)  # the few-shot answers
    assert "2020年新增了多少户市场主体" in json.dumps(
        messages, ensure_ascii=False
    )  # {last_year} filled in the examples
    assert messages[-1]["content"].endswith(f"追问:{question}") and GDP in messages[-1]["content"]
    assert "760亿元" not in json.dumps(messages, ensure_ascii=False)  # answers of earlier turns are never sent


def test_condense_rewrite_bringing_in_a_number_is_rejected(llm_assistant: Assistant) -> None:
    question = "那到2025年的目标呢?"
    r = llm_assistant.ask(question, GDP_HISTORY)
    assert r.standalone_question == resolve(question, GDP_HISTORY)[1]
    assert "760" not in (r.standalone_question or "")


@pytest.mark.parametrize("question", ["它能服务多少人?", "它有多少张床位?"])  # invalid JSON; a hang past the timeout
def test_condense_falls_back_to_rules(llm_assistant: Assistant, question: str) -> None:
    r = llm_assistant.ask(question, BEDS_HISTORY)
    assert r.standalone_question and r.standalone_question == resolve(question, BEDS_HISTORY)[1]


def test_condense_used_only_when_different(llm_assistant: Assistant, scripted_llm: ScriptedLLM) -> None:
    r = llm_assistant.ask(GDP, GDP_HISTORY)
    assert last_request(scripted_llm, GDP, "condense")  # the model was asked, and echoed the question
    assert r.standalone_question is None and r.mode == "llm" and "760亿元" in r.answer


def test_condense_is_skipped_without_history(llm_settings: Settings) -> None:
    condenser = Condenser(llm_settings)
    assert not condenser.wanted(GDP, [])
    assert condenser.wanted("去年的地区生产总值是多少?", [])
    assert condenser.wanted("它能服务多少人?", BEDS_HISTORY)


# --- verification rules (offline) ----------------------------------------------------------------
REVIEW_TEXT = "该街道建设了智慧化医养结合中心福华颐养院,设立床位317张,专业化医养服务辐射周边3平方公里6万余人。"
FLOOD_TEXT = "7月20日,郑州遭遇特大暴雨,郭家咀水库出现险情。紧急关头,二七区连夜组织沿线4个办事处9.8万居民撤离。"


@pytest.fixture
def verifier() -> Verifier:
    def chunk(cid: str, section: str, start: int, text: str) -> Chunk:
        return Chunk(
            cid, "doc-r", "review.txt", "深耕“三个二七”出重彩", section, "text", start, start + len(text), text
        )

    documents = {"review.txt": ("二七区" * 5) + REVIEW_TEXT + FLOOD_TEXT}
    return Verifier(
        [Passage(1, chunk("a", "温暖二七", 0, REVIEW_TEXT)), Passage(2, chunk("b", "防汛", 200, FLOOD_TEXT))],
        question="福华颐养院有多少张床位?",
        documents=documents,
    )


@pytest.mark.parametrize(
    "sentence, verified, reason_has",
    [
        ("福华颐养院设立床位317张[1]。", True, None),
        ("福华颐养院设立床位317张。[1]", True, None),  # the marker after the full stop
        ("二七区9.8万名居民连夜撤离[2]。", True, None),  # 9.8万名居民 = 9.8万居民; 二七区 is in the passage
        ("二七区福华颐养院设立床位317张[1]。", True, None),  # not in passage 1, but the subject of the reports
        ("7月20日郭家咀水库出现险情,二七区组织撤离[1][2]。", True, None),
        ("福华颐养院设立床位371张[1]。", False, "371张"),
        ("福华颐养院设立床位17张[1]。", False, "17张"),  # not found inside 317张
        ("福华颐养院设立床位317张[2]。", False, "317张"),  # the value is in another passage than the one cited
        ("福华颐养院设立床位317张[3]。", False, "[3]"),
        ("福华颐养院设立床位317张。", False, texts.LLM_UNVERIFIED_NO_REF),
        ("金水区福华颐养院设立床位317张[1]。", False, "金水区"),
        ("福华颐养院由张振威负责[1]。", False, "张振威"),
        ("福华颐养院被称为“养老便利店”[1]。", False, "养老便利店"),
        ("2021年7月20日郭家咀水库出现险情[2]。", False, "2021年7月20日"),  # the passage gives no year
        ("这是第十一次撤离[2]。", False, "第十一次"),
    ],
)
def test_sentence_rules(verifier: Verifier, sentence: str, verified: bool, reason_has: str | None) -> None:
    (check,) = verifier.verify(sentence).sentences
    assert check.verified is verified, check.reason
    if reason_has:
        assert reason_has in check.reason


def test_reply_splitting_and_marker_forms(verifier: Verifier) -> None:
    reply = "福华颐养院设立床位317张【1】。\n辐射周边3平方公里6万余人[1,2]。" + texts.LLM_REFUSAL
    assert split_reply(reply) == [
        "福华颐养院设立床位317张[1]。\n",
        "辐射周边3平方公里6万余人[1][2]。",
        texts.LLM_REFUSAL,
    ]
    v = verifier.verify(reply)
    assert [s.refs for s in v.sentences] == [[1], [1, 2], []]
    assert all(s.verified for s in v.sentences) and not v.refused
    assert v.answer == "福华颐养院设立床位317张[1]。\n辐射周边3平方公里6万余人[1][2]。"
    assert verifier.verify(texts.LLM_REFUSAL).refused


# --- evaluation ---------------------------------------------------------------------------------
def test_eval_reports_share_of_verified_sentences(
    llm_assistant: Assistant, plain_assistant: Assistant, corpus_texts: dict[str, str]
) -> None:
    gold = [
        {"id": q, "type": "fact", "question": q, "answerable": True, "expect": ["760亿元"],
         "evidence": ["2020年,二七区地区生产总值达到760亿元"], "source": "erqi-review-2016-2021.txt"}
        for q in (GDP, GDP_MIXED, GDP_HALLUCINATED)
    ]
    llm_run = evaluate(gold, lambda item: llm_assistant.ask(item["question"]), corpus_texts)
    assert llm_run.metrics["sentences_verified"] == 0.5  # 1 of 1, 1 of 2, 0 of 1
    assert llm_run.metrics["answer_accuracy"] == 1.0  # the unverified answer fell back to the extractive one
    plain_run = evaluate(gold[:1], lambda item: plain_assistant.ask(item["question"]), corpus_texts)
    assert "sentences_verified" not in plain_run.metrics
