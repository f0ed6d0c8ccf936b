"""Fixtures for the web tests: the real app (FastAPI + Gradio) served by uvicorn on a free loopback port.

Loaded with ``pytest_plugins = ["webapp_fixtures"]`` by the web test modules, so
the session fixtures exist once however many modules use them.

The served app works on private copies: the bundled corpus is copied into a
temporary corpus folder (uploads and deletes never touch data/corpus) and
indexed into a temporary index; when the session's ``built_index`` fixture
exists its embedding cache is reused, so nothing is embedded twice.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from settings import Settings

from common import CACHE_FILE, CORPUS_DIR, PLAN, REPO, REVIEW, copy_embedding_cache, free_port

TEST_UPLOAD_LIMIT = 1_000_000  # small, so the 413 tests send little data
GDP_QUESTION = "二七区2020年的地区生产总值是多少?"


def web_settings_for(index_dir: Path, corpus_dir: Path, **overrides: Any) -> Settings:
    params: dict[str, Any] = {"index_dir": index_dir, "corpus_dir": corpus_dir, "max_upload_bytes": TEST_UPLOAD_LIMIT}
    return Settings(_env_file=None, **(params | overrides))  # type: ignore[call-arg]


def _copy_embedding_cache(source_index: Path, target_index: Path) -> bool:
    if not (Path(source_index) / CACHE_FILE).is_file():
        return False
    copy_embedding_cache(source_index, target_index)
    return True


@dataclass
class LiveServer:
    url: str
    settings: Settings
    app: Any
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def services(self):
        """The app's services (webapp.services.Services): index, answers, documents, health."""
        return self.app.state.services

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.services.documents.embedder.wait_idle(60)
        self.services.close()


def serve(settings: Settings) -> LiveServer:
    """create_app(settings) served by uvicorn in a background thread, with the connection bounds ui.py serves it
    with (webapp.connections); returns once it accepts requests."""
    from webapp.app import create_app
    from webapp.connections import config

    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(config(app, "127.0.0.1", port, settings.web, log_level="warning", lifespan="on",
                                   timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    live = LiveServer(f"http://127.0.0.1:{port}", settings, app, server, thread)
    httpx.get(live.url + "/api/health", timeout=10).raise_for_status()
    return live


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Settings:
    """Settings for a private corpus copy and its own index (built here)."""
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("webapp")
    corpus = root / "corpus"
    shutil.copytree(CORPUS_DIR, corpus)
    index = root / "index"
    try:
        built = request.getfixturevalue("built_index")  # from tests/conftest.py, when present
        _copy_embedding_cache(Path(built.store.index_dir), index)
    except pytest.FixtureLookupError:
        pass
    settings = web_settings_for(index, corpus)
    report = run_ingest(settings, [corpus], show_progress=False)
    assert sorted(report.added) == [PLAN, REVIEW], report.summary()
    return settings


def indexed_copy(root: Path, cache_from: Path | None = None, **overrides: Any) -> Settings:
    """Settings for a new copy of the bundled corpus under ``root``, indexed (reusing an embedding cache when given)."""
    from ingest.pipeline import run_ingest

    corpus, index = root / "corpus", root / "index"
    shutil.copytree(CORPUS_DIR, corpus)
    if cache_from is not None:
        _copy_embedding_cache(cache_from, index)
    settings = web_settings_for(index, corpus, **overrides)
    report = run_ingest(settings, [corpus], show_progress=False)
    assert sorted(report.added) == [PLAN, REVIEW], report.summary()
    return settings


@pytest.fixture
def server_with(tmp_path: Path, web_settings: Settings) -> Iterator[Any]:
    """``server_with(**settings)``: a server of its own on an indexed corpus copy, stopped after the test."""
    started: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        live = serve(indexed_copy(tmp_path / f"server{len(started)}", Path(web_settings.store.index_dir), **overrides))
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture(scope="session")
def live_server(web_settings: Settings) -> Iterator[LiveServer]:
    """The app on the indexed corpus copy, shared by the API, gradio_client and browser tests."""
    live = serve(web_settings)
    yield live
    live.stop()


@pytest.fixture(scope="session")
def base_url(live_server: LiveServer) -> str:
    return live_server.url


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[LiveServer]:
    """The app started on an index folder that does not exist yet (and an empty corpus folder)."""
    live = serve(web_settings_for(tmp_path / "no-index-yet", tmp_path / "corpus"))
    yield live
    live.stop()


@pytest.fixture
def api(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


def assert_error(r: httpx.Response, status: int, *words: str) -> dict:
    """An error reply as every route gives it: the status, one `error` object, its message holding ``words``."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == status and body["error"]["message"]
    for word in words:
        assert word in body["error"]["message"], body
    return body


@contextmanager
def ui_subprocess(script: list[str], index: Path, corpus: Path, log: Path, token: str,
                  **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """``python SCRIPT… --index-dir … --corpus-dir … --port …`` in its own process group (its output appended to
    ``log``), once it answers /api/health; stopped (SIGTERM, then SIGKILL) unless the test killed it already."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ERQI_")} | {
        "PYTHONPATH": str(REPO), "GRADIO_ANALYTICS_ENABLED": "False", "ERQI_ADMIN_TOKEN": token} | env
    command = [sys.executable, *script, "--index-dir", str(index), "--corpus-dir", str(corpus), "--port", str(port)]
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=environ, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(base + "/api/health", timeout=30).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        yield base, proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
