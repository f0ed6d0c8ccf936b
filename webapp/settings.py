"""The settings group of the web process: who may write, rate limits, request sizes (``Settings.web``)."""
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
