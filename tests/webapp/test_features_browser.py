"""Issue 22 in a real browser (Debian's chromium driven by Playwright, the running app on the real index): the
指标一览 tab, a citation opening its passage in the document view, and the rating buttons with staff's view of the
ratings.

Screenshots go to the test's temporary folder; with ``ERQI_UPDATE_SCREENSHOTS=1`` (``make screenshots``) they
replace the README's docs/screenshot-indicators.png, docs/screenshot-document-view.png and
docs/screenshot-feedback.png.  A test run never writes tracked files otherwise.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytest.register_assert_rewrite("webapp_fixtures")
pytest_plugins = ["webapp_fixtures"]

from chromium import NEEDS_CHROMIUM, Page, photograph  # noqa: E402
from webapp_fixtures import GDP_QUESTION, REVIEW, LiveServer  # noqa: E402

pytestmark = NEEDS_CHROMIUM


def visible_rows(p) -> list[list[str]]:
    """The indicator table's rows as the grid shows them to assistive technology (cells in column order)."""
    rows = p.get_by_role("grid", name="指标一览").get_by_role("row")
    cells = [[c.strip() for c in row.get_by_role("gridcell").all_inner_texts()] for row in rows.all()]
    return [row for row in cells if row]


def test_indicators_tab_table_search_sort_chart_and_csv(page: Page, base_url: str, tmp_path: Path) -> None:
    p = page.page
    p.get_by_role("tab", name="指标一览").click()
    table, count = p.locator("#indicator-table"), p.locator("#indicator-count")
    expect(count).to_contain_text(re.compile(r"共 \d+ 条指标"))
    expect(table).to_contain_text("地区生产总值突破1200亿元")
    expect(table).to_contain_text("二七区地区生产总值达到760亿元")
    chart = p.locator("#indicator-chart img")
    expect(chart).to_be_visible()
    summary = p.locator("#indicator-chart-summary")
    expect(summary).to_contain_text("地区生产总值:实际 760亿元(2020),目标 1200亿元(2025)")
    expect(summary).to_contain_text("运作重大项目:实际 770个")
    # every control is named for keyboards and screen readers
    expect(p.get_by_role("textbox", name="搜索指标")).to_be_visible()
    for name in ("文档", "章节"):
        expect(p.get_by_role("combobox", name=name, exact=True)).to_be_visible()
    for name in ("全部", "实际", "目标"):
        expect(p.get_by_role("radio", name=name, exact=True)).to_be_visible()
    expect(p.get_by_role("grid", name="指标一览")).to_be_visible()
    p.locator("#indicator-chart").scroll_into_view_if_needed()
    p.wait_for_timeout(500)
    photograph(p, "screenshot-indicators.png", tmp_path, full_page=True)

    # search: the table, the count, the chart and the CSV link follow the words
    p.get_by_label("搜索指标").fill("项目")
    p.get_by_label("搜索指标").press("Enter")
    expect(table).not_to_contain_text("地区生产总值突破1200亿元")
    expect(table).to_contain_text("新开工项目")
    expect(summary).not_to_contain_text("地区生产总值")
    csv_link = p.locator("#indicator-csv-link")
    expect(csv_link).to_have_attribute("href", re.compile(r"api/indicators\.csv\?q=%E9%A1%B9%E7%9B%AE"))
    csv = p.request.get(f"{base_url}/{csv_link.get_attribute('href')}")  # relative to the page's root
    assert csv.ok and "新开工项目" in csv.text() and "地区生产总值" not in csv.text()

    # targets only, sorted by value through the table's own header menu
    p.get_by_label("目标", exact=True).check()
    expect(table).not_to_contain_text("运作重大项目")
    value_header = table.locator("thead th").filter(has_text="数值")
    value_header.hover()
    value_header.locator("button.cell-menu-button").click(force=True)
    p.get_by_role("menuitem", name="降序排序").click()
    p.wait_for_timeout(300)
    values = [float(row[2]) for row in visible_rows(p) if row and row[2]]
    assert values and values == sorted(values, reverse=True), values
    assert {row[5] for row in visible_rows(p) if len(row) > 5} == {"目标"}
    assert not page.dialogs and not page.errors, (page.dialogs, page.errors)


def test_a_citation_opens_the_passage_in_its_document(page: Page, base_url: str, tmp_path: Path) -> None:
    p = page.page
    page.ask(GDP_QUESTION)
    marker = p.locator("#chat .message.bot a").filter(has_text="[1]").first
    expect(marker).to_have_attribute("title", "在原文中查看第 1 条出处")
    with page.context.expect_page() as opened:
        marker.click()
    view = opened.value
    view.wait_for_load_state()
    mark = view.locator("mark#passage")
    expect(mark).to_have_text("2020年,二七区地区生产总值达到760亿元")
    expect(mark).to_be_in_viewport()  # scrolled into view
    expect(view.locator("nav.where")).to_contain_text("秒懂五年 数字见证了发展高度")
    expect(view.locator("#passage-path")).to_contain_text("秒懂五年 数字见证了发展高度")  # the section, above it
    expect(view.locator("main")).to_contain_text("是2015年的1.64倍")  # the document around it
    link = view.locator("#passage-link").get_attribute("href") or ""
    assert re.fullmatch(r"/view/doc-[0-9a-f]+\?start=308&end=330#passage", link), link
    photograph(view, "screenshot-document-view.png", tmp_path)
    view.close()

    # the stable link, opened directly (shared), shows the same passage
    shared = page.context.new_page()
    shared.goto(base_url + link)
    expect(shared.locator("mark#passage")).to_have_text("2020年,二七区地区生产总值达到760亿元")
    expect(shared.locator("mark#passage")).to_be_in_viewport()
    shared.close()

    # the same view from the documents tab
    p.get_by_role("tab", name="文档").click()
    with page.context.expect_page() as opened:
        p.locator("#document-links a").filter(has_text="深耕“三个二七”出重彩").click()
    whole = opened.value
    expect(whole.locator("h1")).to_contain_text("深耕“三个二七”出重彩")
    expect(whole.locator(".meta").last).to_contain_text(REVIEW)
    expect(whole.locator("mark")).to_have_count(0)
    whole.close()
    assert not page.dialogs and not page.errors, (page.dialogs, page.errors)


def test_rating_an_answer_and_staff_see_it(page: Page, live_server: LiveServer, tmp_path: Path) -> None:
    p = page.page
    helpful = p.get_by_role("button", name="有帮助", exact=True)
    unhelpful = p.get_by_role("button", name="没帮助", exact=True)
    message = p.locator("#rate-message")
    helpful.click()
    expect(message).to_contain_text("请先提问")

    page.ask("到2025年地区生产总值的目标是多少?")
    expect(p.locator("#chat .message.bot").filter(has_text="1200亿元").first).to_be_visible()
    p.get_by_label("补充意见(可选)").fill("希望同时给出2020年的实际值")
    unhelpful.click()
    expect(message).to_contain_text("已记录您对最近一个回答的评价(没帮助)")
    expect(p.get_by_label("补充意见(可选)")).to_have_value("")
    mine = next(e for e in live_server.services.feedback.entries() if e.comment == "希望同时给出2020年的实际值")
    assert mine.helpful is False and mine.question == "到2025年地区生产总值的目标是多少?" and "1200亿元" in mine.answer
    message.scroll_into_view_if_needed()
    photograph(p, "screenshot-feedback.png", tmp_path)

    p.get_by_role("tab", name="文档").click()  # staff (here: this machine, no token set) see the ratings
    section = p.locator("#feedback-section:visible")
    expect(section).to_have_count(1)
    expect(section.locator("#feedback-table")).to_contain_text("希望同时给出2020年的实际值")
    expect(section.locator("#feedback-export")).to_be_visible()
    with p.expect_download() as download:
        section.locator("#feedback-export").click()
    exported = Path(download.value.path()).read_text(encoding="utf-8")
    assert '"question":"到2025年地区生产总值的目标是多少?"' in exported and '"review":true' in exported
    assert not page.dialogs and not page.errors, (page.dialogs, page.errors)
