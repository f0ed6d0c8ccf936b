"""Answers per second under load, and the single answer's latency: this checkout side by side with another.

``python -m bench.load [--against DIR] [--clients 20] [--seconds 60] [--out docs/bench/load.json]``

For each checkout (this one, and ``--against``: e.g. a ``git worktree`` of an earlier commit), in turn, on an
otherwise idle machine: the bundled reports are indexed by that checkout's own ``python -m ingest`` into a
scratch folder, its ``python ui.py`` serves them on 127.0.0.1, and after a warm-up

* one client asks the gold set's questions back to back for ``--seconds`` (answers/s, p50/p95 latency),
* ``--clients`` clients do the same for ``--seconds`` (answers/s, p50/p95, errors),

over HTTP (``POST /api/ask``), as a user would.  The server is stopped and its scratch folder removed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, bench_env, free_port, machine, server_env, wait_until_up, write_json
from bench.serving import process, throughput

bench_env()
GOLD = ROOT / "data" / "eval" / "gold.jsonl"
WARM_UP = 30  # questions asked before measuring (first answers load the models and the index)


def gold_questions() -> list[str]:
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("task", "ask") == "ask" and not r.get("history")]


def measure(checkout: Path, clients: int, seconds: float, work: Path) -> dict[str, Any]:
    env = server_env() | {"PYTHONPATH": str(checkout)}
    index = work / "index"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ingest", "--index-dir", str(index), str(checkout / "data" / "corpus")],
                   cwd=checkout, env=env, check=True, capture_output=True)
    ingest_s = time.perf_counter() - started
    port = free_port()
    args = [sys.executable, "ui.py", "--index-dir", str(index), "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    qs = gold_questions()
    with process(args, work / "ui.log", env, cwd=checkout) as proc:
        wait_until_up(lambda: httpx.get(base + "/api/health", timeout=5).status_code == 200, proc, 300, "ui.py")
        with httpx.Client(base_url=base, timeout=120) as client:
            for q in qs[:WARM_UP]:
                client.post("/api/ask", json={"question": q})
        one = throughput(base, 1, seconds, qs)
        many = throughput(base, clients, seconds, qs)
    return {"checkout": str(checkout), "ingest_seconds": round(ingest_s, 1), "one_client": one,
            f"{clients}_clients": many, "ratio": round(many["questions_per_second"] / one["questions_per_second"], 2)
            if one["questions_per_second"] else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout to measure in the same run")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "load.json")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"machine": machine(), "clients": args.clients, "seconds": args.seconds,
                              "questions": len(gold_questions())}
    for name, checkout in [("this", ROOT), ("against", args.against)]:
        if checkout is None:
            continue
        work = Path(tempfile.mkdtemp(prefix="erqi-load-"))
        try:
            result[name] = measure(checkout.resolve(), args.clients, args.seconds, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(name, json.dumps(result[name], ensure_ascii=False), file=sys.stderr, flush=True)
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
