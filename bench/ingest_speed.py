"""Ingest speed and peak memory of one checkout: the first N CMRC 2018 dev paragraphs into a fresh index.

``python -m bench.ingest_speed [--code-dir DIR] [--paragraphs 120] [--work DIR] [--python PY] [--out FILE.json]``

Every paragraph is a .txt document (``bench.common.write_corpus``, as ``bench.cmrc``); the checkout in
``--code-dir`` (default: this one) ingests them with its own ``python -m ingest -q --index-dir …`` in a child
process run under ``/usr/bin/time -v``, from an empty work folder (so nothing of the checkout's var/ is read
or written: a fresh index, a fresh embedding cache).  Printed (and written to ``--out``) as JSON: seconds
(wall), passages (paragraphs) per second, CPU seconds (user + system), chunks, texts in the embedding
cache, peak RSS in MB, the load average before the run, and the exact command.  Comparing checkouts
(issue 19: before and after the sentence and word vectors were dropped) means running this once per
``--code-dir`` with the same Python.  Time it without ``nice``: the machine's load is in the output.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import CMRC_PATH, load_cmrc, write_corpus

TIME = "/usr/bin/time"
_ELAPSED = re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)")
_PEAK = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_CPU = re.compile(r"(?:User|System) time \(seconds\): ([\d.]+)")


def _wall_seconds(report: str) -> float:
    m = _ELAPSED.search(report)
    if m is None:
        raise ValueError("no elapsed time in the /usr/bin/time -v report")
    hours, minutes, seconds = m.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def _peak_mb(report: str) -> float:
    m = _PEAK.search(report)
    if m is None:
        raise ValueError("no maximum resident set size in the /usr/bin/time -v report")
    return round(int(m.group(1)) / 1024, 1)


def _cached_texts(index_dir: Path) -> int | None:
    """Texts in the embedding cache the run left (passages only, or passages and sentences and words)."""
    path = index_dir / "embedding_cache.sqlite"
    if not path.exists():
        return None
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return sum(int(db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]) for t in tables)


def measure(code_dir: Path, paragraphs: int, work: Path, python: str) -> dict[str, Any]:
    paras, _ = load_cmrc(paragraphs=paragraphs, questions=0)
    corpus = write_corpus(paras, work / "corpus")
    index_dir, cwd = work / "index", work / "cwd"
    cwd.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERQI_")}
    env |= {"PYTHONPATH": str(code_dir.resolve()), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False"}
    command = [TIME, "-v", python, "-m", "ingest", "-q", "--index-dir", str(index_dir), str(corpus)]
    load = os.getloadavg()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"ingest failed ({done.returncode})")
    seconds = _wall_seconds(done.stderr)
    chunks = re.search(r"(\d+) chunks", done.stdout)
    return {
        "code_dir": str(code_dir.resolve()),
        "commit": subprocess.run(["git", "-C", str(code_dir), "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True, check=False).stdout.strip() or None,
        "paragraphs": len(paras),
        "seconds": round(seconds, 2),
        "passages_per_second": round(len(paras) / seconds, 2) if seconds else None,
        "cpu_seconds": round(sum(float(x) for x in _CPU.findall(done.stderr)), 2),  # user + system: less load-bound
        "chunks": int(chunks.group(1)) if chunks else None,
        "cached_texts": _cached_texts(index_dir),
        "peak_rss_mb": _peak_mb(done.stderr),
        "load_average_before": [round(x, 2) for x in load],
        "ingest_summary": done.stdout.strip().splitlines()[-1:] or None,
        "command": " ".join(command),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_speed")
    parser.add_argument("--code-dir", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--paragraphs", type=int, default=120)
    parser.add_argument("--work", type=Path, help="empty folder for the corpus and index (default: a temp folder)")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that runs the checkout's ingest")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not CMRC_PATH.exists():
        raise SystemExit(f"{CMRC_PATH} is missing")
    with tempfile.TemporaryDirectory(prefix="ingest_speed_") as tmp:
        result = measure(args.code_dir, args.paragraphs, args.work or Path(tmp), args.python)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
