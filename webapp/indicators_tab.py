"""The 指标一览 tab: every document's indicators as a searchable, sortable table in document order under their
sections, a CSV of what is shown, and a chart (matplotlib, through Gradio's Plot) putting each subject's achievement
next to its target.

The tab is filled when it is opened (nothing is computed while the page loads), from
:class:`webapp.indicators.IndicatorService`, which reads the index once per revision; the chart is drawn once per
set of pairs.  Every control has a visible Chinese label; the chart has a text twin for screen readers.
"""
from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlencode

import gradio as gr
import matplotlib

matplotlib.use("Agg")  # no display: figures are drawn to images

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ingest.pairing import IndicatorPair  # noqa: E402
from vectorstore.errors import StoreError  # noqa: E402
from vectorstore.layout import section_parts  # noqa: E402
from vectorstore.records import Indicator  # noqa: E402
from webapp import texts  # noqa: E402
from webapp.errors import public_message  # noqa: E402
from webapp.indicators import IndicatorQuery, IndicatorService, chart_pairs, value_text  # noqa: E402
from webapp.render import md_escape  # noqa: E402
from webapp.services import Services  # noqa: E402

log = logging.getLogger("webapp")

CHART_PAIRS = 8  # pairs drawn at most (the table lists them all)
CHART_FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "DejaVu Sans"]
ACTUAL_COLOUR, TARGET_COLOUR = "#64748b", "#dc2626"
_chart_cache: dict[tuple[Any, ...], Figure | None] = {}
_fonts: list[str] = []


def chart_fonts() -> list[str]:
    """The families of :data:`CHART_FONTS` this machine has (asked once: matplotlib logs a warning for every missing
    family on every text it draws), DejaVu Sans last for Latin and digits."""
    if not _fonts:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        _fonts.extend([f for f in CHART_FONTS if f in installed and f != "DejaVu Sans"] + ["DejaVu Sans"])
    return _fonts
_chart_lock = threading.Lock()


def _amount(i: Indicator) -> str:
    return f"{value_text(i)}{i.unit}"


def _period(i: Indicator) -> str:
    return i.period or texts.UI_NO_PERIOD


def table_rows(indicators: list[Indicator]) -> list[list[Any]]:
    rows = []
    for i in indicators:
        link = f"view/{i.doc_id}?start={i.start}&end={i.end}#passage"
        quote = f"{md_escape(i.text)} [{texts.UI_VIEW_LINK}]({link})"
        section = (section_parts(i.section) or [texts.UI_NO_SECTION])[-1]
        rows.append([section, i.subject, i.value, i.unit, i.period, texts.ORIENTATION_NAMES[i.orientation], quote,
                     i.source])
    return rows


def chart_figure(pairs: list[IndicatorPair]) -> Figure | None:
    """Each pair on a row of its own: the achievement's bar and the target's, as shares of the larger of the two
    (amounts of different units side by side), each labelled with its amount and period."""
    shown = pairs[:CHART_PAIRS]
    if not shown:
        return None
    key = tuple((p.actual.doc_id, p.actual.value_start, p.target.doc_id, p.target.value_start) for p in shown)
    with _chart_lock:
        if key in _chart_cache:
            return _chart_cache[key]
        figure = _draw(shown)
        if len(_chart_cache) > 32:
            _chart_cache.clear()
        _chart_cache[key] = figure
        return figure


def _draw(pairs: list[IndicatorPair]) -> Figure:
    fig = Figure(figsize=(9.6, 0.95 * len(pairs) + 1.3), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    font = {"family": chart_fonts()}
    height = 0.36
    for row, p in enumerate(pairs):
        a, t = float(p.actual.value), float(p.target.value)
        top = max(a, t) or 1.0
        y = len(pairs) - 1 - row
        ax.barh(y + height / 2, a / top, height, color=ACTUAL_COLOUR, label=texts.ORIENTATION_NAMES["actual"]
                if row == 0 else None)
        ax.barh(y - height / 2, t / top, height, color=TARGET_COLOUR, label=texts.ORIENTATION_NAMES["target"]
                if row == 0 else None)
        ax.text(a / top + 0.01, y + height / 2, f"{_amount(p.actual)}({_period(p.actual)})", va="center",
                fontdict=font, fontsize=10)
        ax.text(t / top + 0.01, y - height / 2, f"{_amount(p.target)}({_period(p.target)})", va="center",
                fontdict=font, fontsize=10)
    ax.set_yticks(range(len(pairs)), [p.actual.subject for p in reversed(pairs)], fontdict=font, fontsize=11)
    ax.set_xlim(0, 1.45)
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(texts.UI_INDICATORS_CHART_TITLE, fontdict=font, fontsize=13)
    ax.legend(prop={"family": chart_fonts(), "size": 10}, loc="lower right", frameon=False)
    return fig


def chart_summary(pairs: list[IndicatorPair]) -> str:
    """The chart in words (for screen readers, and wherever images are off)."""
    if not pairs:
        return texts.UI_INDICATORS_CHART_EMPTY
    items = ";".join(
        texts.UI_INDICATORS_CHART_ITEM.format(
            subject=p.actual.subject, actual=_amount(p.actual), actual_period=_period(p.actual),
            target=_amount(p.target), target_period=_period(p.target),
        )
        for p in pairs[:CHART_PAIRS]
    )
    more = ""
    if len(pairs) > CHART_PAIRS:
        more = texts.UI_INDICATORS_MORE_PAIRS.format(shown=CHART_PAIRS, total=len(pairs))
    return md_escape(texts.UI_INDICATORS_CHART_SUMMARY.format(items=items) + more)


def csv_link(query: IndicatorQuery) -> str:
    params = {k: v for k, v in (("q", query.q), ("doc_id", query.doc_id), ("orientation", query.orientation),
                                ("section", query.section)) if v}
    href = "api/indicators.csv" + (f"?{urlencode(params)}" if params else "")
    return (f'<a class="csv-link" id="indicator-csv-link" href="{href}" download="indicators.csv" '
            f'title="{texts.UI_INDICATORS_CSV_TITLE}">{texts.UI_INDICATORS_CSV}</a>')


def filled(indicators: IndicatorService, q: str | None, doc_id: str | None, side: str | None,
           section: str | None) -> tuple[Any, ...]:
    """(count line, table rows, CSV link, chart, chart in words) for these filters."""
    query = IndicatorQuery(q=(q or "").strip()[:200], doc_id=doc_id or None,
                           orientation=side if side in ("actual", "target") else None, section=section or None)
    try:
        kept, pairs = indicators.search(query)
        everything, _ = indicators.all()
    except StoreError as exc:
        log.warning("indicators tab: %s", exc)
        return texts.UI_FAILED_MARK + md_escape(public_message(exc)), [], "", None, ""
    shown = chart_pairs(pairs)
    count = texts.UI_INDICATORS_COUNT.format(
        n=len(kept), total=len(everything), actual=sum(i.orientation == "actual" for i in kept),
        target=sum(i.orientation == "target" for i in kept), pairs=len(shown),
    ) if kept else texts.UI_INDICATORS_EMPTY
    return count, table_rows(kept), csv_link(query), chart_figure(shown), chart_summary(shown)


def _choices(services: Services) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    try:
        docs = services.documents.all_documents()
        sections = services.indicators.sections()
    except StoreError:
        return [(texts.UI_INDICATORS_ALL_DOCS, "")], [(texts.UI_INDICATORS_ALL_SECTIONS, "")]
    doc_choices = [(texts.UI_INDICATORS_ALL_DOCS, "")] + [(d.title or d.source, d.doc_id) for d in docs]
    section_choices = [(texts.UI_INDICATORS_ALL_SECTIONS, "")] + [(s.replace(" › ", " / "), s) for s in sections]
    return doc_choices, section_choices


def indicators_tab(services: Services, tab: gr.Tab) -> None:
    """The tab's components and events (inside the tab's context)."""
    indicators = services.indicators
    gr.Markdown(texts.UI_INDICATORS_INTRO, elem_id="indicators-intro")
    with gr.Row(equal_height=True):
        search = gr.Textbox(label=texts.UI_INDICATORS_SEARCH_LABEL, placeholder=texts.UI_INDICATORS_SEARCH_PLACEHOLDER,
                            scale=3, elem_id="indicator-search", max_length=200)
        doc = gr.Dropdown(label=texts.UI_INDICATORS_DOC_LABEL, choices=[(texts.UI_INDICATORS_ALL_DOCS, "")], value="",
                          scale=2, elem_id="indicator-doc")
        side = gr.Radio(label=texts.UI_INDICATORS_SIDE_LABEL, choices=list(texts.UI_INDICATORS_SIDES), value="",
                        scale=2, elem_id="indicator-side")
        section = gr.Dropdown(label=texts.UI_INDICATORS_SECTION_LABEL,
                              choices=[(texts.UI_INDICATORS_ALL_SECTIONS, "")], value="", scale=2,
                              elem_id="indicator-section")
    with gr.Row(equal_height=True):
        count = gr.Markdown(elem_id="indicator-count")
        csv = gr.HTML(elem_id="indicator-csv")
    table = gr.Dataframe(
        headers=list(texts.UI_INDICATORS_HEADERS),
        datatype=["str", "str", "number", "str", "str", "str", "markdown", "str"],
        interactive=False, wrap=True, type="array", elem_id="indicator-table", max_height=520,
        column_widths=["13%", "17%", "8%", "7%", "8%", "6%", "30%", "11%"], label=texts.UI_TAB_INDICATORS,
        show_label=False,
    )
    chart = gr.Plot(label=texts.UI_INDICATORS_CHART_LABEL, elem_id="indicator-chart", format="png")
    summary = gr.Markdown(elem_id="indicator-chart-summary")

    filters = [search, doc, side, section]
    outputs = [count, table, csv, chart, summary]

    def refresh(q: str | None, doc_id: str | None, orientation: str | None, part: str | None):
        return filled(indicators, q, doc_id, orientation, part)

    def opened(q: str | None, doc_id: str | None, orientation: str | None, part: str | None):
        doc_choices, section_choices = _choices(services)
        doc_id = doc_id if doc_id in {v for _, v in doc_choices} else ""
        part = part if part in {v for _, v in section_choices} else ""
        return (gr.update(choices=doc_choices, value=doc_id), gr.update(choices=section_choices, value=part),
                *filled(indicators, q, doc_id, orientation, part))

    # One trigger per user action (not the search box's blur as well: leaving the box by clicking a filter would
    # send two requests whose replies may arrive in either order); every filter reads the box's current words.
    events: dict[str, Any] = dict(api_visibility="private", queue=False, trigger_mode="always_last")
    tab.select(opened, filters, [doc, section, *outputs], **events)
    search.submit(refresh, filters, outputs, **events)
    for control in (doc, side, section):
        control.input(refresh, filters, outputs, **events)
