"""Who may write: the admin token (API bearer header, page login), or loopback when no token is set.

Reading (ask, check, chat, the document list) stays open.  Uploading, deleting and
re-indexing need either ``Authorization: Bearer <ERQI_ADMIN_TOKEN>`` (API), a login
with that token (the page's documents tab), or, when no token is configured, a
request from loopback whose Host header is a loopback name too (a page on another
site cannot reach the server through DNS rebinding).

The page's own upload route (Gradio's ``/gradio_api/upload``) is called by the browser, not by the page's
Python handlers, so the page login also sets a session cookie (:func:`issue_ticket`): a signed expiry, keyed by
the admin token, that the guard checks on that route and on the routes serving uploaded files.  Callers who may
write also get the admin views of the health and document replies (:func:`is_admin`).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from dataclasses import dataclass

from settings import Settings
from webapp import texts

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
SESSION_COOKIE = "erqi_admin"
SESSION_SECONDS = 12 * 3600  # how long a page login's upload cookie is valid


class AccessDenied(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


@dataclass(frozen=True)
class Caller:
    host: str | None  # client address
    host_header: str | None  # the Host header the client sent


def client_address(settings: Settings, peer: str | None, forwarded_for: str | None) -> str | None:
    """The client's address: the peer, or the first X-Forwarded-For entry behind a trusted proxy."""
    if settings.web.trust_forwarded_for and forwarded_for:
        return forwarded_for.split(",")[0].strip()
    return peer


def is_loopback(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host_header: str | None) -> str:
    """The name part of a Host header ("127.0.0.1:7860" → "127.0.0.1", "[::1]:80" → "[::1]")."""
    value = (host_header or "").strip().lower()
    if value.startswith("["):
        return value.split("]", 1)[0] + "]"
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def token_matches(settings: Settings, given: str | None) -> bool:
    token = settings.web.admin_token.get_secret_value() if settings.web.admin_token else ""
    return (
        bool(token)
        and given is not None
        and hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))
    )


def bearer(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def authorise_api(settings: Settings, caller: Caller, authorization: str | None) -> str:
    """The actor recorded as the uploader; AccessDenied (401/403) when the request may not write."""
    if settings.web.admin_token:
        given = bearer(authorization)
        if given is None:
            raise AccessDenied(401, texts.ERR_AUTH_REQUIRED)
        if not token_matches(settings, given):
            raise AccessDenied(403, texts.ERR_AUTH_WRONG)
        return "api-token"
    return authorise_loopback(caller)


def authorise_loopback(caller: Caller) -> str:
    if is_loopback(caller.host) and host_name(caller.host_header) in LOOPBACK_NAMES:
        return f"loopback {caller.host}"
    raise AccessDenied(403, texts.ERR_LOOPBACK_ONLY)


def is_admin(settings: Settings, caller: Caller, authorization: str | None) -> bool:
    """Whether this caller may write, and so may see the admin views (paths, who added what, full errors)."""
    try:
        authorise_api(settings, caller, authorization)
    except AccessDenied:
        return False
    return True


def _session_key(settings: Settings) -> bytes:
    token = settings.web.admin_token.get_secret_value() if settings.web.admin_token else ""
    return hashlib.sha256(b"erqi-page-session\0" + token.encode("utf-8")).digest()


def issue_ticket(settings: Settings, now: float | None = None) -> str:
    """A session ticket for the page's upload cookie: ``expiry.nonce.mac``; a new admin token voids every ticket."""
    expires = int((now if now is not None else time.time()) + SESSION_SECONDS)
    body = f"{expires}.{secrets.token_urlsafe(12)}"
    return f"{body}.{hmac.new(_session_key(settings), body.encode(), hashlib.sha256).hexdigest()}"


def ticket_valid(settings: Settings, ticket: str | None, now: float | None = None) -> bool:
    if not settings.web.admin_token or not ticket or ticket.count(".") != 2:
        return False
    body, _, mac = ticket.rpartition(".")
    expected = hmac.new(_session_key(settings), body.encode("utf-8", "replace"), hashlib.sha256).hexdigest()
    expires = body.split(".", 1)[0]
    return (
        hmac.compare_digest(mac.encode("utf-8", "replace"), expected.encode())
        and expires.isdigit()
        and int(expires) > (now if now is not None else time.time())
    )


def cookie_value(cookie_header: str | None, name: str = SESSION_COOKIE) -> str | None:
    for part in (cookie_header or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip() or None
    return None
