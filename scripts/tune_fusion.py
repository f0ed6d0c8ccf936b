"""Sweep fusion settings on the gold set: `python scripts/tune_fusion.py [--index-dir DIR]`.

Prints retrieval hit@k / MRR and answer accuracy for each setting; the chosen
default (Settings.fusion / Settings.dense_weight) is recorded in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from assistant.evaluation import evaluate_assistant, load_gold, read_corpus
from assistant.service import Assistant
from settings import Settings

GRID = [("minmax", w) for w in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)] + [("rrf", 0.5)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", type=Path, default=None)
    parser.add_argument("--gold", type=Path, default=Path("data/eval/gold.jsonl"))
    args = parser.parse_args()
    base = Settings(**({"index_dir": args.index_dir} if args.index_dir else {}))
    gold = [g for g in load_gold(args.gold) if g.get("task", "ask") == "ask"]
    corpus = read_corpus(base.ingest.corpus_dir)
    assistant = Assistant(base)
    assistant.warm_up()
    print(
        "| fusion | dense weight | hit@1 | hit@3 | hit@5 | MRR@10 | answer "
        "accuracy | refusal accuracy | false refusals |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for fusion, weight in GRID:
        assistant.retriever.fusion, assistant.retriever.dense_weight = fusion, weight
        m = evaluate_assistant(assistant, gold, corpus).metrics
        print(
            f"| {fusion} | {weight} | {m['hit@1']} | {m['hit@3']} | {m['hit@5']} "
            f"| {m['mrr@10']} | {m['answer_accuracy']} | {m['refusal_accuracy']} | {m['false_refusal_rate']} |"
        )


if __name__ == "__main__":
    main()
