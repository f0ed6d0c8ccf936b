"""Issue 20, item 4: slow clients bounded.  Was: 1,500 sockets sending their headers a byte every 10 s and 300 slow
bodies were all still open after 40 s.  Real sockets against real servers on 127.0.0.x: the whole app for the
slowloris run, and a small ASGI app under both of uvicorn's HTTP protocols (httptools, h11) for each bound."""
from __future__ import annotations

import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import httpx
import pytest
import uvicorn

pytest.register_assert_rewrite("webapp_fixtures")
pytest_plugins = ["webapp_fixtures"]

from webapp.connections import BoundedConnection, BoundedH11, bounded_protocol  # noqa: E402
from webapp.settings import WebSettings  # noqa: E402

from common import free_port  # noqa: E402
from webapp_fixtures import GDP_QUESTION  # noqa: E402

HEAD = b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"


def connect(url: str, source: str = "127.0.0.1") -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10, source_address=(source, 0))


def closed_by_server(sock: socket.socket, within: float) -> tuple[bool, bytes]:
    """(whether the server closed the connection within ``within`` seconds, what it sent before)."""
    received, deadline = b"", time.monotonic() + within
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = sock.recv(4096)
        except TimeoutError:
            break
        except (ConnectionResetError, BrokenPipeError):
            return True, received
        if not data:
            return True, received
        received += data
    return False, received


class Trickle:
    """Sends one more byte of ``payload`` on every socket every ``every`` seconds, from a thread."""

    def __init__(self, sockets: list[socket.socket], payload: bytes, every: float) -> None:
        self.sockets, self.payload, self.every = sockets, payload, every
        self.sent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set() and self.sent < len(self.payload):
            byte = self.payload[self.sent:self.sent + 1]
            for s in self.sockets:
                with suppress(OSError):  # closed by the server: what the tests want
                    s.sendall(byte)
            self.sent += 1
            self.stop.wait(self.every)

    def __enter__(self) -> Trickle:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)


# --- the whole app --------------------------------------------------------------------------------------
def test_slowloris_sockets_are_closed_and_never_starve_a_normal_client(server_with) -> None:
    """200 sockets from eight addresses send their headers a byte a second; meanwhile a normal client asks
    questions.  Every slow socket gets a 408 and is closed after the header timeout (3 s here); the client's
    answers come as fast as without them."""
    live = server_with(header_timeout=3.0, max_connections_per_client=50, max_connections=400)
    with httpx.Client(base_url=live.url, timeout=30) as client:
        def timed() -> float:
            started = time.perf_counter()
            r = client.post("/api/ask", json={"question": GDP_QUESTION})
            assert r.status_code == 200 and "760亿元" in r.json()["answer"]
            return time.perf_counter() - started

        baseline = statistics.median([timed() for _ in range(5)])
        sources = [f"127.0.0.{i}" for i in range(2, 10)]
        slow = [connect(live.url, sources[i % len(sources)]) for i in range(200)]
        opened = time.monotonic()
        try:
            with Trickle(slow, HEAD, every=1.0):
                loaded = []
                while time.monotonic() - opened < 3.5:  # questions all the while the sockets hang
                    loaded.append(timed())
                outcomes = [closed_by_server(s, within=max(opened + 7.0 - time.monotonic(), 0.1)) for s in slow]
            closed = [ok for ok, _ in outcomes]
            assert all(closed), f"{closed.count(False)} of 200 slow sockets still open 7 s after they connected"
            assert all(b" 408 " in sent.split(b"\r\n", 1)[0] for _, sent in outcomes)
            # starved, an answer would wait for the header timeout or longer; the trickling thread shares this
            # process's GIL with the server, so answers may slow a little (bounds with room for a busy CI machine)
            assert max(loaded) < 3.0 and statistics.median(loaded) < baseline * 3 + 0.5, (baseline, loaded)
        finally:
            for s in slow:
                s.close()
        assert timed() < 2.0


# --- a small app under both protocols -------------------------------------------------------------------
async def length_app(scope: dict, receive: Callable, send: Callable) -> None:
    """Answers with the length of the request body it read."""
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = str(size).encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def small_server(base: type[BoundedConnection] | None, **bounds: float) -> Iterator[str]:
    web = WebSettings(**bounds)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(length_app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", http=bounded_protocol(web, base),
                                           timeout_keep_alive=web.idle_timeout))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


PROTOCOLS = pytest.mark.parametrize("base", [None, BoundedH11], ids=["httptools", "h11"])


@PROTOCOLS
def test_silent_and_idle_connections_are_closed(base) -> None:
    with small_server(base, header_timeout=1.0, idle_timeout=1) as url:
        silent = connect(url)  # connects and never sends a byte
        kept = connect(url)
        kept.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        ok, sent = closed_by_server(silent, within=3.0)
        assert ok and b" 408 " in sent and 0.8 < time.monotonic() - started < 2.5
        ok, sent = closed_by_server(kept, within=3.0)  # answered, then closed once idle
        assert ok and sent.startswith(b"HTTP/1.1 200") and sent.endswith(b"\r\n\r\n0")
        silent.close()
        kept.close()


@PROTOCOLS
def test_slow_bodies_are_cut_off_and_fast_enough_ones_are_not(base) -> None:
    with small_server(base, body_timeout=1.5, body_min_rate=5000, header_timeout=5.0) as url:
        slow = [connect(url) for _ in range(20)]
        for s in slow:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        started = time.monotonic()
        with Trickle(slow, b"a" * 100, every=0.25):  # 4 bytes a second: far below 5,000
            outcomes = [closed_by_server(s, within=max(started + 4.0 - time.monotonic(), 0.1)) for s in slow]
        assert all(ok for ok, _ in outcomes) and time.monotonic() - started < 4.5
        # 20 KB at about 10 KB/s takes 2 s, past the 1.5 s of grace: its deadline keeps moving with the bytes
        steady = connect(url)
        steady.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\n\r\n")
        for _ in range(20):
            steady.sendall(b"b" * 1000)
            time.sleep(0.1)
        steady.settimeout(5)
        assert steady.recv(4096).startswith(b"HTTP/1.1 200") and time.monotonic() - started > 1.5
        for s in [*slow, steady]:
            s.close()


@PROTOCOLS
def test_connections_are_capped_per_client_and_in_all(base) -> None:
    """At a client's cap a new connection gets a 503 at once; at the overall cap a new client's connection
    replaces the one that has waited longest without sending a request."""
    with small_server(base, max_connections=40, max_connections_per_client=30, header_timeout=30.0) as url:
        first = [connect(url, "127.0.0.2") for _ in range(30)]
        time.sleep(0.2)
        over = [connect(url, "127.0.0.2") for _ in range(5)]
        for s in over:
            ok, sent = closed_by_server(s, within=2.0)
            assert ok and sent.startswith(b"HTTP/1.1 503"), sent
        others = [connect(url, "127.0.0.3") for _ in range(10)]  # 40 open: the overall cap
        time.sleep(0.2)
        started = time.perf_counter()
        with httpx.Client(base_url=url, timeout=5) as client:
            assert client.post("/", content=b"abc").text == "3"  # from 127.0.0.1: room was made
        assert time.perf_counter() - started < 1.0
        evicted = [s for s in first if closed_by_server(s, within=0.2)[0]]
        assert len(evicted) == 1 and evicted[0] is first[0], "the oldest waiting connection made room"
        assert not any(closed_by_server(s, within=0.05)[0] for s in others)
        for s in [*first, *over, *others]:
            s.close()
