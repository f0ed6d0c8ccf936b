"""Issue 13 in a real browser (Debian chromium via Playwright): a page on another origin cannot write,
the documents tab needs a login when a token is set, re-indexing asks for confirmation."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from gradio.utils import get_upload_folder
from playwright.sync_api import expect

from common import free_port

pytest.register_assert_rewrite("webapp_fixtures")
pytest_plugins = ["webapp_fixtures"]

from chromium import NEEDS_CHROMIUM, TIMEOUT_MS, Page  # noqa: E402
from webapp_fixtures import GDP_QUESTION, LiveServer  # noqa: E402

pytestmark = NEEDS_CHROMIUM

ATTACK = """<!doctype html><html><body><script>
const target = "%(target)s";
function planted() {
  const form = new FormData();
  const text = "二七区统计快报\\n\\n二七区2020年地区生产总值为9999亿元。\\n";
  form.append("file", new Blob([text], {type: "text/plain"}), "统计快报.txt");
  return form;
}
Promise.allSettled([
  fetch(target + "/api/documents", {method: "POST", mode: "no-cors", body: planted()}),
  fetch(target + "/api/reindex",
        {method: "POST", mode: "no-cors", body: '{"confirm": true}', headers: {"Content-Type": "text/plain"}}),
  fetch(target + "/gradio_api/upload", {method: "POST", mode: "no-cors", body: planted()}),
]).then(() => { document.title = "done"; });
</script></body></html>"""


@pytest.fixture
def attacker(base_url: str) -> Iterator[str]:
    """A web site on another origin (another port of localhost) serving a page that tries to write to the app."""
    page = (ATTACK % {"target": base_url}).encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://localhost:{server.server_address[1]}/"
    server.shutdown()


def test_a_page_on_another_origin_cannot_plant_a_document(browser, attacker: str, live_server: LiveServer) -> None:
    """Was: a no-cors multipart fetch from another origin planted a document; GDP then answered 9999亿元 first."""
    corpus = Path(live_server.settings.ingest.corpus_dir)
    before = sorted(p.name for p in corpus.iterdir())
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(attacker)
        expect(page).to_have_title("done", timeout=TIMEOUT_MS)
    finally:
        context.close()
    with httpx.Client(base_url=live_server.url, timeout=60) as api:
        sources = {d["source"] for d in api.get("/api/documents").json()["documents"]}
        assert "统计快报.txt" not in sources
        answer = api.post("/api/ask", json={"question": GDP_QUESTION}).json()["answer"]
    assert "9999" not in answer and "760亿元" in answer
    assert sorted(p.name for p in corpus.iterdir()) == before


def test_documents_tab_needs_a_login_when_a_token_is_set(browser, server_with, tmp_path: Path) -> None:
    live = server_with(admin_token="page-token")
    upload = tmp_path / "侯寨公园.md"
    upload.write_text("# 侯寨森林公园\n\n侯寨森林公园占地面积约为1200亩。\n", encoding="utf-8")
    page = Page(browser, live.url)
    try:
        p = page.page
        p.get_by_role("tab", name="文档").click()
        expect(p.locator("#write-notice")).to_contain_text("需要管理员登录")
        # the upload widget is served after the login only (its route refuses anonymous uploads: test_security_api)
        expect(p.locator("#upload-files input[type=file]")).to_have_count(0)
        p.locator("#upload-button").click()
        expect(p.locator("#documents-message")).to_contain_text("请先以管理员身份登录")
        assert not (Path(live.settings.ingest.corpus_dir) / "侯寨公园.md").exists()

        p.fill("#login-token input", "wrong")
        p.locator("#login-button").click()
        expect(p.locator("#login-message")).to_contain_text("令牌不正确")
        p.fill("#login-token input", "page-token")
        p.locator("#login-button").click()
        expect(p.locator("#login-message")).to_contain_text("已登录")
        page.choose_file(upload)
        p.locator("#upload-button").click()
        expect(p.locator("#documents-message")).to_contain_text("《侯寨森林公园》已加入索引", timeout=60_000)
        expect(p.locator("#documents-table")).to_contain_text("上传(page-login)")
        assert not list(Path(get_upload_folder()).rglob(upload.name)), "the widget's copy is removed once indexed"
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_reindex_asks_for_confirmation_in_the_page(browser, live_server: LiveServer) -> None:
    page = Page(browser, live_server.url)
    try:
        p = page.page
        p.get_by_role("tab", name="文档").click()
        expect(p.locator("#write-notice")).to_contain_text("127.0.0.1")
        expect(p.locator("#reindex-confirm-button")).to_be_hidden()
        p.locator("#reindex-button").click()
        expect(p.locator("#documents-message")).to_contain_text("确认请点「确认重新索引」")
        p.locator("#reindex-confirm-button").click()
        expect(p.locator("#documents-message")).to_contain_text("重新索引完成")
        expect(p.locator("#reindex-confirm-button")).to_be_hidden()
    finally:
        page.context.close()
