"""An OpenAI-compatible chat endpoint, so any OpenAI client or chat front-end can use the assistant.

``POST /v1/chat/completions``: the last message must come from the user and is
the question; earlier user/assistant messages are the history (system messages
are ignored).  The reply's content is the answer with its [n] markers; the
citations themselves are in an extra top-level ``citations`` field (and, when
streaming, in the final chunk).  ``GET /v1/models`` lists the one model.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from assistant.response import AssistantResponse
from vectorstore.errors import StoreError
from webapp import texts
from webapp.api import ApiError, ErrorResponse, OptionalText
from webapp.backend import Backend

MODEL_ID = "erqi-qa"
log = logging.getLogger("webapp")


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: Any = None


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, … are accepted and ignored
    model: OptionalText = Field(None, examples=[MODEL_ID])
    messages: list[ChatMessageIn] = Field(examples=[[{"role": "user", "content": texts.API_EXAMPLE_QUESTION}]])
    stream: bool = False


def _text(content: Any) -> str:
    """String content, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                parts.append(part["text"])
            else:
                raise ApiError(400, texts.ERR_BAD_MESSAGES.format(reason="only text content parts are supported"))
        return "".join(parts)
    if content is None:
        return ""
    raise ApiError(400, texts.ERR_BAD_MESSAGES.format(reason="content must be a string or a list of text parts"))


def split_messages(messages: list[ChatMessageIn]) -> tuple[str, list[dict[str, str]]]:
    """(question, history) from an OpenAI message list."""
    if not messages or messages[-1].role != "user":
        raise ApiError(400, texts.ERR_NO_USER_MESSAGE)
    history = []
    for m in messages[:-1]:
        if m.role in ("system", "developer"):
            continue
        if m.role not in ("user", "assistant"):
            raise ApiError(400, texts.ERR_BAD_MESSAGES.format(reason=f"unsupported role {m.role!r}"))
        history.append({"role": m.role, "content": _text(m.content)})
    return _text(messages[-1].content), history


def _usage(question: str, history: list[dict[str, str]], answer: str) -> dict[str, int]:
    prompt = len(question) + sum(len(m["content"]) for m in history)  # characters: there is no tokenizer
    return {"prompt_tokens": prompt, "completion_tokens": len(answer), "total_tokens": prompt + len(answer)}


def _extras(response: AssistantResponse) -> dict[str, Any]:
    return {
        "citations": [c.model_dump() for c in response.citations],
        "short_answer": response.short_answer.model_dump() if response.short_answer else None,
        "no_answer": response.no_answer,
        "confidence": response.confidence,
        "tentative": response.tentative,
        "conflict": response.conflict,
        "related": [r.model_dump() for r in response.related],
    }


def completion(response: AssistantResponse, model: str, history: list[dict[str, str]]) -> dict[str, Any]:
    """A chat.completion object; ``citations``, ``short_answer``, ``no_answer``, ``confidence``, ``tentative``,
    ``conflict`` and ``related`` are extra top-level fields."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": response.mode,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": response.answer},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(response.question, history, response.answer),
    } | _extras(response)


def completion_chunks(pieces: Iterator[str | AssistantResponse], model: str) -> Iterator[str]:
    """Server-sent events: the role, the answer as it is produced, a final chunk with the citations, [DONE].

    The final chunk also carries ``answer``: the authoritative text (with an LLM,
    unverifiable sentences are dropped after streaming, so it may differ from the pieces).
    """
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def event(delta: dict, finish: str | None = None, **extra: Any) -> str:
        chunk = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]} | extra
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    final: AssistantResponse | None = None
    try:
        for piece in pieces:
            if isinstance(piece, str):
                yield event({"content": piece})
            else:
                final = piece
    except Exception as exc:  # noqa: BLE001 - the stream has begun: the error is an event, and the stream still ends
        log.exception("streaming an answer failed")
        message = str(exc) if isinstance(exc, StoreError) else texts.ERR_INTERNAL
        error = {"message": message, "type": "server_error", "code": 503 if isinstance(exc, StoreError) else 500}
        yield f"data: {json.dumps({'error': error}, ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"
        return
    if final is not None:
        yield event({}, "stop", answer=final.answer, **_extras(final))
    else:  # cannot happen with a well-behaved assistant; end the stream cleanly anyway
        yield event({}, "stop")
    yield "data: [DONE]\n\n"


def openai_router(backend: Backend) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["openai-compatible"])

    @router.post(
        "/chat/completions",
        summary="OpenAI-compatible chat completion (stream and non-stream)",
        responses={
            400: {"model": ErrorResponse},
            503: {"model": ErrorResponse},
            200: {
                "content": {"text/event-stream": {}},
                "description": "a chat.completion object, or SSE chunks when stream=true",
            },
        },
    )
    def chat_completions(body: ChatCompletionRequest):
        question, history = split_messages(body.messages)
        model = body.model or MODEL_ID
        if body.stream:
            pieces = backend.stream(question, history)  # validates and retrieves first: errors keep their status
            return StreamingResponse(completion_chunks(pieces, model), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return completion(backend.ask(question, history), model, history)

    @router.get("/models", summary="The model list (one model: the assistant)")
    async def models() -> dict:  # async: answered on the event loop even when every worker thread is busy
        return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "erqi-qa"}]}

    return router
