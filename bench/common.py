"""Shared helpers of the benchmarks: the CMRC data, metrics, memory, machine info."""

from __future__ import annotations

import json
import os
import platform
import re
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CMRC_PATH = ROOT / "data" / "bench" / "cmrc2018_dev.json"
_MARKER = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True)
class Question:
    qid: str
    question: str
    answers: tuple[str, ...]
    source: str  # file name of the gold paragraph


@dataclass(frozen=True)
class Paragraph:
    pid: str
    title: str
    context: str

    @property
    def filename(self) -> str:
        return f"cmrc-{self.pid}.txt"


def load_cmrc(
    path: Path = CMRC_PATH, paragraphs: int | None = None, questions: int | None = None
) -> tuple[list[Paragraph], list[Question]]:
    """The first ``paragraphs`` paragraphs and (up to ``questions`` of) their questions."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    paras: list[Paragraph] = []
    qs: list[Question] = []
    for article in data["data"]:
        for p in article["paragraphs"]:
            if paragraphs is not None and len(paras) >= paragraphs:
                break
            para = Paragraph(p["id"], article.get("title", ""), p["context"])
            paras.append(para)
            for qa in p["qas"]:
                answers = tuple(dict.fromkeys(a["text"].strip() for a in qa["answers"] if a["text"].strip()))
                qs.append(Question(qa["id"], qa["question"], answers, para.filename))
    if questions is not None:
        qs = qs[:questions]
    return paras, qs


def write_corpus(paragraphs: Iterable[Paragraph], folder: Path) -> Path:
    """One UTF-8 .txt document per paragraph (the context only, exactly as in the data set)."""
    folder.mkdir(parents=True, exist_ok=True)
    for p in paragraphs:
        (folder / p.filename).write_text(p.context, encoding="utf-8")
    return folder


def strip_markers(answer: str) -> str:
    return _MARKER.sub("", answer)


def contains_any(text: str, answers: Iterable[str]) -> bool:
    return any(a in text for a in answers)


def first_rank(sources: list[str], gold: str) -> int | None:
    """1-based rank of the first retrieved item from the gold paragraph."""
    for i, s in enumerate(sources, start=1):
        if s == gold:
            return i
    return None


def ranking_metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "hit@1": round(sum(1 for r in ranks if r and r <= 1) / n, 4),
        "hit@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
        "mrr@10": round(sum(1 / r for r in ranks if r and r <= 10) / n, 4),
    }


def latency_stats(ms: list[float]) -> dict[str, float]:
    if not ms:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0, "max_ms": 0.0, "n": 0}
    a = np.asarray(ms, dtype=np.float64)
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p95_ms": round(float(np.percentile(a, 95)), 2),
        "mean_ms": round(float(a.mean()), 2),
        "max_ms": round(float(a.max()), 2),
        "n": int(a.size),
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process (ru_maxrss is in KiB on Linux)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def memory_mb(pid: int | None = None) -> dict[str, float]:
    """Resident memory of a process: rss (all resident pages), uss (its own: freed when it exits), pss
    (shared pages divided among their users) and the memory-mapped files' resident part."""
    import psutil

    proc = psutil.Process(pid)
    full = proc.memory_full_info()
    mapped = 0
    try:
        for m in proc.memory_maps(grouped=True):
            if m.path.startswith("/") and not m.path.endswith(".so") and ".so." not in m.path:
                mapped += m.rss
    except psutil.Error:
        pass
    return {
        "rss": round(full.rss / 2**20, 1),
        "uss": round(full.uss / 2**20, 1),
        "pss": round(getattr(full, "pss", 0) / 2**20, 1),
        "file_mapped_rss": round(mapped / 2**20, 1),
    }


def dir_size_mb(path: Path, exclude: tuple[str, ...] = ()) -> float:
    total = 0
    for p in Path(path).rglob("*"):
        if p.is_file() and p.name not in exclude:
            total += p.stat().st_size
    return round(total / 1e6, 2)


def machine() -> dict[str, Any]:
    def run(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except Exception:  # noqa: BLE001
            return ""

    cpu = ""
    for line in run(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    return {
        "nproc": run(["nproc"]),
        "cpu": cpu,
        "free_h": run(["free", "-h"]),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }


def write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")


def bench_env() -> None:
    """Offline, no telemetry; the product's own OMP policy."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def die_with_parent() -> None:
    """Linux: the child gets SIGTERM when this process dies (a killed or timed-out run leaves no orphans)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: best effort
        pass


# --- servers the benchmarks start -------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(**settings: Any) -> dict[str, str]:
    """The environment of a server a benchmark starts: this one without ERQI_*, plus ``settings`` as ERQI_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERQI_")}
    return (
        env
        | {"PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
        | {f"ERQI_{k.upper()}": str(v) for k, v in settings.items() if v is not None}
    )


def wait_until_up(up: Callable[[], bool], proc: subprocess.Popen, timeout: float, what: str) -> None:
    """Poll ``up()`` (connection errors count as not yet) until it is true; fail if ``proc`` exits or time runs out."""
    import httpx

    deadline = time.monotonic() + timeout
    while True:
        try:
            if up():
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.3)
