"""Several workers on one Chroma server: `ui.py --workers 2` and a second server keep answering while
`python -m ingest` (the command line, another process) adds a document, and both answer from it soon after.

Real `chroma run` on 127.0.0.1, real `ui.py` processes, real `python -m ingest`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ingest.pipeline import run_ingest
from settings import Settings

from chroma_server import ChromaServer
from common import REPO, free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]

NOTICE = "二七区通知\n\n二七区星澜图书馆于2026年3月开馆,藏书一百二十万册,位于航海路与大学路交叉口。\n"
QUESTION = "星澜图书馆藏书多少册?"
UPLOAD = "二七区公告\n\n二七区云栖体育公园于2026年5月建成,设有标准游泳池四座,位于嵩山路南段。\n"
UPLOAD_QUESTION = "云栖体育公园有几座标准游泳池?"


def env_for(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERQI_")}
    s = settings.store
    return env | {
        "PYTHONPATH": str(REPO),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ERQI_CHROMA_HOST": str(s.chroma_host),
        "ERQI_CHROMA_PORT": str(s.chroma_port),
        "ERQI_COLLECTION": s.collection,
        "ERQI_LEXICAL_POLL_SECONDS": "0.5",
        "ERQI_CHROMA_TIMEOUT": "10",
    }


@contextmanager
def ui(settings: Settings, corpus: Path, log: Path, workers: int = 1) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable,
        "ui.py",
        "--index-dir",
        str(settings.store.index_dir),
        "--corpus-dir",
        str(corpus),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, cwd=REPO, env=env_for(settings), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if (
                    httpx.post(base + "/api/ask", json={"question": "二七区的GDP是多少?"}, timeout=60).status_code
                    == 200
                ):
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(30)


def answered_from(base: str, source: str, question: str = QUESTION, answer: str = "一百二十万") -> bool:
    body = httpx.post(base + "/api/ask", json={"question": question}, timeout=60).json()
    return any(c["source"] == source for c in body.get("citations", [])) and answer in body.get("answer", "")


def test_two_workers_and_a_cli_ingest_against_one_chroma_server_keep_answering(
    short_lived_server: ChromaServer, fresh_settings: Settings, corpus_dir: Path, tmp_path: Path
) -> None:
    chroma = short_lived_server
    settings = fresh_settings.replace(
        chroma_host=chroma.host, chroma_port=chroma.port, collection=f"w_{uuid.uuid4().hex[:8]}"
    )
    run_ingest(settings, [corpus_dir], show_progress=False)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    with (
        ui(settings, uploads, tmp_path / "workers.log", workers=2) as pair,
        ui(settings, uploads, tmp_path / "single.log") as single,
    ):
        errors: list[str] = []
        answered = [0]
        stop = threading.Event()

        def ask_all_the_time() -> None:
            with httpx.Client(timeout=60) as client:
                while not stop.is_set():
                    for base in (pair, single):
                        r = client.post(base + "/api/ask", json={"question": "福华颐养院有多少张床位?"})
                        if r.status_code != 200 or "317" not in r.json()["answer"]:
                            errors.append(f"{base}: {r.status_code} {r.text[:200]}")
                        answered[0] += 1

        clients = [threading.Thread(target=ask_all_the_time) for _ in range(3)]
        for t in clients:
            t.start()
        try:
            folder = tmp_path / "cli"
            folder.mkdir()
            (folder / "notice.txt").write_text(NOTICE, encoding="utf-8")
            done = subprocess.run(
                [sys.executable, "-m", "ingest", "--index-dir", str(settings.store.index_dir), "-q", str(folder)],
                cwd=REPO,
                env=env_for(settings),
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0, done.stderr
            ingested = time.monotonic()
            seen: dict[str, float] = {}
            while len(seen) < 2 and time.monotonic() - ingested < 30:
                for name, base in (("pair", pair), ("single", single)):
                    tries = 4 if name == "pair" else 1  # the pair: both workers answer
                    if name not in seen and all(answered_from(base, "notice.txt") for _ in range(tries)):
                        seen[name] = time.monotonic() - ingested
                time.sleep(0.2)
        finally:
            stop.set()
            for t in clients:
                t.join()
        assert not errors, errors[:5]
        assert answered[0] > 10
        assert set(seen) == {"pair", "single"}, (
            f"the CLI's document was not answered by every worker within 30 s: {seen}"
        )
        assert max(seen.values()) < 10
        # an upload through one server (worker A) is answered by the other two workers (B) within 10 s
        assert not answered_from(pair, "park.txt", UPLOAD_QUESTION, "四座")
        upload = {"file": ("park.txt", UPLOAD.encode("utf-8"), "text/plain")}
        r = httpx.post(single + "/api/documents", files=upload, timeout=120)
        assert r.status_code == 201, r.text
        uploaded = time.monotonic()
        while not all(answered_from(pair, "park.txt", UPLOAD_QUESTION, "四座") for _ in range(4)):
            assert time.monotonic() - uploaded < 10, (
                "an upload through one worker was not answered by the others within 10 s"
            )
            time.sleep(0.2)
