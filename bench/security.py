"""`python -m bench.security`: the figures issue 13 asks for, measured against real `python ui.py` and
`python -m ingest` processes (docs/benchmarks.md section 7, docs/bench/security.json).

* memory of the server (and of its parser worker) while it refuses a DOCX bomb and a 20,000-page PDF;
* index size, time and memory of short-line lists (rosters) of 750 to 6,000 lines: linear;
* 50 upload/delete cycles of one document: index size and server RSS against a fresh build
  (and, for contrast, with compaction turned off);
* other users' p95 while three clients send questions with a 300,000-character history.

The file generators are shared with the tests (tests/ingest/test_ingest_limits.py,
tests/vectorstore/test_index_integrity.py).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.common import free_port, server_env, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"
GDP_QUESTION = "二七区2020年的地区生产总值是多少?"


# --- files that cost too much ---------------------------------------------------------------------
def roster(lines: int) -> str:
    """A list of short unpunctuated lines (a roster): each line used to open a deeper heading."""
    return (
        "二七区网格员名单\n\n"
        + "\n".join(f"张{i:04d} 建中街社区第{i % 97}网格 电话6{i:07d}" for i in range(lines))
        + "\n"
    )


def docx_bomb(inflated_mb: int, path: Path) -> Path:
    """A valid DOCX whose document.xml inflates to ``inflated_mb`` MB (ratio about 1000:1)."""
    import docx

    base = io.BytesIO()
    docx.Document().save(base)
    template = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    paragraph = b"<w:p><w:r><w:t>" + b"a" * 2000 + b"</w:t></w:r></w:p>"
    block = paragraph * ((1 << 20) // len(paragraph))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info in template.infolist():
            if info.filename != "word/document.xml":
                out.writestr(info, template.read(info.filename))
                continue
            with out.open("word/document.xml", "w", force_zip64=True) as fh:
                fh.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                         b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
                for _ in range(inflated_mb):
                    fh.write(block)
                fh.write(b"</w:body></w:document>")
    return path


def one_line_pages_pdf(pages: int, path: Path) -> Path:
    """A PDF of ``pages`` pages holding one short line each."""
    from pypdf import PdfWriter
    from pypdf.generic import ContentStream, DictionaryObject, NameObject

    writer = PdfWriter()
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    for i in range(pages):
        page = writer.add_blank_page(200, 100)
        page[NameObject("/Resources")] = resources
        content = ContentStream(None, None)
        content.set_data(f"BT /F1 12 Tf 10 50 Td (Page line {i}) Tj ET".encode())
        page.replace_contents(content)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


# --- a real server --------------------------------------------------------------------------------
def index_bytes(index: Path) -> int:
    """The index on disk, without the embedding cache (a cache of vectors, not the index)."""
    total = 0
    for folder, _, files in os.walk(index):
        for name in files:
            if not name.startswith("embedding_cache"):
                with contextlib.suppress(FileNotFoundError):  # a compaction removed it meanwhile
                    total += os.stat(os.path.join(folder, name)).st_size
    return total


@contextmanager
def ui_server(index: Path, corpus: Path, **settings: Any) -> Iterator[tuple[httpx.Client, psutil.Process]]:
    """`python ui.py` on ``index``/``corpus`` with ERQI_* ``settings`` (its log in ``index``/../server.log):
    an HTTP client and the server process."""
    port = free_port()
    log = (index.parent / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "ui.py", "--index-dir", str(index), "--corpus-dir", str(corpus), "--port", str(port)],
        cwd=ROOT,
        env=server_env(**settings),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            wait_until_up(lambda: client.get("/api/health").status_code == 200, process, 180, "the server")
            yield client, psutil.Process(process.pid)
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def wait_embedded(client: httpx.Client, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while True:
        progress = client.get("/api/health").json()["embedding"]
        if not progress["running"] and progress["done"] == progress["total"]:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(progress)
        time.sleep(0.2)


class PeakRss:
    """Samples the RSS of a process and of its children every 20 ms."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.own = self.children = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.own = max(self.own, self.process.memory_info().rss)
                kids = sum(c.memory_info().rss for c in self.process.children(recursive=True))
                self.children = max(self.children, kids)
            except psutil.Error:
                pass
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def mb(n: int) -> int:
    return round(n / 2**20)


def built_copy(work: Path, name: str) -> tuple[Path, Path]:
    """A copy of the bundled corpus and its index (built by `python -m ingest`)."""
    corpus, index = work / name / "corpus", work / name / "index"
    shutil.copytree(CORPUS, corpus)
    subprocess.run(
        [sys.executable, "-m", "ingest", "--index-dir", str(index), "-q", str(corpus)],
        cwd=ROOT,
        env=server_env(),
        check=True,
    )
    return index, corpus


# --- the measurements -----------------------------------------------------------------------------
def bombs(work: Path) -> list[dict[str, Any]]:
    files = [
        docx_bomb(1000, work / "bomb-1gb.docx"),
        docx_bomb(90, work / "bomb-90mb.docx"),
        one_line_pages_pdf(20_000, work / "pages-20000.pdf"),
    ]
    index, corpus = built_copy(work, "bombs")
    rows = []
    with ui_server(index, corpus, max_upload_bytes=20_000_000) as (client, process):
        client.post("/api/ask", json={"question": GDP_QUESTION})
        idle = process.memory_info().rss
        for path in files:
            with PeakRss(process) as peak:
                started = time.perf_counter()
                r = client.post(
                    "/api/documents", files={"file": (path.name, path.read_bytes(), "application/octet-stream")}
                )
                seconds = time.perf_counter() - started
            rows.append(
                {
                    "file": path.name,
                    "bytes": path.stat().st_size,
                    "status": r.status_code,
                    "seconds": round(seconds, 2),
                    "reason": r.json()["error"]["message"][:120],
                    "server_rss_idle_mb": mb(idle),
                    "server_rss_peak_mb": mb(peak.own),
                    "worker_rss_peak_mb": mb(peak.children),
                    "left_in_corpus": (corpus / path.name).exists(),
                }
            )
    return rows


def short_lines(work: Path, sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for lines in sizes:
        folder = work / f"roster-{lines}"
        folder.mkdir(parents=True)
        (folder / "名单.txt").write_text(roster(lines), encoding="utf-8")
        index = folder / "index"
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "ingest", "--index-dir", str(index), "-q", str(folder / "名单.txt")],
            cwd=ROOT,
            env=server_env(),
        )
        peak = PeakRss(psutil.Process(process.pid))
        with peak:
            process.wait()
        rows.append(
            {
                "lines": lines,
                "file_bytes": (folder / "名单.txt").stat().st_size,
                "seconds": round(time.perf_counter() - started, 1),
                "index_mb": round(index_bytes(index) / 2**20, 2),
                "ingest_rss_peak_mb": mb(peak.own),
            }
        )
    return rows


def cycles(work: Path, n: int, compaction: bool) -> dict[str, Any]:
    index, corpus = built_copy(work, f"cycles-{compaction}")
    fresh = index_bytes(index)
    document = (CORPUS / "erqi-plan-2021-2026.txt").read_bytes()
    settings = {} if compaction else {"compact_deleted_ratio": 1e9}
    with ui_server(index, corpus, **settings) as (client, process):
        def cycle() -> None:
            created = client.post("/api/documents", files={"file": ("规划副本.txt", document, "text/plain")})
            created.raise_for_status()
            wait_embedded(client)
            client.post("/api/ask", json={"question": "到2025年地区生产总值的目标是多少?"}).raise_for_status()
            client.delete(f"/api/documents/{created.json()['document']['doc_id']}").raise_for_status()
            wait_embedded(client)

        cycle()
        fresh_rss = process.memory_info().rss
        latency_before = ask_p95(client, 20)
        for _ in range(n):
            cycle()
        time.sleep(1)
        rss, size = process.memory_info().rss, index_bytes(index)
        latency_after = ask_p95(client, 20)
    return {
        "compaction": compaction,
        "cycles": n,
        "index_fresh_mb": round(fresh / 2**20, 2),
        "index_after_mb": round(size / 2**20, 2),
        "rss_fresh_mb": mb(fresh_rss),
        "rss_after_mb": mb(rss),
        "p95_before_ms": latency_before,
        "p95_after_ms": latency_after,
    }


def ask_p95(client: httpx.Client, n: int) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        client.post("/api/ask", json={"question": GDP_QUESTION}).raise_for_status()
        times.append(time.perf_counter() - started)
    return round(statistics.quantiles(times, n=20)[-1] * 1000, 1)


def history_flood(work: Path, attackers: int = 3) -> dict[str, Any]:
    index, corpus = built_copy(work, "flood")
    history = [{"role": "user", "content": "二七区" * 100_000}, {"role": "assistant", "content": "好的。"}]
    with ui_server(index, corpus) as (client, _):
        ask_p95(client, 5)
        baseline = ask_p95(client, 40)
        stop, refused = threading.Event(), []

        def flood() -> None:
            with httpx.Client(base_url=str(client.base_url), timeout=120) as attacker:
                while not stop.is_set():
                    started = time.perf_counter()
                    r = attacker.post("/api/ask", json={"question": "那它呢?", "history": history})
                    refused.append((r.status_code, time.perf_counter() - started))

        threads = [threading.Thread(target=flood) for _ in range(attackers)]
        for t in threads:
            t.start()
        try:
            loaded = ask_p95(client, 40)
        finally:
            stop.set()
            for t in threads:
                t.join()
    return {"attackers": attackers, "history_chars": 300_000, "p95_alone_ms": baseline, "p95_under_flood_ms": loaded,
            "flood_requests": len(refused), "flood_statuses": sorted({s for s, _ in refused}),
            "flood_median_ms": round(statistics.median(t for _, t in refused) * 1000, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.security", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "security.json")
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--lines", default="750,1500,3000,6000")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one, removed)")
    parser.add_argument(
        "--only",
        help="comma-separated parts to (re)measure, kept with the others' earlier results in --out: "
        "bombs, short_lines, cycles, history_flood",
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-security-"))
    work.mkdir(parents=True, exist_ok=True)
    parts = {
        "bombs": lambda: bombs(work),
        "short_lines": lambda: short_lines(work, [int(n) for n in args.lines.split(",")]),
        "cycles": lambda: [cycles(work, args.cycles, True), cycles(work, args.cycles, False)],
        "history_flood": lambda: history_flood(work),
    }
    chosen = args.only.split(",") if args.only else list(parts)
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.only and args.out.exists() else {}
    try:
        for name in chosen:
            results[name] = parts[name]()
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
