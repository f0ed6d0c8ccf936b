"""A scripted LLM: a real OpenAI-compatible chat-completions server on 127.0.0.1 (FastAPI + uvicorn).

``POST /v1/chat/completions`` answers with a JSON ``chat.completion`` or, when the
request has ``"stream": true``, with server-sent events (``data: {chunk}`` …
``data: [DONE]``), exactly as vLLM, Ollama or llama.cpp's server do.  What it says is
chosen by a marker — the question text — found in the last user message:

* an *answer* request (the last user message holds numbered passages ``[n] …``) is
  looked up in :data:`ANSWERS`;
* any other request is a *condense* request, looked up in :data:`CONDENSE`.

A reply can cite "the passage that holds X": the server reads the numbered passages
of the prompt and writes that passage's number, so the scripts do not depend on the
retrieval order.  Replies can also hang, be empty, be invalid JSON or an HTTP error.
Every request body is kept in ``ScriptedLLM.requests`` for the tests to inspect.

Loaded by ``pytest_plugins = ["llm_server"]``: the ``scripted_llm`` fixture starts one
server for the test session.
"""
from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

REFUSAL = "抱歉,现有资料中没有找到能回答这个问题的内容。"
HANG_SECONDS = 6.0  # well past the tests' llm_timeout of 2 s
_PASSAGE = re.compile(r"^\[(\d+)\] ", re.M)


@dataclass(frozen=True)
class Reply:
    """One scripted behaviour.

    kind: "text" (say ``text``), "cite" (``text`` with {n} = number of the first passage
    holding ``value``), "hang" (say nothing for HANG_SECONDS), "hang_mid_stream" (stream the
    first part of ``text``, then hang), "invalid_json" (a 200 whose body is not JSON),
    "status" (an HTTP error ``status``).
    """

    kind: str
    text: str = ""
    value: str = ""
    status: int = 200


def say(text: str) -> Reply:
    return Reply("text", text)


def cite(value: str, template: str) -> Reply:
    return Reply("cite", template, value)


# --- the script ----------------------------------------------------------------------------
GDP = "二七区2020年的地区生产总值是多少?"
GDP_MIXED = "二七区2020年地区生产总值达到了多少?"
GDP_HALLUCINATED = "2020年二七区的GDP是多少?"
GDP_BAD_REF = "二七区2020年的经济总量是多少?"
BEDS = "福华颐养院有多少张床位?"
SCHOOLS = "二七这五年新建了多少学校啊"
TARGET = "到2025年地区生产总值的目标是多少?"
EVACUATED = "郭家咀水库出现险情后二七区撤离了多少居民?"
MAYOR = "二七区的区长是谁?"
AREA = "二七区建成区面积达到多少?"
SERVER_ERROR = "二七区市场主体达到多少户?"
MARKET_2020 = "二七区2020年的市场主体有多少户?"

ANSWERS: dict[str, Reply] = {
    GDP: cite("760亿元", "2020年,二七区地区生产总值达到760亿元[{n}]。"),
    GDP_MIXED: cite("760亿元", "2020年,二七区地区生产总值达到760亿元[{n}]。是2015年的2倍[{n}]。"),
    GDP_HALLUCINATED: cite("760亿元", "2020年,二七区地区生产总值达到800亿元[{n}]。"),
    GDP_BAD_REF: say("2020年,二七区地区生产总值达到760亿元[99]。"),
    BEDS: say("好的,这个问题我来回答。二七区的养老服务做得很好"),  # garbage: no [n] anywhere
    SCHOOLS: say(""),
    TARGET: Reply("invalid_json"),
    EVACUATED: Reply("hang"),
    MAYOR: say(REFUSAL),
    AREA: Reply("hang_mid_stream", "二七区建成区面积达到68.45平方公里[1]。"),
    SERVER_ERROR: Reply("status", status=500),
    MARKET_2020: cite("14.7万户", "2020年,二七区市场主体达到14.7万户[{n}]。"),
}

CONDENSE: dict[str, Reply] = {
    "那去年的市场主体有多少户?": say(MARKET_2020),
    "那到2025年的目标呢?": say("二七区到2025年地区生产总值要从760亿元增长到多少?"),  # leaks the earlier answer
    "它能服务多少人?": Reply("invalid_json"),
    "它有多少张床位?": Reply("hang"),
    GDP: say(GDP),  # already standalone: echoed
}


# --- the server ----------------------------------------------------------------------------
def _last_user(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(p.get("text", "") for p in content if isinstance(p, dict))
            return content or ""
    return ""


def passages(prompt: str) -> dict[int, str]:
    """The numbered passages ``[n] …`` of an answer prompt."""
    marks = list(_PASSAGE.finditer(prompt))
    return {
        int(m.group(1)): prompt[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(prompt)]
        for i, m in enumerate(marks)
    }


def choose(body: dict[str, Any]) -> tuple[str, Reply]:
    """("answer" | "condense", the scripted reply) for a request."""
    prompt = _last_user(body)
    numbered = passages(prompt)
    script, kind = (ANSWERS, "answer") if numbered else (CONDENSE, "condense")
    question = re.split(r"问题[::]" if numbered else r"追问[::]", prompt)[-1]
    for marker in sorted(script, key=len, reverse=True):
        if marker in question:
            return kind, script[marker]
    return kind, Reply("status", status=404)


def render(reply: Reply, prompt: str) -> str:
    if reply.kind != "cite":
        return reply.text
    holding = [n for n, text in sorted(passages(prompt).items()) if reply.value in text]
    if not holding:
        return f"SCRIPT ERROR: no passage holds {reply.value}"
    return reply.text.format(n=holding[0])


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": len(text), "total_tokens": 10 + len(text)},
    }


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None) -> str:
    data = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"


def tokens(text: str, size: int = 3) -> Iterator[str]:
    """The reply in small pieces, as a model streams it."""
    for i in range(0, len(text), size):
        yield text[i : i + size]


async def hang(request: Request, stopping: threading.Event) -> None:
    """Say nothing for HANG_SECONDS, or until the client gives up or the server stops."""
    deadline = time.monotonic() + HANG_SECONDS
    while time.monotonic() < deadline and not stopping.is_set():
        if await request.is_disconnected():
            return
        await asyncio.sleep(0.05)


async def _events(
    reply: Reply, text: str, model: str, request: Request, stopping: threading.Event
) -> AsyncIterator[str]:
    cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
    if reply.kind == "invalid_json":
        yield "data: {this is not json\n\n"
        yield "data: [DONE]\n\n"
        return
    yield _chunk(cid, model, {"role": "assistant", "content": ""})
    pieces = list(tokens(text))
    for i, piece in enumerate(pieces):
        if reply.kind == "hang_mid_stream" and i == max(len(pieces) // 2, 1):
            await hang(request, stopping)
            return
        yield _chunk(cid, model, {"content": piece})
        await asyncio.sleep(0)
    yield _chunk(cid, model, {}, "stop")
    yield "data: [DONE]\n\n"


def create_app(recorder: ScriptedLLM) -> FastAPI:
    app = FastAPI(title="scripted LLM")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "scripted", "object": "model", "owned_by": "tests"}]}

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Response:
        body = await request.json()
        kind, reply = choose(body)
        recorder.requests.append(body | {"_kind": kind})
        model = body.get("model", "scripted")
        if reply.kind == "status":
            return JSONResponse(
                {"error": {"message": "scripted failure", "type": "server_error"}}, status_code=reply.status
            )
        if reply.kind == "hang":
            await hang(request, recorder.stopping)
        text = render(reply, _last_user(body))
        if body.get("stream"):
            return StreamingResponse(
                _events(reply, text, model, request, recorder.stopping), media_type="text/event-stream"
            )
        if reply.kind == "hang_mid_stream":
            await hang(request, recorder.stopping)
        if reply.kind == "invalid_json":
            return Response("{this is not json", media_type="application/json")
        return JSONResponse(_completion(model, text))

    return app


class ScriptedLLM:
    """The scripted server, run by uvicorn in a background thread on a free loopback port."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self.app = create_app(self)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, name=f"scripted-llm-{self.port}", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedLLM:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the scripted LLM server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self._socket.close()

    def requests_about(self, marker: str, kind: str | None = None) -> list[dict[str, Any]]:
        """The requests whose last user message holds ``marker`` (optionally only "answer" or "condense" ones)."""
        return [r for r in self.requests if marker in _last_user(r) and (kind is None or r["_kind"] == kind)]


@pytest.fixture(scope="session")
def scripted_llm() -> Iterator[ScriptedLLM]:
    """One scripted OpenAI-compatible server for the session."""
    server = ScriptedLLM().start()
    yield server
    server.stop()
