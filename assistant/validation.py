"""Checks on what callers send, with messages a user can act on."""
from __future__ import annotations

import re
from typing import Any

from assistant import texts
from assistant.settings import AnsweringSettings

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")



class InvalidRequest(ValueError):
    """Bad input: the message says what is wrong; nothing was done."""


def has_surrogate(text: str) -> bool:
    """A lone UTF-16 surrogate ("\\ud800" in JSON): not a character, and not encodable as UTF-8."""
    return _SURROGATE.search(text) is not None


def clean_question(question: Any, limit: int, empty: str = texts.ERR_EMPTY) -> str:
    if not isinstance(question, str) or not question.strip():
        raise InvalidRequest(empty)
    question = question.strip()
    if len(question) > limit:
        raise InvalidRequest(texts.ERR_TOO_LONG.format(n=len(question), limit=limit))
    if _CONTROL.search(question):
        raise InvalidRequest(texts.ERR_CONTROL)
    if has_surrogate(question):
        raise InvalidRequest(texts.ERR_SURROGATE)
    return question


def clean_history(history: Any, limits: AnsweringSettings) -> list[dict[str, str]]:
    """OpenAI-style messages; system messages are ignored.  Bounded like the question (``limits``:
    ``max_history_messages`` and the characters of one and of all): a 300,000-character turn took
    8 s of every user's time."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise InvalidRequest(texts.ERR_BAD_HISTORY)
    max_messages, max_message_chars = limits.max_history_messages, limits.max_history_message_chars
    max_chars = limits.max_history_chars
    if len(history) > max_messages:
        raise InvalidRequest(texts.ERR_HISTORY_MESSAGES.format(n=len(history), limit=max_messages))
    cleaned, total = [], 0
    for message in history:
        if (
            not isinstance(message, dict)
            or message.get("role") not in ("user", "assistant", "system")
            or not isinstance(message.get("content"), str)
        ):
            raise InvalidRequest(texts.ERR_BAD_HISTORY)
        content = message["content"]
        if len(content) > max_message_chars:
            raise InvalidRequest(texts.ERR_HISTORY_MESSAGE_CHARS.format(n=len(content), limit=max_message_chars))
        if has_surrogate(content):
            raise InvalidRequest(texts.ERR_SURROGATE)
        total += len(content)
        if message["role"] != "system":
            cleaned.append({"role": message["role"], "content": content})
    if total > max_chars:
        raise InvalidRequest(texts.ERR_HISTORY_CHARS.format(n=total, limit=max_chars))
    return cleaned
