"""End-to-end in a real browser: Debian's chromium driven by Playwright against the running app.

Needs /usr/bin/chromium (``make browser`` installs it with the CJK font; ``make test`` does so first);
the tests are skipped, with that reason, only when it is missing.  The answered chat is
photographed into the test's temporary folder: tests never write tracked files.  To refresh
the README's docs/screenshot-chat.png, run ``make screenshots`` (``ERQI_UPDATE_SCREENSHOTS=1``).
"""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

pytest.register_assert_rewrite("webapp_fixtures")
pytest_plugins = ["webapp_fixtures"]

from chromium import NEEDS_CHROMIUM, Page, photograph  # noqa: E402
from webapp_fixtures import GDP_QUESTION, PLAN, REVIEW, LiveServer  # noqa: E402

pytestmark = NEEDS_CHROMIUM

XSS_TEXT = (
    "安全测试公告<script>alert(1)</script>\n\n"
    "惠民驿站的开放时间是每天早上8点到晚上9点。"
    "驿站留言板上写着<script>alert(1)</script>这一行字。"
    "驿站门口的图片说明是<img src=x onerror=alert(1)>这个标签。\n"
)


def test_ask_see_cited_answer_and_its_source_then_the_documents(page: Page, tmp_path: Path) -> None:
    p = page.page
    expect(p.locator("#page-header h1")).to_have_text("二七区发展资料问答")
    expect(p.locator("#examples button")).to_have_count(5)

    sources = page.ask(GDP_QUESTION)
    answer = p.locator("#chat .message.bot").filter(has_text="760亿元").first
    expect(answer).to_contain_text("2020年,二七区地区生产总值达到760亿元")
    expect(answer).to_contain_text("[1]")
    expect(sources).to_contain_text("参考来源 · 1 条")

    mark = sources.locator("mark")
    expect(mark).to_have_count(0)  # collapsed until opened
    sources.locator(".title").click()
    expect(mark).to_be_visible()
    expect(mark).to_have_text("2020年,二七区地区生产总值达到760亿元")
    expect(sources).to_contain_text("是2015年的1.64倍")  # the rest of the quoted passage
    expect(sources).to_contain_text("秒懂五年 数字见证了发展高度")  # title › section
    expect(sources).to_contain_text("erqi-review-2016-2021.txt · 第 308–330 字")

    p.locator("#question-box textarea").blur()
    p.wait_for_timeout(800)  # let the accordion's opening animation finish
    photograph(p, "screenshot-chat.png", tmp_path, min_bytes=20_000)

    p.get_by_role("tab", name="文档").click()
    table = p.locator("#documents-table")
    expect(table).to_contain_text(PLAN)
    expect(table).to_contain_text(REVIEW)
    expect(table).to_contain_text("今后五年,二七将重点打造“六个区”")
    expect(table).to_contain_text("深耕“三个二七”出重彩")
    assert not page.dialogs and not page.errors, (page.dialogs, page.errors)


def test_documents_table_shows_where_not_who(page: Page) -> None:
    """Issue 20, item 5: was 「命令行(root@vm)」, the operating system's user and host, in the public table."""
    p = page.page
    p.get_by_role("tab", name="文档").click()
    table = p.locator("#documents-table")
    expect(table).to_contain_text(PLAN)
    expect(table).to_contain_text("命令行")
    expect(table).not_to_contain_text("@")


def test_follow_up_and_no_answer_in_the_page(page: Page) -> None:
    p = page.page
    p.locator("#examples button").filter(has_text="① 福华颐养院").click()
    expect(p.locator("#chat .message.bot").filter(has_text="317张").first).to_be_visible()
    expect(p.locator("#chat .thought-group")).to_have_count(1)  # ① answered, with its sources
    p.locator("#examples button").filter(has_text="② 它能服务多少人").click()
    expect(p.locator("#chat .message.bot").filter(has_text="6万余人").first).to_be_visible()
    expect(p.locator("#chat .thought-group")).to_have_count(2)

    related = page.ask("二七区的区长是谁?")
    expect(related).to_contain_text("相关段落")
    expect(p.locator("#chat .message.bot").filter(has_text="资料中没有找到答案").first).to_be_visible()


def test_fact_check_tab(page: Page, tmp_path: Path) -> None:
    p = page.page
    p.get_by_role("tab", name="核查").click()
    p.locator("#check-examples button").filter(has_text="800亿元").click()
    result = p.locator("#check-result")
    expect(result).to_contain_text("与资料记载不符")
    expect(result).to_contain_text("资料记载为760亿元")
    expect(result.locator("mark").first).to_contain_text("760亿元")
    expect(p.locator("#claim-box textarea")).to_have_value("二七区2020年地区生产总值达到800亿元")
    p.locator("#claim-box textarea").fill("福华颐养院设立床位317张")
    p.locator("#check-button").click()
    expect(result).to_contain_text("资料支持这一说法")
    p.screenshot(path=str(tmp_path / "check.png"))


def test_script_in_a_document_is_shown_as_text_never_run(page: Page, live_server: LiveServer) -> None:
    p = page.page
    with httpx.Client(base_url=live_server.url, timeout=60) as api:
        created = api.post("/api/documents", files={"file": ("安全测试.txt", XSS_TEXT.encode("utf-8"), "text/plain")})
        assert created.status_code == 201, created.text
        doc_id = created.json()["document"]["doc_id"]
        try:
            for n, question in enumerate(("驿站留言板上写着什么?", "驿站门口的图片说明是什么?"), start=1):
                page.ask(question).locator(".title").click()
                expect(p.locator("#chat .thought-group")).to_have_count(n)
            chat = p.locator("#chat")
            expect(chat).to_contain_text("驿站留言板上写着<script>alert(1)</script>这一行字。")
            expect(chat).to_contain_text("驿站门口的图片说明是<img src=x onerror=alert(1)>这个标签。")
            expect(chat.locator("mark").first).to_contain_text("<script>alert(1)</script>")
            expect(chat).to_contain_text("安全测试公告<script>alert(1)</script>")  # the document title, in the sources
            assert chat.locator("script").count() == 0 and chat.locator("img[src=x]").count() == 0

            p.get_by_role("tab", name="文档").click()
            expect(p.locator("#documents-table")).to_contain_text("安全测试公告<script>alert(1)</script>")
            p.wait_for_timeout(300)  # give any injected handler a chance to fire
            assert page.dialogs == [], page.dialogs
            assert not page.errors, page.errors
        finally:
            api.delete(f"/api/documents/{doc_id}")


def test_upload_and_delete_in_the_documents_tab(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    p = page.page
    upload = tmp_path / "侯寨公园.md"
    upload.write_text("# 侯寨森林公园\n\n侯寨森林公园占地面积约为1200亩,设有健身步道5公里。\n", encoding="utf-8")
    p.get_by_role("tab", name="文档").click()
    page.choose_file(upload)
    p.locator("#upload-button").click()
    message = p.locator("#documents-message")
    expect(message).to_contain_text("《侯寨森林公园》已加入索引", timeout=60_000)
    expect(p.locator("#documents-table")).to_contain_text("侯寨公园.md")
    assert (Path(live_server.settings.ingest.corpus_dir) / "侯寨公园.md").is_file()

    p.locator("#delete-choice input").click()
    p.get_by_role("option", name="侯寨森林公园(侯寨公园.md)").click()
    p.locator("#delete-button").click()
    expect(message).to_contain_text("已删除《侯寨森林公园》")
    expect(p.locator("#documents-table")).not_to_contain_text("侯寨公园.md")
    assert not (Path(live_server.settings.ingest.corpus_dir) / "侯寨公园.md").exists()


def test_page_without_an_index_says_what_to_do(browser, empty_server: LiveServer) -> None:
    page = Page(browser, empty_server.url)
    try:
        expect(page.page.locator("#index-status")).to_contain_text("还没有可供检索的文档")
        page.page.fill("#question-box textarea", GDP_QUESTION)
        page.page.keyboard.press("Enter")
        expect(page.page.locator("#chat .message.bot").first).to_contain_text("请先在「文档」标签页上传文件")
    finally:
        page.context.close()


def test_api_docs_render_without_internet(browser, base_url: str) -> None:
    """Swagger UI comes from the installed package: nothing is fetched from a CDN."""
    context = browser.new_context()
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base_url) else None)
    page.goto(base_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("API")
    expect(page.locator(".opblock-summary-path", has_text="/api/ask").first).to_be_visible()
    context.close()
    assert outside == []
