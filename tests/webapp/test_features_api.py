"""Issue 22 through the HTTP API of the running app (uvicorn on a loopback port, the real index of the bundled
reports): the indicators (JSON with filters, CSV), the document view (a citation's stable link), and feedback on
answers (answer_id everywhere, 201, 4xx for malformed input, admin-only reading, rate limit, the export as an
evaluation set, and ratings that survive kill -9 of the server).  Nothing is mocked.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import time
from pathlib import Path

import httpx
import pytest

pytest.register_assert_rewrite("webapp_fixtures")
pytest_plugins = ["webapp_fixtures"]

from webapp_fixtures import (  # noqa: E402
    GDP_QUESTION,
    PLAN,
    REVIEW,
    LiveServer,
    assert_error,
    indexed_copy,
    ui_subprocess,
)

ANSWER_ID = re.compile(r"ans-[0-9a-f]{32}")
FIELDS = {"subject", "value", "unit", "period", "orientation", "text", "doc_id", "source", "start", "end"}
TOKEN = "feedback-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
THIRD = (
    "马寨镇2023年工作总结\n\n一、2023年工作回顾\n\n"
    "2023年,马寨镇完成固定资产投资35亿元,新增就业岗位1200个,建成口袋公园8座。\n\n"
    "二、2024年工作目标\n\n到2024年底,固定资产投资达到40亿元,新增就业岗位1500个以上。\n"
)
SCRIPTED = "驿站公告<b>加粗</b>\n\n驿站留言板上写着<script>alert(1)</script>这一行字,共有留言120条。\n"



def original_text(live: LiveServer, source: str) -> str:
    return (Path(live.settings.ingest.corpus_dir) / source).read_text(encoding="utf-8")


def doc_ids(api: httpx.Client) -> dict[str, str]:
    return {d["source"]: d["doc_id"] for d in api.get("/api/documents").json()["documents"]}


def uploaded(api: httpx.Client, name: str, text: str) -> str:
    r = api.post("/api/documents", files={"file": (name, text.encode("utf-8"), "text/plain")})
    assert r.status_code == 201, r.text
    return r.json()["document"]["doc_id"]


# --- indicators -------------------------------------------------------------------------------------------
def test_indicators_are_quotes_of_the_original_with_the_issues_fields(api: httpx.Client, live_server: LiveServer
                                                                      ) -> None:
    body = api.get("/api/indicators").json()
    assert body["total"] == len(body["indicators"]) >= 40
    texts = {s: original_text(live_server, s) for s in (PLAN, REVIEW)}
    for i in body["indicators"]:
        assert FIELDS <= set(i) and i["orientation"] in ("actual", "target")
        assert texts[i["source"]][i["start"]:i["end"]] == i["text"]
        assert i["link"] == f"/view/{i['doc_id']}?start={i['start']}&end={i['end']}#passage"
    gdp = {(i["value"], i["unit"], i["period"], i["orientation"]) for i in body["indicators"]
           if i["subject"] == "地区生产总值"}
    assert {(760, "亿元", "2020", "actual"), (1200, "亿元", "2025", "target")} <= gdp
    pairs = {(p["actual"]["value"], p["actual"]["unit"], p["target"]["value"]) for p in body["pairs"]}
    assert {(760, "亿元", 1200), (770, "个", 300)} <= pairs  # the issue's two examples


def test_indicators_filters_and_sort(api: httpx.Client) -> None:
    ids = doc_ids(api)
    found = api.get("/api/indicators", params={"q": "生产总值"}).json()
    assert found["total"] >= 2 and all("生产总值" in i["subject"] + i["text"] for i in found["indicators"])
    assert [(p["actual"]["value"], p["target"]["value"]) for p in found["pairs"]] == [(760, 1200)]
    targets = api.get("/api/indicators", params={"orientation": "target"}).json()["indicators"]
    assert targets and {i["orientation"] for i in targets} == {"target"}
    plan = api.get("/api/indicators", params={"doc_id": ids[PLAN]}).json()["indicators"]
    assert plan and {i["source"] for i in plan} == {PLAN}
    section = plan[0]["section"]
    assert {i["section"] for i in api.get("/api/indicators", params={"section": section}).json()["indicators"]} == {
        section}
    by_value = [i["value"] for i in api.get("/api/indicators", params={"sort": "value"}).json()["indicators"]]
    assert by_value == sorted(by_value, reverse=True)
    assert api.get("/api/indicators", params={"q": "没有这种指标xyz"}).json() == {"indicators": [], "total": 0,
                                                                                "pairs": []}
    assert_error(api.get("/api/indicators", params={"orientation": "plan"}), 400, "orientation")
    assert_error(api.get("/api/indicators", params={"sort": "colour"}), 400, "sort")


def test_indicators_csv_download(api: httpx.Client) -> None:
    r = api.get("/api/indicators.csv", params={"orientation": "target"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="indicators.csv"' in r.headers["content-disposition"]
    assert r.text.startswith("\ufeff")  # spreadsheet programs read it as UTF-8
    rows = list(csv.DictReader(io.StringIO(r.text.removeprefix("\ufeff"))))
    listed = api.get("/api/indicators", params={"orientation": "target"}).json()
    assert len(rows) == listed["total"] and {row["orientation"] for row in rows} == {"target"}
    assert FIELDS <= set(rows[0])
    first = listed["indicators"][0]
    assert rows[0]["text"] == first["text"] and rows[0]["start"] == str(first["start"])


def test_an_uploaded_document_gets_its_indicators_without_a_restart(api: httpx.Client) -> None:
    doc_id = uploaded(api, "马寨镇工作总结.txt", THIRD)
    try:
        mine = api.get("/api/indicators", params={"doc_id": doc_id}).json()
        values = {(i["value"], i["unit"], i["orientation"]) for i in mine["indicators"]}
        expected = {(35, "亿元", "actual"), (1200, "个", "actual"), (40, "亿元", "target"), (1500, "个", "target")}
        assert expected <= values
        own = {(p["actual"]["value"], p["target"]["value"]) for p in mine["pairs"]
               if p["actual"]["doc_id"] == p["target"]["doc_id"] == doc_id}
        assert own == {(35, 40), (1200, 1500)}
    finally:
        api.delete(f"/api/documents/{doc_id}")
    assert api.get("/api/indicators", params={"doc_id": doc_id}).json()["total"] == 0


# --- the document view ------------------------------------------------------------------------------------
def test_a_citation_opens_its_passage_in_the_document(api: httpx.Client, live_server: LiveServer) -> None:
    c = api.post("/api/ask", json={"question": GDP_QUESTION}).json()["citations"][0]
    link = f"/view/{c['doc_id']}?start={c['start']}&end={c['end']}"
    page = api.get(link)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    mark = re.search(r'<mark id="passage"[^>]*>(.*?)</mark>', page.text)
    assert mark and mark.group(1) == c["text"] == "2020年,二七区地区生产总值达到760亿元"
    assert "秒懂五年 数字见证了发展高度" in page.text  # the section path above it
    assert f'href="{link.replace("&", "&amp;")}#passage"' in page.text  # the shareable link of this passage

    view = api.get(f"/api/documents/{c['doc_id']}/view", params={"start": c["start"], "end": c["end"]}).json()
    assert view["passage"] == {"start": c["start"], "end": c["end"], "text": c["text"],
                               "section": "秒懂五年 数字见证了发展高度"}
    original = original_text(live_server, REVIEW)
    assert all(original[b["start"]:b["end"]] == b["text"] for b in view["blocks"])
    assert api.get(f"/view/{c['doc_id']}").status_code == 200  # the whole document, nothing marked


def test_the_view_shows_the_original_escaped(api: httpx.Client) -> None:
    doc_id = uploaded(api, "驿站公告.txt", SCRIPTED)
    try:
        view = api.get(f"/api/documents/{doc_id}/view").json()
        block = next(b for b in view["blocks"] if "留言板" in b["text"])
        assert "<script>alert(1)</script>" in block["text"]  # the JSON gives the text as it is
        start = block["start"] + block["text"].index("<script>")
        page = api.get(f"/view/{doc_id}", params={"start": start, "end": start + 25}).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
        assert "&lt;b&gt;加粗&lt;/b&gt;" in page and "<b>" not in page
    finally:
        api.delete(f"/api/documents/{doc_id}")


def test_view_of_an_unknown_document_or_passage(api: httpx.Client) -> None:
    review = doc_ids(api)[REVIEW]
    assert api.get("/view/doc-000000000000").status_code == 404
    assert_error(api.get("/api/documents/doc-000000000000/view"), 404)
    bad = api.get(f"/view/{review}", params={"start": 308, "end": 999_999})
    assert bad.status_code == 400 and "不在这篇文档的正文范围内" in bad.text and f"/view/{review}" in bad.text
    assert_error(api.get(f"/api/documents/{review}/view", params={"start": 330, "end": 308}), 400, "308")
    assert_error(api.get(f"/api/documents/{review}/view", params={"start": 308}), 400)
    assert_error(api.get(f"/api/documents/{review}/view", params={"start": "x", "end": 3}), 400)


# --- answer_id and feedback -------------------------------------------------------------------------------
def test_every_answer_carries_its_own_answer_id(api: httpx.Client) -> None:
    first = api.post("/api/ask", json={"question": GDP_QUESTION}).json()["answer_id"]
    second = api.post("/api/ask", json={"question": GDP_QUESTION}).json()["answer_id"]
    checked = api.post("/api/check", json={"claim": "福华颐养院设立床位317张"}).json()["answer_id"]
    completion = api.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": GDP_QUESTION}]})
    with api.stream("POST", "/v1/chat/completions",
                    json={"messages": [{"role": "user", "content": GDP_QUESTION}], "stream": True}) as r:
        events = [json.loads(line.removeprefix("data: ")) for line in r.iter_lines()
                  if line.startswith("data: {")]
    streamed = events[-1]["answer_id"]
    ids = [first, second, checked, completion.json()["answer_id"], streamed]
    assert all(ANSWER_ID.fullmatch(i) for i in ids) and len(set(ids)) == len(ids)
    for answer_id in ids:  # each can be rated
        assert api.post("/api/feedback", json={"answer_id": answer_id, "helpful": True}).status_code == 201


def test_feedback_is_stored_read_by_admins_only_and_exported_as_an_eval_set(server_with) -> None:
    from assistant.evaluation import evaluate_assistant, read_corpus

    live = server_with(admin_token=TOKEN)
    with httpx.Client(base_url=live.url, timeout=120) as client:
        good = client.post("/api/ask", json={"question": GDP_QUESTION}).json()
        refused = client.post("/api/ask", json={"question": "二七区的区长是谁?"}).json()
        assert refused["no_answer"] is True
        r = client.post("/api/feedback", json={"answer_id": good["answer_id"], "helpful": True, "comment": "准确"})
        assert r.status_code == 201, r.text
        receipt = r.json()
        assert receipt["answer_id"] == good["answer_id"] and receipt["helpful"] is True and receipt["feedback_id"] >= 1
        r = client.post("/api/feedback", json={"answer_id": refused["answer_id"], "helpful": True})
        assert r.status_code == 201, r.text

        assert_error(client.get("/api/feedback"), 401)
        assert_error(client.get("/api/feedback/export"), 401)
        listed = client.get("/api/feedback", headers=ADMIN).json()
        assert listed["total"] == 2
        newest, oldest = listed["feedback"]
        assert oldest["question"] == GDP_QUESTION and oldest["comment"] == "准确" and oldest["answer"] == good["answer"]
        assert newest["no_answer"] is True
        assert client.post("/api/ask", json={"question": GDP_QUESTION}).json()["answer"] == good["answer"], (
            "a rating never changes an answer")

        export = client.get("/api/feedback/export", headers=ADMIN)
        assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
        items = [json.loads(line) for line in export.text.splitlines()]
    assert [i["question"] for i in items] == [GDP_QUESTION, "二七区的区长是谁?"]
    assert items[0]["answerable"] is True and "760亿元" in items[0]["expect"][0] and items[1]["answerable"] is False
    result = evaluate_assistant(live.services.index.require(), items, read_corpus(live.settings.ingest.corpus_dir))
    assert result.metrics["questions"] == 2 and all(row["ok"] for row in result.rows), result.rows


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"helpful": True}, 400, ["answer_id"]),
        ({"answer_id": "42", "helpful": True}, 400, ["answer_id", "ans-"]),
        ({"answer_id": "ans-" + "0" * 32}, 400, ["helpful"]),
        ({"answer_id": "ans-" + "0" * 32, "helpful": "yes"}, 400, ["helpful", "true"]),
        ({"answer_id": "ans-" + "0" * 32, "helpful": 1}, 400, ["helpful"]),
        ({"answer_id": "ans-" + "0" * 32, "helpful": True, "comment": 5}, 400, ["comment"]),
        ({"answer_id": "ans-" + "0" * 32, "helpful": True, "answer": "改写"}, 400, ["answer"]),
        ({"answer_id": "ans-" + "0" * 32, "helpful": False, "comment": "长" * 1001}, 400, ["1000"]),
        ({"answer_id": "ans-" + "0" * 32, "helpful": False}, 404, ["ans-" + "0" * 32]),
        ([], 400, []),
    ],
)
def test_malformed_feedback_gets_a_4xx_that_says_why(api: httpx.Client, body: object, status: int,
                                                     words: list[str]) -> None:
    assert_error(api.post("/api/feedback", json=body), status, *words)


def test_feedback_that_is_not_json_is_a_400(api: httpx.Client) -> None:
    r = api.post("/api/feedback", content=b"helpful=yes", headers={"content-type": "application/json"})
    assert_error(r, 400)


def test_a_flood_of_feedback_is_rate_limited(server_with) -> None:
    live = server_with(rate_limit_loopback=True, rate_limit_per_minute=30, rate_limit_burst=4)
    with httpx.Client(base_url=live.url, timeout=60) as client:
        answer_id = client.post("/api/ask", json={"question": GDP_QUESTION}).json()["answer_id"]
        codes = [client.post("/api/feedback", json={"answer_id": answer_id, "helpful": False}).status_code
                 for _ in range(6)]
        assert codes[:3] == [201] * 3 and codes[-1] == 429, codes
        limited = client.post("/api/feedback", json={"answer_id": answer_id, "helpful": False})
        assert_error(limited, 429, "秒后再试")
        time.sleep(int(limited.headers["retry-after"]) + 0.2)
        assert client.post("/api/feedback", json={"answer_id": answer_id, "helpful": True}).status_code == 201
    assert live.services.feedback.count() == codes.count(201) + 1


# --- kill -9 ----------------------------------------------------------------------------------------------
def ui_process(index: Path, corpus: Path, log: Path):
    """`python ui.py` on an index of its own, once it answers /api/health."""
    return ui_subprocess(["ui.py"], index, corpus, log, TOKEN)


@pytest.mark.slow
def test_feedback_survives_kill_9_of_the_server(tmp_path: Path, web_settings) -> None:
    settings = indexed_copy(tmp_path / "copy", Path(web_settings.store.index_dir))
    index, corpus = Path(settings.store.index_dir), Path(settings.ingest.corpus_dir)
    log = tmp_path / "ui.log"
    with ui_process(index, corpus, log) as (base, proc):
        answer = httpx.post(base + "/api/ask", json={"question": GDP_QUESTION}, timeout=300).json()
        r = httpx.post(base + "/api/feedback", timeout=60,
                       json={"answer_id": answer["answer_id"], "helpful": False, "comment": "应给出2025年目标"})
        assert r.status_code == 201, r.text
        os.killpg(proc.pid, signal.SIGKILL)  # right after the 201: no shutdown, no flush
        proc.wait(timeout=30)
    with ui_process(index, corpus, log) as (base, _):
        listed = httpx.get(base + "/api/feedback", headers=ADMIN, timeout=60).json()
        assert [(f["answer_id"], f["helpful"], f["comment"]) for f in listed["feedback"]] == [
            (answer["answer_id"], False, "应给出2025年目标")]
        assert listed["feedback"][0]["answer"] == answer["answer"]
        again = httpx.post(base + "/api/feedback", json={"answer_id": answer["answer_id"], "helpful": True},
                           timeout=60)
        assert again.status_code == 201 and again.json()["feedback_id"] == r.json()["feedback_id"] + 1
