"""One question of a batch: the record `python -m assistant batch`, the evaluation and the benchmarks answer.

``answer_item(assistant, BatchItem(question=…, id=…))`` answers one item; a bad item (an unknown
task, a question that fails validation) gives a response with ``error`` set instead of raising, so a
batch goes on.  :func:`parse_line` reads a JSONL input line into an item.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assistant import texts
from assistant.response import AssistantResponse
from assistant.service import Assistant, error_response
from assistant.validation import InvalidRequest


@dataclass(frozen=True)
class BatchItem:
    """``{"id", "question", "history"?, "task"?}``: fields as sent, validated when the item is answered."""

    question: Any
    id: str | None = None
    history: Any = None
    task: Any = "ask"  # "ask" or "check"; anything else is answered with an error

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> BatchItem:
        """From a decoded input line or a gold-set item (an id of any type is kept as text)."""
        qid = item.get("id")
        return cls(
            item.get("question"), None if qid is None else str(qid), item.get("history"), item.get("task", "ask")
        )


class BadLine(ValueError):
    """An input line that is not a JSON object; the message is the reason."""


def parse_line(line: str) -> BatchItem:
    """One JSONL input line → its item; BadLine when it is not a JSON object."""
    try:
        item: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(exc.msg) from exc
    if not isinstance(item, dict):
        raise BadLine(texts.NOT_AN_OBJECT)
    return BatchItem.of(item)


def answer_item(assistant: Assistant, item: BatchItem) -> AssistantResponse:
    """The response to one item (with ``error`` set when the item is bad)."""
    try:
        if item.task == "ask":
            return assistant.ask(item.question, item.history, id=item.id)
        if item.task == "check":
            return assistant.check(item.question, id=item.id)
        raise InvalidRequest(texts.ERR_BAD_TASK.format(task=item.task))
    except InvalidRequest as exc:
        return error_response(item.id, item.question, str(exc))


def answer_line(assistant: Assistant, line: str) -> AssistantResponse:
    """One JSONL input line → one response (with ``error`` set when the line or its item is bad)."""
    try:
        item = parse_line(line)
    except BadLine as exc:
        return error_response(None, "", texts.ERR_BAD_LINE.format(reason=exc))
    return answer_item(assistant, item)
