"""The one fusion sweep: how the hybrid retrieval's fusion setting ranks the passage that answers.

``python -m training.fusion [--set gold|cmrc] [--index-dir DIR] [--questions N] [--out F.json]``

For each setting of :data:`GRID` (``ERQI_FUSION``, ``ERQI_DENSE_WEIGHT``):

* ``gold`` (``make tune``): the gold set through the whole assistant (``python -m assistant eval``'s metrics):
  retrieval hit@k and MRR, answer accuracy, refusals, over the index of the bundled reports;
* ``cmrc``: retrieval alone on CMRC 2018 (``make bench``): paragraph-level hit@1/hit@5/MRR@10 of
  ``HybridRetriever.search`` over an index of its paragraphs (one ``bench.cmrc ours`` built).

The default in ``vectorstore/settings.py`` was chosen on the gold set (docs/benchmarks.md, section 2).
"""
from __future__ import annotations

import argparse
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from bench.common import load_cmrc, ranking_metrics, write_json

GRID = [("minmax", w) for w in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)] + [("rrf", 0.5)]


def _assistant(index_dir: Path | None):
    from assistant.service import Assistant
    from settings import Settings

    settings = Settings(**({"index_dir": index_dir} if index_dir else {}))
    assistant = Assistant(settings)
    assistant.warm_up()
    embed = assistant.store.embeddings
    embed.embed_query = lru_cache(maxsize=None)(embed.embed_query)  # type: ignore[method-assign]
    return settings, assistant


def gold_sweep(index_dir: Path | None, gold: Path) -> list[dict[str, Any]]:
    from assistant.evaluation import evaluate_assistant, load_gold, read_corpus

    settings, assistant = _assistant(index_dir)
    items = [g for g in load_gold(gold) if g.get("task", "ask") == "ask"]
    corpus = read_corpus(settings.ingest.corpus_dir)
    rows = []
    for fusion, weight in GRID:
        assistant.retriever.fusion, assistant.retriever.dense_weight = fusion, weight
        m = evaluate_assistant(assistant, items, corpus).metrics
        rows.append({"fusion": fusion, "dense_weight": weight} | {k: m[k] for k in (
            "hit@1", "hit@3", "hit@5", "mrr@10", "answer_accuracy", "refusal_accuracy", "false_refusal_rate")})
    return rows


def cmrc_sweep(index_dir: Path | None, questions: int | None) -> list[dict[str, Any]]:
    _, assistant = _assistant(index_dir)
    retriever = assistant.retriever
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
        rows.append({"fusion": fusion, "dense_weight": weight, "questions": len(qs), **ranking_metrics(ranks)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.fusion", description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("gold", "cmrc"), default="gold")
    parser.add_argument("--index-dir", type=Path, help="the index to search (default: ERQI_INDEX_DIR or var/index)")
    parser.add_argument("--gold", type=Path, default=Path("data/eval/gold.jsonl"))
    parser.add_argument("--questions", type=int, help="cmrc: the first N questions only")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here (else print them)")
    args = parser.parse_args(argv)
    rows = gold_sweep(args.index_dir, args.gold) if args.set == "gold" else cmrc_sweep(args.index_dir, args.questions)
    if args.out:
        write_json(args.out, {"set": args.set, "questions": rows[0].get("questions") if rows else 0, "rows": rows})
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
