"""An OpenAI-compatible chat endpoint, so any OpenAI client or chat front-end can use the assistant.

``POST /v1/chat/completions``: the last message must come from the user and is
the question; earlier user/assistant messages are the history (system messages
are ignored).  The reply's content is the answer with its [n] markers; the
citations themselves are in an extra top-level ``citations`` field (and, when
streaming, in the final chunk).  ``GET /v1/models`` lists the one model.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from assistant.response import AssistantResponse
from vectorstore.errors import StoreError
from webapp import texts
from webapp.errors import ApiError, public_message
from webapp.services import Services
from webapp.types import (
    AnswerExtras,
    ChatChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatMessageIn,
    ChatMessageOut,
    ChunkChoice,
    ChunkDelta,
    ErrorBody,
    ErrorResponse,
    ModelCard,
    ModelList,
    StreamError,
    Usage,
)

MODEL_ID = "erqi-qa"
log = logging.getLogger("webapp")


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


def _usage(question: str, history: list[dict[str, str]], answer: str) -> Usage:
    prompt = len(question) + sum(len(m["content"]) for m in history)  # characters: there is no tokenizer
    return Usage(prompt_tokens=prompt, completion_tokens=len(answer), total_tokens=prompt + len(answer))


def completion(response: AssistantResponse, model: str, history: list[dict[str, str]]) -> ChatCompletion:
    """A chat.completion object; ``citations``, ``short_answer``, ``no_answer``, ``confidence``, ``tentative``,
    ``conflict`` and ``related`` are extra top-level fields."""
    return ChatCompletion(
        id=f"chatcmpl-{uuid.uuid4().hex}",
        created=int(time.time()),
        model=model,
        system_fingerprint=response.mode,
        choices=[ChatChoice(message=ChatMessageOut(content=response.answer))],
        usage=_usage(response.question, history, response.answer),
        **AnswerExtras.fields_of(response),
    )


def completion_chunks(pieces: Iterator[str | AssistantResponse], model: str) -> Iterator[str]:
    """Server-sent events: the role, the answer as it is produced, a final chunk with the citations, [DONE].

    The final chunk also carries ``answer``: the authoritative text (with an LLM,
    unverifiable sentences are dropped after streaming, so it may differ from the pieces).
    """
    cid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())

    def event(delta: ChunkDelta, finish: str | None = None, **extra: Any) -> str:
        chunk = ChatCompletionChunk(
            id=cid, object="chat.completion.chunk", created=created, model=model,
            choices=[ChunkChoice(index=0, delta=delta, logprobs=None, finish_reason=finish)], **extra,
        )
        return f"data: {chunk.model_dump_json()}\n\n"

    yield event(ChunkDelta(role="assistant", content=""))
    final: AssistantResponse | None = None
    try:
        for piece in pieces:
            if isinstance(piece, str):
                yield event(ChunkDelta(content=piece))
            else:
                final = piece
    except Exception as exc:  # noqa: BLE001 - the stream has begun: the error is an event, and the stream still ends
        log.exception("streaming an answer failed")
        store = isinstance(exc, StoreError)
        error = ErrorBody(
            message=public_message(exc) if isinstance(exc, StoreError) else texts.ERR_INTERNAL,
            type="server_error", code=503 if store else 500,
        )
        yield f"data: {StreamError(error=error).model_dump_json()}\n\n"
        yield "data: [DONE]\n\n"
        return
    if final is not None:
        yield event(ChunkDelta(), "stop", answer=final.answer, **AnswerExtras.fields_of(final))
    else:  # cannot happen with a well-behaved assistant; end the stream cleanly anyway
        yield event(ChunkDelta(), "stop")
    yield "data: [DONE]\n\n"


def openai_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["openai-compatible"])
    answers = services.answers

    @router.post(
        "/chat/completions",
        response_model=None,
        summary="OpenAI-compatible chat completion (stream and non-stream)",
        responses={
            400: {"model": ErrorResponse},
            503: {"model": ErrorResponse},
            200: {
                "model": ChatCompletion,
                "content": {"text/event-stream": {}},
                "description": "a chat.completion object, or SSE chunks when stream=true",
            },
        },
    )
    def chat_completions(body: ChatCompletionRequest) -> ChatCompletion | StreamingResponse:
        question, history = split_messages(body.messages)
        query = answers.query(question, history)
        model = body.model or MODEL_ID
        if body.stream:
            pieces = answers.stream(query)  # retrieves first: errors keep their status
            return StreamingResponse(completion_chunks(pieces, model), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        return completion(answers.ask(query), model, query.history)

    @router.get("/models", response_model=ModelList, summary="The model list (one model: the assistant)")
    async def models() -> ModelList:  # async: answered on the event loop even when every worker thread is busy
        return ModelList(data=[ModelCard(id=MODEL_ID, owned_by="erqi-qa")])

    return router
