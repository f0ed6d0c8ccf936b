"""The sentence ranking: which candidate sentences the reader reads first (step 1 of ``make train``).

``python -m training.ranking [--work DIR] [--out FILE] [--report FILE]``

Every question of the gold set, the reports' training questions (data/train, written blind to the frozen
sets; weighted REPORTS_WEIGHT), CMRC 2018 dev and DRCD dev (with near misses, see training/sets.py) goes
through the product's retrieval and candidate features (training/collect.py).  Gradient-boosted trees are
fitted on the train split to tell the sentences that hold a gold answer from those that do not; what is
known of a feature's direction is a monotonic constraint, not a weight.  The validation split reports how
often the best-ranked sentence, and any of the first few, holds the answer.  The trees replace the ``scorer``
part of the answer model file; its decision part is fitted later (training/decision.py).
Deterministic: fixed data order and seeds, no early stopping.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from assistant.model import MODEL_PATH
from bench.common import ROOT, bench_env, write_json
from training.collect import Collected, collect
from training.generalise import DEFAULT_WORK, load_set
from training.sets import REPORT_SETS, entity_pool
from training.trees import boosted, export_trees

bench_env()

SETS = ("gold", "reports_train", "drcd", "cmrc")
# the question sets on the reports are the only training data in their language of plans and figures
REPORTS_WEIGHT = 10.0
TOP = (1, 3, 5)  # the ranking is reported by how often a sentence holding the answer is among the first k
TREES = {"max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 15, "l2_regularization": 1.0, "min_samples_leaf": 40}
# What is known for certain about a feature's direction is a constraint, not a weight: a sentence of
# the wrong type, year or place never gets likelier for it, one that holds more of the question never less.
SCORER_MONOTONIC = {"typed_miss": -1, "entity_conflict": -1, "year_conflict": -1, "answer_type": 1, "cover_sentence": 1,
                    "pins_sentence": 1}
def _constraints(names: tuple[str, ...], signs: dict[str, int]) -> list[int]:
    return [signs.get(n, 0) for n in names]


def _weight(c: Collected) -> float:
    return REPORTS_WEIGHT if c.set_name in REPORT_SETS else 1.0


def _stack(rows: list[Collected]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = [c for c in rows if len(c.labels)]
    x = np.vstack([c.table.matrix for c in rows])
    y = np.concatenate([c.labels for c in rows])
    w = np.concatenate([np.full(len(c.labels), _weight(c)) for c in rows])
    return x, y, w


def fit_trees(rows: list[Collected]):
    from assistant.features import FEATURES

    return boosted(*_stack(rows), TREES, _constraints(FEATURES, SCORER_MONOTONIC))


def ranking_report(trees: Any, rows: list[Collected]) -> dict[str, Any]:
    """Per set: how often a sentence holding a gold answer is ranked first, or among the first k."""
    from assistant.model import sigmoid

    out: dict[str, Any] = {}
    for name in sorted({c.set_name for c in rows}):
        mine = [c for c in rows if c.set_name == name and c.labels.any()]
        ranks = []
        for c in mine:
            order = np.argsort(-sigmoid(trees.raw(c.table.matrix)), kind="stable")
            ranks.append(int(np.argmax(c.labels[order] > 0)) + 1)
        out[name] = {"questions": len(mine)} | {f"answer_in_top_{k}": round(float(np.mean([r <= k for r in ranks])), 4)
                                                 for k in TOP if ranks}
    return out


def train(work: Path) -> tuple[Any, dict[str, Any]]:
    from assistant.features import FEATURES

    started = time.perf_counter()
    pool = entity_pool(p.context for name in SETS for p in load_set(name).paragraphs)
    collected = [c for name in SETS for c in collect(name, work, ("train", "val"), pool)]
    train_rows = [c for c in collected if c.item.split == "train"]
    val_rows = [c for c in collected if c.item.split == "val"]
    print(f"collected {len(collected)} questions in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    clf = fit_trees(train_rows)
    trees = export_trees(clf)
    for c in val_rows[:50]:
        if len(c.labels):
            mine, theirs = trees.raw(c.table.matrix), clf.decision_function(c.table.matrix)
            assert np.allclose(mine, theirs, atol=1e-9), "exported trees disagree with sklearn"
    report = {
        "questions": {s: {split: sum(1 for c in collected if c.set_name == s and c.item.split == split)
                          for split in ("train", "val")} for s in SETS},
        "features": list(FEATURES), "trees": TREES, "monotonic": SCORER_MONOTONIC, "reports_weight": REPORTS_WEIGHT,
        "validation": ranking_report(trees, val_rows),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return trees, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.ranking", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work", type=Path, default=DEFAULT_WORK, help="scratch indexes (kept: a second run re-embeds nothing)"
    )
    parser.add_argument("--out", type=Path, default=MODEL_PATH, help="the answer model file (its scorer is replaced)")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "bench" / "ranking.json")
    args = parser.parse_args(argv)
    trees, report = train(args.work)
    with_ranking(args.out, trees, report)
    write_json(args.report, report)
    print(f"wrote {args.out} and {args.report}: {report['validation']}", file=sys.stderr)
    return 0


def with_ranking(path: Path, trees: Any, report: dict[str, Any]) -> None:
    """Put the new sentence ranking into the answer model file at ``path``, keeping its decision part (fitted
    next, by training.decision, on this ranking); a first file gets an empty decision that refuses nothing."""
    from assistant.decision import DECISION_FEATURES
    from assistant.features import FEATURES
    from assistant.model import AnswerModel, Trees, load_model

    if path.exists():
        old = load_model(path)
        decision, features, threshold, hint = old.answerability, old.answer_features, old.threshold, old.hint_threshold
    else:
        empty = {k: np.zeros(1, dtype=t) for k, t in (("feature", np.int64), ("threshold", np.float64),
                 ("left", np.int64), ("right", np.int64), ("missing_left", bool), ("value", np.float64))}
        decision = Trees(0.0, np.zeros(1, dtype=np.int64), empty | {"leaf": np.ones(1, dtype=bool)})
        features, threshold, hint = DECISION_FEATURES, 0.0, 0.0
    info = {"ranking": report["validation"], "command": "make train"}
    AnswerModel(FEATURES, trees, features, decision, threshold, hint, info).save(path)


if __name__ == "__main__":
    sys.exit(main())
