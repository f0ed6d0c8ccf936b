"""The page's side of feedback: text buttons (有帮助 / 没帮助, no emoji font needed) and a comment under the chat that
rate the latest answer, and, for staff, the ratings in the documents tab with their export as an evaluation set.

A rating goes to the same service as ``POST /api/feedback`` (and through the same rate limit: the page's events
are state-changing requests of the guard).  The staff section is filled only for callers who may write (a
logged-in admin, or with no token set this machine), checked again on every event, never sent to anyone else.
"""
from __future__ import annotations

import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr

from webapp import texts
from webapp.feedback import FeedbackService, FeedbackUnavailable, UnknownAnswer, eval_lines
from webapp.render import md_escape
from webapp.types import FeedbackEntry

log = logging.getLogger("webapp")

ANSWER_PREVIEW_CHARS = 80


class RatingControls:
    """The rating row under the chat (inside the chat tab's context)."""

    def __init__(self) -> None:
        with gr.Group(elem_id="rating"):
            gr.Markdown(texts.UI_RATE_TITLE, elem_id="rating-title")
            with gr.Row(equal_height=True):
                self.helpful = gr.Button(texts.UI_RATE_HELPFUL, size="sm", scale=1, elem_id="rate-helpful")
                self.unhelpful = gr.Button(texts.UI_RATE_UNHELPFUL, size="sm", scale=1, elem_id="rate-unhelpful")
                self.comment = gr.Textbox(label=texts.UI_RATE_COMMENT_LABEL,
                                          placeholder=texts.UI_RATE_COMMENT_PLACEHOLDER, scale=5, max_lines=3,
                                          elem_id="rate-comment")
            self.message = gr.Markdown(elem_id="rate-message")
        self.answer = gr.State(None)  # the answer_id of the latest answer

    def wire(self, feedback: FeedbackService, limit: int) -> None:
        def rate(helpful: bool):
            def run(answer_id: str | None, comment: str | None) -> tuple[str, Any]:
                return rate_answer(feedback, answer_id, helpful, comment, limit)
            return run

        for button, helpful in ((self.helpful, True), (self.unhelpful, False)):
            button.click(rate(helpful), [self.answer, self.comment], [self.message, self.comment],
                         api_visibility="private")
        self.answer.change(lambda: "", None, self.message, api_visibility="private", queue=False)


def rate_answer(feedback: FeedbackService, answer_id: str | None, helpful: bool, comment: str | None,
                limit: int) -> tuple[str, Any]:
    """(the message, the comment box's value): the rating stored, or why not."""
    if not answer_id:
        return texts.UI_RATE_NOTHING, gr.update()
    comment = (comment or "").strip()
    if len(comment) > limit:
        message = texts.ERR_FEEDBACK_COMMENT_TOO_LONG.format(limit=limit, n=len(comment))
        return texts.UI_RATE_FAILED.format(message=md_escape(message)), gr.update()
    try:
        feedback.add(answer_id, helpful, comment)
    except UnknownAnswer:
        message = texts.ERR_FEEDBACK_UNKNOWN_ANSWER.format(answer_id=answer_id)
        return texts.UI_RATE_FAILED.format(message=md_escape(message)), gr.update()
    except FeedbackUnavailable:
        return texts.UI_RATE_FAILED.format(message=md_escape(texts.ERR_FEEDBACK_UNAVAILABLE)), gr.update()
    return texts.UI_RATE_THANKS.format(verdict=texts.UI_RATE_VERDICTS[helpful]), ""


class FeedbackSection:
    """Staff's view of the ratings in the documents tab (hidden until the caller may write)."""

    def __init__(self) -> None:
        # a Column, not a Group: Gradio 6 renders a Group whose visibility an event changes twice
        with gr.Column(visible=False, elem_id="feedback-section", variant="panel") as self.group:
            gr.Markdown(f"{texts.UI_FEEDBACK_TITLE}\n{texts.UI_FEEDBACK_INTRO}")
            self.count = gr.Markdown(elem_id="feedback-count")
            self.table = gr.Dataframe(headers=list(texts.UI_FEEDBACK_HEADERS), datatype="str", interactive=False,
                                      wrap=True, type="array", elem_id="feedback-table", max_height=360,
                                      column_widths=["14%", "8%", "28%", "30%", "20%"], show_label=False,
                                      label=texts.UI_FEEDBACK_TITLE.lstrip("# "))
            with gr.Row():
                self.refresh = gr.Button(texts.UI_FEEDBACK_REFRESH, size="sm", elem_id="feedback-refresh")
                self.export = gr.DownloadButton(texts.UI_FEEDBACK_EXPORT, size="sm", elem_id="feedback-export")

    @property
    def outputs(self) -> list[Any]:
        return [self.group, self.count, self.table, self.export]


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def feedback_rows(entries: list[FeedbackEntry]) -> list[list[str]]:
    rows = []
    for e in entries:
        answer = e.answer if len(e.answer) <= ANSWER_PREVIEW_CHARS else e.answer[:ANSWER_PREVIEW_CHARS] + "…"
        rows.append([_when(e.created), texts.UI_RATE_VERDICTS[e.helpful], e.question, answer, e.comment])
    return rows


def export_file(entries: list[FeedbackEntry]) -> str:
    """The ratings as an evaluation set, written to this process's one export file for the download button
    (Gradio copies it into its cache and serves it to admins only)."""
    folder = Path(tempfile.gettempdir()) / f"erqi-feedback-{os.getpid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "feedback-eval.jsonl"
    path.write_text(eval_lines(entries), encoding="utf-8")
    return str(path)


def staff_view(feedback: FeedbackService, allowed: bool) -> tuple[Any, ...]:
    """The section's updates: shown and filled for staff, hidden and empty for everyone else."""
    if not allowed:
        return gr.Column(visible=False), "", [], gr.DownloadButton(value=None)
    try:
        entries = feedback.entries()
    except FeedbackUnavailable:
        return gr.Column(visible=True), texts.UI_FAILED_MARK + texts.ERR_FEEDBACK_UNAVAILABLE, [], gr.DownloadButton()
    helpful = sum(e.helpful for e in entries)
    count = texts.UI_FEEDBACK_COUNT.format(n=len(entries), helpful=helpful, unhelpful=len(entries) - helpful)
    return gr.Column(visible=True), count, feedback_rows(entries), gr.DownloadButton(value=export_file(entries))
