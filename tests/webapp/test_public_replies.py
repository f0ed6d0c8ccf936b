"""Issue 20, item 5: nothing internal in public replies.  The public /api/health returned the absolute index and
corpus folders, 503 bodies carried the index path, Chroma's own error text and the Chroma server's host:port, and
the public documents table showed who ingested each file as the operating system's user@host.  Now replies say
what to do (中文 / English) and the details go to the log and to the admin view (callers who may write)."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

pytest.register_assert_rewrite("webapp_fixtures")
pytest_plugins = ["webapp_fixtures"]

from webapp.page import table_rows  # noqa: E402

from common import free_port  # noqa: E402
from webapp_fixtures import GDP_QUESTION, LiveServer, serve, web_settings_for  # noqa: E402

TOKEN = "public-replies-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
ADMIN_ONLY = {"index_dir", "corpus_dir", "detail", "problems"}


def leaks(text: str, *secrets: str) -> list[str]:
    return [s for s in secrets if s and s in text]


def test_public_health_shows_no_folders_and_the_admin_view_does(server_with) -> None:
    """Was: the public /api/health returned the absolute index_dir and corpus_dir."""
    live = server_with(admin_token=TOKEN)
    index, corpus = str(live.settings.store.index_dir), str(live.settings.ingest.corpus_dir)
    with httpx.Client(base_url=live.url, timeout=30) as client:
        public = client.get("/api/health")
        assert public.status_code == 200 and public.json()["status"] == "ok"
        assert not ADMIN_ONLY & set(public.json()), public.json()
        assert not leaks(public.text, index, corpus, str(Path(index).parent)), public.text
        assert public.json()["keyword_index"]["error"] is None
        admin = client.get("/api/health", headers=ADMIN).json()
        assert admin["index_dir"] == index and admin["corpus_dir"] == corpus and "problems" in admin
        wrong = client.get("/api/health", headers={"Authorization": "Bearer wrong"})
        assert wrong.json().keys() == public.json().keys()


def test_missing_index_503_says_what_to_do_without_the_index_path(empty_server: LiveServer) -> None:
    """Was: 「索引不存在或为空(/tmp/…/no-index-yet)」 in every 503 body and in /api/health's message."""
    index = str(empty_server.settings.store.index_dir)
    with httpx.Client(base_url=empty_server.url, timeout=30) as client:
        for r in (
            client.post("/api/ask", json={"question": GDP_QUESTION}),
            client.post("/api/check", json={"claim": "福华颐养院设立床位317张"}),
            client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": GDP_QUESTION}]}),
        ):
            message = r.json()["error"]["message"]
            assert r.status_code == 503 and "python -m ingest" in message and "上传" in message, message
            assert not leaks(r.text, index, "no-index-yet"), r.text
        health = client.get("/api/health").json()  # loopback, no token: the admin view
        assert health["status"] == "index_missing" and not leaks(health["message"], index)
        assert index in health["detail"], "the admin view keeps the details"


def test_chroma_server_away_gives_503_without_host_port_or_library_text(tmp_path: Path) -> None:
    """Was: 「Chroma 服务器 127.0.0.1:PORT 无法连接… [Errno 111] Connection refused」 in 503 bodies and /api/health."""
    port = free_port()  # nobody listens there
    settings = web_settings_for(tmp_path / "index", tmp_path / "corpus", chroma_host="127.0.0.1", chroma_port=port,
                                admin_token=TOKEN)
    live = serve(settings)
    secrets = (f"127.0.0.1:{port}", str(port), "Errno", "refused", "Connection", str(tmp_path))
    try:
        with httpx.Client(base_url=live.url, timeout=30) as client:
            answers = [
                client.post("/api/ask", json={"question": GDP_QUESTION}),
                client.post("/api/check", json={"claim": "福华颐养院设立床位317张"}),
                client.post("/v1/chat/completions",
                            json={"stream": True, "messages": [{"role": "user", "content": GDP_QUESTION}]}),
                client.get("/api/documents"),
            ]
            for r in answers:
                assert r.status_code == 503 and "Chroma" in r.json()["error"]["message"], r.text
                assert not leaks(r.text, *secrets), r.text
            public = client.get("/api/health")
            assert public.json()["status"] == "error" and not leaks(public.text, *secrets), public.text
            assert str(port) in client.get("/api/health", headers=ADMIN).json()["detail"]
            page = client.get("/config")  # the page as it is served (its status line is in there)
            assert page.status_code == 200 and not leaks(page.text, *secrets)
    finally:
        live.stop()


def test_public_document_list_shows_where_not_who(server_with, tmp_path: Path) -> None:
    """Was: 「随附资料(root@vm)」 in the public documents table; `added_by` = user@host in the public list."""
    from ingest.pipeline import run_ingest

    live = server_with(admin_token=TOKEN)
    elsewhere = tmp_path / "elsewhere" / "外部资料.txt"
    elsewhere.parent.mkdir()
    elsewhere.write_text("外部资料\n\n马寨镇新建文化广场一座。\n", encoding="utf-8")
    live.services.documents.embedder.wait_idle(60)
    run_ingest(live.settings, [elsewhere], show_progress=False)  # `python -m ingest` by this user on this host
    with httpx.Client(base_url=live.url, timeout=30) as client:
        public = client.get("/api/documents")
        assert {d["added_by"] for d in public.json()["documents"]} == {None}
        assert {d["origin"] for d in public.json()["documents"]} == {"cli"} and "@" not in public.text
        admin = {d["source"]: d for d in client.get("/api/documents", headers=ADMIN).json()["documents"]}
        assert "@" in admin["外部资料.txt"]["added_by"]
        # the documents table as the page serves it (the reports of this corpus copy were ingested by user@host)
        components = json.loads(client.get("/config").text)["components"]
        table = json.dumps([c for c in components if c.get("props", {}).get("elem_id") == "documents-table"],
                           ensure_ascii=False)
        assert "命令行" in table and "@" not in table, table
    docs = live.services.documents.all_documents()
    assert not any("@" in str(cell) for row in table_rows(docs) for cell in row)
    assert any("@" in str(cell) for row in table_rows(docs, admin=True) for cell in row), "a logged-in admin sees who"
