"""Serving a large index: a server's cold start, questions while a document is ingested, memory, and
several workers on one Chroma server.

``python -m bench.serving start --index DIR --out FILE.json``
    `python ui.py` on a copy of the index (embedded Chroma, the default deployment): seconds from
    starting the process to its first answer (the kept keyword index is loaded, not rebuilt); then
    the server's memory after 50 questions (rss, uss: its own pages, pss; file-mapped pages are the
    kept index's, shared with the other workers and given back under pressure); then questions from
    ``--clients`` clients back to back while one new document of 50 chunks is uploaded through the
    API and embedded: their latency before and during the ingest, the upload's own time, and how
    long until the new document answers a question only it can answer.
``python -m bench.serving workers --index DIR --out FILE.json``
    A Chroma server (`chroma run`) on a copy of the index; `python ui.py --workers 1` and then
    `--workers 2` against it, each under ``--clients`` concurrent clients for ``--seconds``: answered
    questions per second and errors.  Then two single-worker servers A and B sharing the server and
    one keyword-index folder: a document uploaded through A, the seconds until B answers from it.

The questions are CMRC 2018 questions (a fixed random sample), sent to ``POST /api/ask``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    ROOT,
    bench_env,
    die_with_parent,
    free_port,
    latency_stats,
    load_cmrc,
    machine,
    memory_mb,
    server_env,
    wait_until_up,
    write_json,
)

bench_env()

NEW_DOC = "bench-new-district.txt"
NEW_FACT = "澜沧新区于2031年建成的第一座跨海大桥名为星澜大桥,全长约十二公里,连接北港与南岛。"
NEW_QUESTION = "澜沧新区第一座跨海大桥叫什么名字?"
NEW_ANSWER = "星澜大桥"
CHROMA = Path(sys.executable).parent / "chroma"


def questions(n: int, seed: int = 1) -> list[str]:
    _, qs = load_cmrc()
    return [q.question for q in random.Random(seed).sample(qs, min(n, len(qs)))]


def new_document(chunks: int = 50, seed: int = 3) -> str:
    """A document of about ``chunks`` chunks of the default size: real CMRC sentences, paragraphs of ~450
    characters, one fact no other document has."""
    paras, _ = load_cmrc()
    rng = random.Random(seed)
    sentences = [s + "。" for p in paras for s in p.context.split("。") if 20 <= len(s) <= 120]
    out = ["澜沧新区建设资料"]
    for i in range(chunks):
        para = ""
        while len(para) < 430:
            para += rng.choice(sentences)
        out.append((NEW_FACT if i == chunks // 2 else "") + para)
    return "\n\n".join(out) + "\n"


@contextmanager
def process(args: list[str], log: Path, env: dict[str, str], cwd: Path = ROOT) -> Iterator[subprocess.Popen]:
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )  # a killed benchmark leaves no server behind
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(30)


def ui(index: Path, corpus: Path, port: int, log: Path, workers: int = 1, **settings: Any):
    args = [sys.executable, "ui.py", "--index-dir", str(index), "--corpus-dir", str(corpus), "--port", str(port)]
    return process(args + (["--workers", str(workers)] if workers > 1 else []), log, server_env(**settings))


def ask(client: httpx.Client, question: str) -> tuple[float, int, dict]:
    started = time.perf_counter()
    try:
        r = client.post("/api/ask", json={"question": question})
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        return (time.perf_counter() - started) * 1000, r.status_code, body
    except httpx.HTTPError as exc:
        return (time.perf_counter() - started) * 1000, 0, {"error": str(exc)}


def first_answer(base: str, proc: subprocess.Popen, question: str, timeout: float = 600) -> float:
    """Seconds (from now) until ``question`` gets a 200 answer."""
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=60) as client:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}")
            try:
                if client.post("/api/ask", json={"question": question}).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            if time.monotonic() - started > timeout:
                raise TimeoutError("no answer")
            time.sleep(0.05)


def cites(body: dict, source: str, answer: str) -> bool:
    return any(c.get("source") == source for c in body.get("citations", [])) and answer in body.get("answer", "")


class Load:
    """``clients`` threads asking questions back to back; every result kept with its start time."""

    def __init__(self, base: str, clients: int, qs: list[str]) -> None:
        self.base, self.qs = base, qs
        self.results: list[tuple[float, float, int]] = []  # (start monotonic, ms, status)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]

    def _run(self, i: int) -> None:
        rng = random.Random(i)
        with httpx.Client(base_url=self.base, timeout=120) as client:
            while not self._stop.is_set():
                t = time.monotonic()
                ms, status, _ = ask(client, rng.choice(self.qs))
                self.results.append((t, ms, status))

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def between(self, start: float, end: float) -> dict[str, Any]:
        rows = [(ms, status) for t, ms, status in self.results if start <= t < end]
        return latency_stats([ms for ms, status in rows if status == 200]) | {
            "errors": sum(1 for _, s in rows if s != 200)
        }


def copy_index(index: Path, work: Path) -> Path:
    target = work / "index"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(index, target)
    return target


def start(index: Path, out: Path, clients: int, work: Path) -> dict[str, Any]:
    index = copy_index(index, work)
    corpus = work / "corpus"
    corpus.mkdir(exist_ok=True)
    qs = questions(200)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {"clients": clients}
    started = time.monotonic()
    with ui(index, corpus, port, work / "server.log") as proc:
        first_answer(base, proc, qs[0])
        result["cold_start_to_first_answer_s"] = round(time.monotonic() - started, 2)
        with httpx.Client(base_url=base, timeout=120) as client:
            warm = [ask(client, q)[0] for q in qs[:50]]
            result["warm_sequential"] = latency_stats(warm)
            result["memory_after_50_questions_mb"] = memory_mb(proc.pid)
            result["keyword_index"] = client.get("/api/health").json().get("keyword_index")
            doc = new_document()
            path = work / NEW_DOC
            path.write_text(doc, encoding="utf-8")
            with Load(base, clients, qs) as load:
                time.sleep(10)
                t_upload = time.monotonic()
                with open(path, "rb") as fh:
                    r = client.post("/api/documents", files={"file": (NEW_DOC, fh, "text/plain")})
                t_uploaded = time.monotonic()
                assert r.status_code == 201, r.text
                chunks = r.json()["document"]["chunks"]
                answerable = None
                embedded = None
                while time.monotonic() - t_upload < 180:
                    if answerable is None and cites(ask(client, NEW_QUESTION)[2], NEW_DOC, NEW_ANSWER):
                        answerable = time.monotonic()
                    progress = client.get("/api/health").json()["embedding"]
                    if embedded is None and not progress["running"] and progress["done"] >= progress["total"]:
                        embedded = time.monotonic()
                    if answerable and embedded:
                        break
                    time.sleep(0.2)
                end = max(embedded or time.monotonic(), answerable or 0)
                time.sleep(5)
            result["ingest"] = {
                "chunks": chunks,
                "upload_request_s": round(t_uploaded - t_upload, 2),
                "answerable_after_s": round(answerable - t_upload, 2) if answerable else None,
                "embedded_after_s": round(embedded - t_upload, 2) if embedded else None,
                "questions_before": load.between(t_upload - 10, t_upload),
                "questions_during": load.between(t_upload, end),
                "questions_after": load.between(end, end + 5),
            }
            result["memory_after_ingest_mb"] = memory_mb(proc.pid)
    result["machine_load"] = os.getloadavg()
    return result


@contextmanager
def chroma_server(path: Path, log: Path) -> Iterator[int]:
    port = free_port()
    with process(
        [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)], log, server_env()
    ) as proc:
        heartbeat = f"http://127.0.0.1:{port}/api/v2/heartbeat"
        wait_until_up(lambda: httpx.get(heartbeat, timeout=2).status_code == 200, proc, 120, "chroma run")
        yield port


def throughput(base: str, clients: int, seconds: float, qs: list[str]) -> dict[str, Any]:
    with Load(base, clients, qs) as load:
        time.sleep(seconds)
        t_end = time.monotonic()
    rows = [(ms, s) for t, ms, s in load.results if t < t_end]
    ok = [ms for ms, s in rows if s == 200]
    return {
        "questions_per_second": round(len(ok) / seconds, 2),
        "errors": sum(1 for _, s in rows if s != 200),
    } | latency_stats(ok)


def workers(index: Path, out: Path, clients: int, seconds: float, work: Path) -> dict[str, Any]:
    data = copy_index(index, work)
    local = work / "local"  # each server's own folder: embedding cache and kept keyword index
    local.mkdir(exist_ok=True)
    shutil.copyfile(data / "embedding_cache.sqlite", local / "embedding_cache.sqlite")
    corpus = work / "corpus"
    corpus.mkdir(exist_ok=True)
    qs = questions(200)
    result: dict[str, Any] = {"clients": clients, "seconds": seconds}
    with chroma_server(data, work / "chroma.log") as chroma_port:
        settings = {"chroma_host": "127.0.0.1", "chroma_port": chroma_port, "chroma_timeout": 10}
        for n in (1, 2):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            started = time.monotonic()
            with ui(local, corpus, port, work / f"workers-{n}.log", workers=n, **settings) as proc:
                first_answer(base, proc, qs[0])
                ready = time.monotonic() - started
                throughput(base, clients, 5, qs)  # every worker warm
                result[f"workers_{n}"] = throughput(base, clients, seconds, qs) | {"ready_s": round(ready, 2)}
        result["ratio_2_to_1"] = round(
            result["workers_2"]["questions_per_second"] / max(result["workers_1"]["questions_per_second"], 1e-9), 2
        )
        # an upload through A, answered by B
        ports = free_port(), free_port()
        with (
            ui(local, corpus, ports[0], work / "a.log", **settings) as a,
            ui(local, corpus, ports[1], work / "b.log", **settings) as b,
        ):
            first_answer(f"http://127.0.0.1:{ports[0]}", a, qs[0])
            first_answer(f"http://127.0.0.1:{ports[1]}", b, qs[0])
            path = work / NEW_DOC
            path.write_text(new_document(), encoding="utf-8")
            with (
                httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", timeout=300) as ca,
                httpx.Client(base_url=f"http://127.0.0.1:{ports[1]}", timeout=60) as cb,
            ):
                t0 = time.monotonic()
                with open(path, "rb") as fh:
                    r = ca.post("/api/documents", files={"file": (NEW_DOC, fh, "text/plain")})
                assert r.status_code == 201, r.text
                t_uploaded = time.monotonic()
                seen = None
                while time.monotonic() - t0 < 120:
                    if cites(ask(cb, NEW_QUESTION)[2], NEW_DOC, NEW_ANSWER):
                        seen = time.monotonic()
                        break
                    time.sleep(0.1)
            result["upload_a_answered_by_b"] = {
                "upload_request_s": round(t_uploaded - t0, 2),
                "answered_by_b_after_upload_returned_s": round(seen - t_uploaded, 2) if seen else None,
                "answered_by_b_after_upload_started_s": round(seen - t0, 2) if seen else None,
            }
    result["machine_load"] = os.getloadavg()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serving")
    parser.add_argument("phase", choices=["start", "workers"])
    parser.add_argument(
        "--index", type=Path, required=True, help="an index built by `python -m bench.scaling build` (or any index dir)"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--clients", type=int, help="concurrent clients (default: 2 for start, 20 for workers)")
    parser.add_argument("--seconds", type=float, default=30.0, help="workers: seconds of load per setting")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-serving-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.phase == "start":
            result = start(args.index, args.out, args.clients or 2, work)
        else:
            result = workers(args.index, args.out, args.clients or 20, args.seconds, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    result["machine"] = {k: v for k, v in machine().items() if k != "free_h"}
    write_json(args.out, result)
    print(json.dumps(result, ensure_ascii=False, indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
