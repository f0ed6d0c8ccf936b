"""Bounds on connections, below HTTP requests: uvicorn's HTTP protocol with read deadlines and connection caps.

Uvicorn reads a request's headers and body for as long as the client cares to send them: a socket sending one
header byte every ten seconds stays open for ever, and enough of them exhaust the process.  The protocol here
(uvicorn's own, subclassed) gives every connection a phase and a deadline:

========= ============================================================ =====================================
phase     until                                                        deadline
========= ============================================================ =====================================
headers   the request's headers are complete (from the connection, or  ``header_timeout``; then 408, closed
          from the first byte of a kept-alive connection's next one)
body      its body is complete                                         ``body_timeout`` + one second per
                                                                       ``body_min_rate`` bytes; then closed
busy      the response is sent                                         none (the application's time)
idle      a kept-alive connection's next request begins                uvicorn's ``idle_timeout``
========= ============================================================ =====================================

and caps the connections of one client address and of all clients (``max_connections_per_client``,
``max_connections``).  Over a client's cap a new connection gets a 503 at once; at the overall cap it replaces the
connection that has been idle or sending headers longest, so slow sockets can never keep others out.  Everything
runs on the server's event loop (no locks); every server gets its own :class:`ConnectionLimits`.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any, ClassVar, Literal

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from webapp import texts
from webapp.settings import WebSettings
from webapp.types import ErrorResponse

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - uvicorn[standard] brings httptools; h11 otherwise
    HttpToolsProtocol = None  # type: ignore[assignment, misc]

log = logging.getLogger("webapp")

Phase = Literal["headers", "body", "busy", "idle", "closed"]


def raw_response(status: int, reason: str, message: str, type_: str) -> bytes:
    """A whole HTTP/1.1 response with the API's error body, for the protocol to write before it closes."""
    body = ErrorResponse.of(status, message, type_).model_dump_json().encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class ConnectionLimits:
    """The open connections of one server, by client address, and the settings that bound them."""

    def __init__(self, web: WebSettings) -> None:
        self.header_timeout = web.header_timeout
        self.body_timeout = web.body_timeout
        self.body_min_rate = max(web.body_min_rate, 1)
        self.max_connections = max(web.max_connections, 1)
        self.max_per_client = max(web.max_connections_per_client, 1)
        self.open: dict[BoundedConnection, None] = {}  # in order of arrival
        self.per_client: Counter[str] = Counter()
        self.refused = 0
        self.evicted = 0
        self.timed_out = 0

    def admit(self, conn: BoundedConnection) -> str | None:
        """None when ``conn`` may stay (after closing an idle one at the overall cap), else why not."""
        if self.per_client[conn.address] >= self.max_per_client:
            return texts.ERR_TOO_MANY_CONNECTIONS_CLIENT.format(limit=self.max_per_client)
        if len(self.open) >= self.max_connections:
            waiting = [c for c in self.open if c.phase in ("headers", "idle")]
            if not waiting:
                return texts.ERR_TOO_MANY_CONNECTIONS
            oldest = min(waiting, key=lambda c: c.phase_since)
            self.evicted += 1
            oldest.drop()
        self.open[conn] = None
        self.per_client[conn.address] += 1
        return None

    def release(self, conn: BoundedConnection) -> None:
        if conn in self.open:
            del self.open[conn]
            self.per_client[conn.address] -= 1
            if self.per_client[conn.address] <= 0:
                del self.per_client[conn.address]


class BoundedConnection:
    """The phase, deadline and timer of one connection (mixed into uvicorn's HTTP protocols below)."""

    limits: ClassVar[ConnectionLimits]
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    client: tuple[str, int] | None

    phase: Phase = "closed"
    phase_since = 0.0
    address = "?"
    _timer: asyncio.TimerHandle | None = None
    _body_start = 0.0
    _body_bytes = 0

    def bounds(self) -> ConnectionLimits:
        return self.limits

    def _admit(self) -> bool:
        self.address = self.client[0] if self.client else "unix"
        refusal = self.bounds().admit(self)
        if refusal is not None:
            self.bounds().refused += 1
            log.warning("connection from %s refused: %s", self.address, refusal)
            self.phase = "closed"
            self.transport.write(raw_response(503, "Service Unavailable", refusal, "too_many_connections"))
            self.transport.close()
            return False
        self._expect_headers()
        return True

    def _set_phase(self, phase: Phase) -> None:
        self.phase, self.phase_since = phase, self.loop.time()

    def _arm(self, delay: float) -> None:
        self._disarm()
        self._timer = self.loop.call_later(max(delay, 0.0), self._check_deadline)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # the events, from the protocol's callbacks
    def _expect_headers(self) -> None:
        self._set_phase("headers")
        self._arm(self.bounds().header_timeout)

    def _headers_done(self) -> None:
        self._set_phase("body")
        self._body_start, self._body_bytes = self.phase_since, 0
        self._arm(self.bounds().body_timeout)

    def _body_received(self, n: int) -> None:
        self._body_bytes += n

    def _message_done(self) -> None:
        self._disarm()
        self._set_phase("busy")

    def _response_done(self, more_requests: bool) -> None:
        if self.phase != "closed":
            self._set_phase("busy" if more_requests else "idle")  # idle: uvicorn's keep-alive timeout runs

    def _body_deadline(self) -> float:
        limits = self.bounds()
        return self._body_start + limits.body_timeout + self._body_bytes / limits.body_min_rate

    def _check_deadline(self) -> None:
        self._timer = None
        now = self.loop.time()
        if self.phase == "headers":
            if now - self.phase_since < self.bounds().header_timeout:
                self._arm(self.bounds().header_timeout - (now - self.phase_since))
                return
            self.bounds().timed_out += 1
            self.transport.write(raw_response(408, "Request Timeout", texts.ERR_HEADER_TIMEOUT, "request_timeout"))
            self.drop()
        elif self.phase == "body":
            deadline = self._body_deadline()
            if now < deadline:
                self._arm(deadline - now)  # bytes arrived: the deadline moved on
                return
            self.bounds().timed_out += 1
            log.info("request body from %s too slow (%d bytes): connection closed", self.address, self._body_bytes)
            self.drop()

    def drop(self) -> None:
        """Close the connection (a timeout, or room made at the overall cap)."""
        self._disarm()
        self.phase = "closed"
        if not self.transport.is_closing():
            self.transport.close()

    def _forget(self) -> None:
        self._disarm()
        self.phase = "closed"
        self.bounds().release(self)


class BoundedH11(BoundedConnection, H11Protocol):
    """h11 (pure Python): the phase is read from h11's state after each read."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._admit()

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        import h11

        if self.phase == "idle":
            self._expect_headers()
        was_body = self.phase == "body"
        super().data_received(data)
        state = self.conn.their_state
        if self.phase == "headers" and state in (h11.SEND_BODY, h11.DONE, h11.MUST_CLOSE):
            self._headers_done()
        if self.phase == "body":
            self._body_received(len(data) if was_body else 0)
            if state in (h11.DONE, h11.MUST_CLOSE):
                self._message_done()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._response_done(self.phase == "body")


if HttpToolsProtocol is not None:

    class BoundedHttpTools(BoundedConnection, HttpToolsProtocol):
        """httptools (uvicorn's default when installed): the parser's callbacks mark the phases."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._admit()

        def connection_lost(self, exc: Exception | None) -> None:
            self._forget()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self.phase == "idle":
                self._expect_headers()

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            self._headers_done()

        def on_body(self, body: bytes) -> None:
            super().on_body(body)
            self._body_received(len(body))

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._message_done()

        def on_response_complete(self) -> None:
            pipelined = bool(self.pipeline)
            super().on_response_complete()
            if not self.transport.is_closing():
                self._response_done(pipelined)

    BASE: type[BoundedConnection] = BoundedHttpTools
else:  # pragma: no cover
    BASE = BoundedH11


def bounded_protocol(web: WebSettings, base: type[BoundedConnection] | None = None) -> type[asyncio.Protocol]:
    """The HTTP protocol class of one server: ``base`` (httptools when installed) with its own limits."""
    base = base or BASE
    return type(f"Bounded{base.__name__}", (base,), {"limits": ConnectionLimits(web)})


_WORKER_LIMITS: list[ConnectionLimits] = []


class WorkerProtocol(BASE):  # type: ignore[valid-type, misc]
    """For `ui.py --workers N` (uvicorn imports it by name in each worker): the limits from the worker's settings."""

    def bounds(self) -> ConnectionLimits:
        if not _WORKER_LIMITS:
            from settings import Settings

            _WORKER_LIMITS.append(ConnectionLimits(Settings().web))
        return _WORKER_LIMITS[0]


WORKER_PROTOCOL = f"{__name__}:WorkerProtocol"


def config(app: Any, host: str, port: int, web: WebSettings, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for one server of ``app`` with these bounds (ui.py, the tests, the benchmarks)."""
    return uvicorn.Config(
        app, host=host, port=port, http=bounded_protocol(web), timeout_keep_alive=web.idle_timeout, **options
    )
