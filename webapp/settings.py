"""The settings group of the web process (``Settings.web``): who may write, rate limits, request sizes, and the
bounds on connections."""
from __future__ import annotations

from pydantic import Field, SecretStr

from vectorstore.settings import SettingsGroup


class WebSettings(SettingsGroup):
    max_request_bytes: int = Field(
        262_144,
        description="Largest body of any other request (questions, claims, chat messages, the page's events), refused "
        "from its Content-Length or while streaming: room for a question and a whole history at their limits even "
        "with every character escaped (about 130 KB), while a 300,000-character history (900 KB) is refused before "
        "it is parsed.",
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Credential for writing (upload, delete, re-index): `Authorization: Bearer <token>` on the API, "
        "the login of the page's documents tab. Unset: writes are accepted only from loopback (127.0.0.1, ::1) with "
        "a loopback Host header.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Extra origins (scheme://host:port) whose pages may send state-changing requests; the server's "
        "own origin is always allowed, every other Origin is refused.",
    )
    rate_limit_per_minute: int = Field(
        120,
        description="Requests per minute per client address on the open routes (ask, check, chat, the page's events); "
        "0 turns the limit off.",
    )
    rate_limit_burst: int = Field(
        30, description="Requests a client may send at once before the per-minute rate applies."
    )
    rate_limit_loopback: bool = Field(
        False,
        description="Also rate-limit loopback clients (off by default: local scripts and tests; turn on behind a "
        "reverse proxy on the same host, with trust_forwarded_for).",
    )
    trust_forwarded_for: bool = Field(
        False, description="Take the client address from X-Forwarded-For (only behind a reverse proxy you run)."
    )
    # --- connections (webapp/connections.py): slow and idle clients are closed, never starve others ---------------
    header_timeout: float = Field(
        10.0,
        description="Seconds a client has to send a request's headers, counted from the moment it connects (or from "
        "the first byte of its next request on a kept-alive connection); then the connection gets a 408 and is "
        "closed. A socket that sends its headers a byte at a time lasts no longer than this.",
    )
    body_timeout: float = Field(
        15.0,
        description="Seconds a request body may take beyond what its size allows at body_min_rate: the body's "
        "deadline is body_timeout plus one second for every body_min_rate bytes received; past it the connection is "
        "closed (and the application sees the client disconnect).",
    )
    body_min_rate: int = Field(
        10_000,
        description="Bytes per second a request body must keep up on average (after body_timeout of grace): a 20 MB "
        "upload at 10 KB/s still arrives, a body sent a byte at a time is cut off after body_timeout.",
    )
    idle_timeout: int = Field(
        5,
        description="Seconds a kept-alive connection may wait for its next request before it is closed.",
    )
    max_connections: int = Field(
        500,
        description="Open connections from all clients together (per worker process). At the cap a new connection "
        "replaces the one that has been idle or sending its headers longest; when every connection is busy with a "
        "request, the new one gets a 503 and is closed. Keep it below the process's file-descriptor limit.",
    )
    max_connections_per_client: int = Field(
        50,
        description="Open connections from one client address (per worker process); more get a 503 at once. Behind "
        "a reverse proxy every connection comes from the proxy: raise it to about max_connections there.",
    )
