"""Fusion weight sweep on CMRC 2018 (retrieval only), next to the gold-set sweep of ``make tune``.

``python -m bench.fusion --index DIR --out F.json [--questions N]``: DIR is an index
built by ``python -m bench.cmrc ours`` (its ``index`` folder).  For each setting,
paragraph-level hit@1 / hit@5 / MRR@10 of ``HybridRetriever.search``.
"""
from __future__ import annotations

import argparse
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from bench.common import load_cmrc, ranking_metrics, write_json

GRID = [("minmax", w) for w in (0.0, 0.3, 0.5, 0.7, 0.8, 1.0)] + [("rrf", 0.5)]


def sweep(index: Path, questions: int | None) -> dict[str, Any]:
    from settings import Settings
    from vectorstore.chroma.store import ChunkStore
    from vectorstore.embedding.embeddings import load_embeddings
    from vectorstore.retriever import HybridRetriever

    settings = Settings(_env_file=None, index_dir=index)  # type: ignore[call-arg]
    store = ChunkStore(settings, load_embeddings(settings))
    store.embeddings.embed_query = lru_cache(maxsize=None)(store.embeddings.embed_query)  # type: ignore[method-assign]
    retriever = HybridRetriever.from_settings(store, settings)
    _, qs = load_cmrc(questions=questions)
    known = {c.source for c in retriever.all_chunks()}
    qs = [q for q in qs if q.source in known]
    rows = []
    for fusion, weight in GRID:
        retriever.fusion, retriever.dense_weight = fusion, weight
        ranks = []
        for q in qs:
            sources = [s.chunk.source for s in retriever.search(q.question, 10)]
            ranks.append(sources.index(q.source) + 1 if q.source in sources else None)
        rows.append({"fusion": fusion, "dense_weight": weight, **ranking_metrics(ranks)})
        print(rows[-1], file=sys.stderr, flush=True)
    return {"questions": len(qs), "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fusion")
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--questions", type=int)
    args = parser.parse_args(argv)
    write_json(args.out, sweep(args.index, args.questions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
