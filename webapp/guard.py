"""The outermost layer of the web process (pure ASGI), in front of the API and the page.

In order, for every HTTP request:

1. **Origin**: a state-changing request (POST, PUT, PATCH, DELETE) from a page of another
   origin is refused (403): a cross-site ``fetch(..., {mode: "no-cors"})`` cannot plant
   a document or start a re-index.  Clients without an Origin header (curl, SDKs) are not browsers.
2. **Rate limit**: state-changing requests are limited per client address (token bucket; 429).
3. **The page's upload and file routes**: Gradio's ``/gradio_api/upload`` stores files on disk and
   ``/gradio_api/file=…`` serves them back; both need what a write needs (the page login's session cookie or the
   admin token; with no token set, loopback), refused (401/403) before any byte of the body is read.
4. **Body size**: refused from the Content-Length, or while streaming once the limit is
   passed (413), before the application has read it.
5. **Page events**: a call of the page (Gradio) naming a function that does not exist is a 404,
   not a 500 with internal text; a 500 the page framework gives for malformed input becomes a 422.
6. **Errors**: anything unexpected is a JSON 500 whose connection stays usable (an exception
   reaching the server would reset it, and the client's next request would fail too).
"""
from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable

from settings import Settings
from webapp import texts
from webapp.access import (
    AccessDenied,
    Caller,
    authorise_loopback,
    bearer,
    client_address,
    cookie_value,
    is_loopback,
    ticket_valid,
    token_matches,
)
from webapp.types import ErrorResponse
from webapp.uploads import human_size

log = logging.getLogger("webapp")

Scope = dict
Message = dict
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MULTIPART_OVERHEAD = 64 * 1024  # the multipart envelope around an uploaded file
PAGE_FILES = 5  # the page's upload widget may send this many files in one request
GRADIO_NAMED = re.compile(r"^/gradio_api/(?:run|api|call|call/v2)/([^/]+)/?$")
GRADIO_EVENT = re.compile(r"^/gradio_api/(?:queue/join|run/[^/]+/?|api/[^/]+/?|call/(?:v2/)?[^/]+/?)$")
MAX_BUCKETS = 10_000
# Gradio routes that write files to disk (the upload widget's; recordings, which this page has none of) or serve them
PAGE_WRITES = re.compile(r"^/gradio_api/+(?:upload|process_recording)/*$")
PAGE_FILES_ROUTE = re.compile(r"^/gradio_api/+file[=/]")


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _safe(text: str) -> str:
    """Text that always encodes as UTF-8 (a lone surrogate echoed in a message must not break the response)."""
    return text.encode("utf-8", "replace").decode("utf-8")


async def send_error(
    send: Send, status: int, message: str, type_: str, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = ErrorResponse.of(status, _safe(message), type_).model_dump_json().encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """Token buckets per client key: ``burst`` at once, then ``per_minute`` a minute."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def wait_time(self, key: str) -> float:
        """0 when the request may go ahead (and is counted), else seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > MAX_BUCKETS:
                    self._buckets.pop(next(iter(self._buckets)))
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0


class Guard:
    def __init__(
        self, app: ASGIApp, settings: Settings, page_functions: Callable[[], tuple[set[str], set[int]]]
    ) -> None:
        self.app = app
        self.state = getattr(app, "state", None)  # the wrapped app's state (its Backend), for tools and tests
        self.settings = settings
        self.page_functions = page_functions
        self.limiter = (
            RateLimiter(settings.web.rate_limit_per_minute, settings.web.rate_limit_burst)
            if settings.web.rate_limit_per_minute > 0
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = _Response(send)
        try:
            await self._handle(scope, receive, response)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: log it, answer, keep the connection
            if response.closed_by_guard:
                return  # the application only noticed the refused body
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"), exc_info=exc)
            if not response.started:
                await send_error(response.raw, 500, texts.ERR_INTERNAL, "internal_error")

    async def _handle(self, scope: Scope, receive: Receive, response: _Response) -> None:
        send = response.send
        headers = _headers(scope)
        method, path = scope.get("method", "GET"), scope.get("path", "")
        if method in UNSAFE:
            refused = self._origin_refusal(headers)
            if refused:
                await send_error(send, 403, refused, "forbidden")
                return
            wait = self._rate_wait(scope, headers)
            if wait:
                seconds = max(1, round(wait))
                await send_error(send, 429, texts.ERR_RATE_LIMITED.format(seconds=seconds), "rate_limited",
                                 [(b"retry-after", str(seconds).encode())])
                return
        if (method == "POST" and PAGE_WRITES.match(path)) or (
            method in ("GET", "HEAD") and PAGE_FILES_ROUTE.match(path)
        ):
            page_refusal = self._page_write_refusal(scope, headers)
            if page_refusal:
                status, message = page_refusal
                await send_error(send, status, message, "unauthorized" if status == 401 else "forbidden",
                                 [(b"connection", b"close")] if method == "POST" else None)
                return
        limit, message = self._body_limit(method, path)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await send_error(send, 413, message, "payload_too_large", [(b"connection", b"close")])
            return
        receive = _Limited(receive, response, limit, message).receive
        if method == "POST" and GRADIO_EVENT.match(path):
            checked = await self._check_page_event(path, receive, send)
            if checked is None:
                return
            receive, send = checked, _PageErrors(send).send
        await self.app(scope, receive, send)

    # --- the checks -------------------------------------------------------------------------------
    def _origin_refusal(self, headers: dict[str, str]) -> str | None:
        origin = headers.get("origin")
        if origin is None:
            site = headers.get("sec-fetch-site")
            return texts.ERR_CROSS_ORIGIN.format(origin=site) if site == "cross-site" else None
        netloc = origin.split("://", 1)[-1].rstrip("/").lower()
        if origin != "null" and netloc == headers.get("host", "").lower():
            return None
        if origin.rstrip("/") in {o.rstrip("/") for o in self.settings.web.allowed_origins}:
            return None
        return texts.ERR_CROSS_ORIGIN.format(origin=origin)

    def _page_write_refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        """None when the caller may write from the page: a valid session cookie (set by the page's login) or the
        admin token, or, with no token set, a loopback client with a loopback Host header."""
        web = self.settings.web
        if web.admin_token:
            if ticket_valid(self.settings, cookie_value(headers.get("cookie"))) or token_matches(
                self.settings, bearer(headers.get("authorization"))
            ):
                return None
            return 401, texts.ERR_PAGE_LOGIN_REQUIRED
        peer = (scope.get("client") or ("", 0))[0]
        caller = Caller(client_address(self.settings, peer, headers.get("x-forwarded-for")), headers.get("host"))
        try:
            authorise_loopback(caller)
        except AccessDenied as exc:
            return 403, exc.message
        return None

    def _rate_wait(self, scope: Scope, headers: dict[str, str]) -> float:
        if self.limiter is None:
            return 0.0
        client = client_address(self.settings, (scope.get("client") or ("", 0))[0], headers.get("x-forwarded-for"))
        if is_loopback(client) and not self.settings.web.rate_limit_loopback:
            return 0.0
        return self.limiter.wait_time(client or "unknown")

    def _body_limit(self, method: str, path: str) -> tuple[int, str]:
        """The largest body for this route, and the message that refuses a larger one."""
        upload = texts.ERR_UPLOAD_TOO_LARGE.format(limit=human_size(self.settings.ingest.max_upload_bytes))
        if method == "POST" and path.rstrip("/") == "/api/documents":
            return self.settings.ingest.max_upload_bytes + MULTIPART_OVERHEAD, upload
        if method == "POST" and path.rstrip("/") == "/gradio_api/upload":
            return self.settings.ingest.max_upload_bytes * PAGE_FILES + MULTIPART_OVERHEAD, upload
        limit = self.settings.web.max_request_bytes
        return limit, texts.ERR_BODY_TOO_LARGE.format(limit=human_size(limit))

    async def _check_page_event(self, path: str, receive: Receive, send: Send) -> Receive | None:
        """Read the (small, already bounded) body of a page call and check the function it names."""
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        names, ids = self.page_functions()
        named = GRADIO_NAMED.match(path)
        if named and named.group(1) not in names and named.group(1) != "predict":
            await send_error(send, 404, texts.ERR_UNKNOWN_ENDPOINT.format(name=named.group(1)), "not_found")
            return None
        try:
            fn_index = json.loads(body or b"{}").get("fn_index")
        except (ValueError, AttributeError):
            fn_index = None  # malformed: the framework answers 422
        if fn_index is not None and (
            not isinstance(fn_index, int) or isinstance(fn_index, bool) or fn_index not in ids
        ):
            await send_error(
                send, 404, texts.ERR_UNKNOWN_ENDPOINT.format(name=f"fn_index={fn_index!r}"[:80]), "not_found"
            )
            return None
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


class _Response:
    """The client's side of one exchange: whether a response started, and whether the guard answered itself."""

    def __init__(self, send: Send) -> None:
        self.raw = send
        self.started = False
        self.closed_by_guard = False

    async def send(self, message: Message) -> None:
        if self.closed_by_guard:
            return  # the guard answered (413): whatever the application still sends is dropped
        if message["type"] == "http.response.start":
            self.started = True
        await self.raw(message)


class _Limited:
    """Counts the body as it streams in; past the limit the client gets a 413 and the application a disconnect."""

    def __init__(self, receive: Receive, response: _Response, limit: int, message: str) -> None:
        self._receive, self._response, self.limit, self.message = receive, response, limit, message
        self.total = 0

    async def receive(self) -> Message:
        if self._response.closed_by_guard:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.total += len(message.get("body", b""))
            if self.total > self.limit:
                if not self._response.started:
                    await send_error(
                        self._response.send, 413, self.message, "payload_too_large", [(b"connection", b"close")]
                    )
                self._response.closed_by_guard = True
                return {"type": "http.disconnect"}
        return message


class _PageErrors:
    """A 500 from the page framework means it could not process the input it was sent: answer 422 instead."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._replaced = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and message.get("status") == 500:
            self._replaced = True
            await send_error(self._send, 422, texts.ERR_BAD_EVENT, "invalid_request_error")
            return
        if self._replaced:
            return
        await self._send(message)
