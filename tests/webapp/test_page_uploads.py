"""Issue 20, item 3: no anonymous writes through the page.  Gradio's upload route (`POST /gradio_api/upload`) stored
any file anyone sent (379 MB in 2 s, token set or not) and `/gradio_api/file=…` served it back to anyone.  Now both
need what a write needs (the page login's session cookie or the admin token; with no token set, loopback), are
refused before the body is read, and the widget's cached copies are removed once indexed or refused."""
from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from gradio.utils import get_upload_folder

pytest.register_assert_rewrite("webapp_fixtures")
pytest_plugins = ["webapp_fixtures"]

from webapp.access import SESSION_COOKIE  # noqa: E402
from webapp.page import upload_files  # noqa: E402

TOKEN = "page-upload-token"
NOTE = "二七区社区通知\n\n建中街社区新设便民食堂,每天供应午餐300份。\n"


def cached_files() -> set[Path]:
    """Every file in Gradio's upload folder (where the widget's uploads and their spooled parts go)."""
    root = Path(get_upload_folder())
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def holding(files: set[Path], marker: bytes) -> list[Path]:
    return [p for p in files if marker in p.read_bytes()]


def page_upload(client: httpx.Client, name: str, data: bytes, **headers: str) -> httpx.Response:
    return client.post("/gradio_api/upload", files={"files": (name, data, "text/plain")}, headers=headers)


def test_anonymous_page_uploads_are_refused_and_nothing_lands_on_disk(server_with) -> None:
    """Was: 200 and the file kept in Gradio's cache, served back to anyone at /gradio_api/file=…"""
    live = server_with(admin_token=TOKEN)
    marker = uuid.uuid4().hex.encode()
    payload = marker + b"x" * 300_000
    before = cached_files()
    with httpx.Client(base_url=live.url, timeout=30) as anonymous:
        for headers in ({}, {"Cookie": f"{SESSION_COOKIE}=9999999999.forged.0000"}, {"Authorization": "Bearer no"}):
            r = page_upload(anonymous, "planted.txt", payload, **headers)
            assert r.status_code == 401 and "登录" in r.json()["error"]["message"], r.text
        for path in ("/gradio_api/upload?upload_id=abc", "/gradio_api/upload/", "/gradio_api//upload",
                     "/gradio_api/process_recording"):
            r = anonymous.post(path, files={"files": ("planted.txt", payload, "text/plain")})
            assert r.status_code in (401, 404), (path, r.status_code, r.text[:200])
        assert cached_files() == before and not holding(cached_files(), marker), "nothing landed on disk"

        # an admin's page session (the login sets an HttpOnly cookie) may upload; the copy is served to it alone
        session = anonymous.post("/api/session", headers={"Authorization": f"Bearer {TOKEN}"})
        assert session.status_code == 200 and "httponly" in session.headers["set-cookie"].lower()
        cookie = {"Cookie": f"{SESSION_COOKIE}={session.cookies[SESSION_COOKIE]}"}
        anonymous.cookies.clear()
        stored = page_upload(anonymous, "通知.txt", NOTE.encode(), **cookie)
        assert stored.status_code == 200, stored.text
        cached = Path(stored.json()[0])
        try:
            assert cached.read_text(encoding="utf-8") == NOTE
            assert anonymous.get(f"/gradio_api/file={cached}", headers=cookie).text == NOTE
            for route in (f"/gradio_api/file={cached}", f"/gradio_api/file/{cached}"):
                assert anonymous.get(route).status_code == 401, route
        finally:
            cached.unlink(missing_ok=True)
        assert anonymous.post("/api/session").status_code == 401, "no session without the token"


def test_without_a_token_only_this_machine_may_upload_through_the_page(server_with) -> None:
    live = server_with(trust_forwarded_for=True)
    marker = uuid.uuid4().hex.encode()
    before = cached_files()
    with httpx.Client(base_url=live.url, timeout=30) as client:
        r = page_upload(client, "planted.txt", marker, **{"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 403 and "127.0.0.1" in r.json()["error"]["message"], r.text
        r = page_upload(client, "planted.txt", marker, Host="evil.example:7860")  # DNS rebinding
        assert r.status_code == 403, r.text
        assert cached_files() == before
        stored = page_upload(client, "通知.txt", NOTE.encode())  # this machine's page
        assert stored.status_code == 200, stored.text
        Path(stored.json()[0]).unlink()


def test_the_widgets_copies_are_removed_once_indexed_or_refused(live_server) -> None:
    """Was: the widget's copies stayed in Gradio's cache (cleared daily) after they were indexed."""
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        copies = [Path(page_upload(client, name, data).json()[0])
                  for name, data in (("食堂通知.txt", NOTE.encode()), ("tool.exe", b"MZ\x90\x00"))]
        assert all(p.is_file() for p in copies)
        message = upload_files(live_server.services.documents, [str(p) for p in copies], "page-login")
        assert "【完成】" in message and "【失败】tool.exe" in message
        assert not any(p.exists() for p in copies) and not any(p.parent.exists() for p in copies)
        documents = {d["source"]: d for d in client.get("/api/documents").json()["documents"]}
        assert client.delete(f"/api/documents/{documents['食堂通知.txt']['doc_id']}").status_code == 200
