"""Checks on what callers send, with messages a user can act on."""
from __future__ import annotations

import re
from typing import Any

from assistant import texts

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidRequest(ValueError):
    """Bad input: the message says what is wrong; nothing was done."""


def clean_question(question: Any, limit: int, empty: str = texts.ERR_EMPTY) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InvalidRequest(empty)
    question = question.strip()
    if len(question) > limit:
        raise InvalidRequest(texts.ERR_TOO_LONG.format(n=len(question), limit=limit))
    if _CONTROL.search(question):
        raise InvalidRequest(texts.ERR_CONTROL)
    return question


def clean_history(history: Any) -> list[dict[str, str]]:
    """OpenAI-style messages; system messages are ignored."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise InvalidRequest(texts.ERR_BAD_HISTORY)
    cleaned = []
    for message in history:
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant", "system") or not isinstance(message.get("content"), str):
            raise InvalidRequest(texts.ERR_BAD_HISTORY)
        if message["role"] != "system":
            cleaned.append({"role": message["role"], "content": message["content"]})
    return cleaned
