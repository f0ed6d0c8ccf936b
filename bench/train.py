"""`make train`: fit the answer model (assistant/answer_model.json) on public data, split by article.

``python -m bench.train [--work DIR] [--out FILE] [--report FILE]``

1. Every question of the gold set, the training questions about the reports (data/train, written
   blind to the frozen everyday set; a third of its facts held out for validation; weighted
   REPORTS_WEIGHT), CMRC 2018 dev and DRCD dev (with near-miss unanswerables, see
   bench/qa_sets.py) goes through the product's retrieval and candidate features (bench/collect.py).
2. The sentence scorer (gradient-boosted trees) is fitted on the train split.  Its scores of the
   train questions for step 3 come from models fitted without their article (4 folds), so the
   answerability model learns from scores like those it will see on new text.
3. Each question's answer is composed by the product's own code from those scores; the
   answerability model (gradient-boosted trees, monotonic in the features whose direction is known)
   learns whether that answer is right.
4. On the validation split: the refusal threshold (best balanced accuracy: answerable questions
   answered right, unanswerable ones refused, averaged over the sets; refusing at most
   MAX_ANSWERABLE_REFUSED of the answerable questions), and the calibration (expected calibration error).
Near misses made by swapping a place, office or year into answerable questions (bench/qa_sets.py
``swapped``) are added to the train and validation splits; the threshold is chosen on questions as
published.
The test split is never read here: ``python -m bench.generalise`` measures it.
Deterministic: fixed data order and seeds, no early stopping.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.collect import Collected, collect
from bench.common import ROOT, bench_env, strip_markers, write_json
from bench.generalise import DEFAULT_WORK, correct, ece, load_set
from bench.qa_sets import REPORT_SETS, entity_pool

bench_env()

SETS = ("gold", "reports_train", "drcd", "cmrc")
# the question sets on the reports are the only training data in their language of plans and figures
REPORTS_WEIGHT = 10.0
FOLDS = 4
HINT_CONFIDENCE = 0.2  # a refused answer at least this likely to be right still shows its passage, with a hint
MAX_ANSWERABLE_REFUSED = 0.05  # the refusal threshold refuses at most this share of the answerable validation questions
TREES = {"max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 15, "l2_regularization": 1.0, "min_samples_leaf": 40}
ANSWER_TREES = {
    "max_iter": 200,
    "learning_rate": 0.05,
    "max_leaf_nodes": 8,
    "l2_regularization": 1.0,
    "min_samples_leaf": 40,
}
# What is known for certain about a feature's direction is a constraint, not a weight: a sentence of
# the wrong type, year or place never gets likelier for it, one that holds more of the question never less.
SCORER_MONOTONIC = {"typed_miss": -1, "entity_conflict": -1, "year_conflict": -1, "answer_type": 1, "cover_sentence": 1,
                    "semantic": 1, "pins_sentence": 1}
ANSWER_MONOTONIC = {
    "p_best": 1,
    "logit_best": 1,
    "list_cover": 1,
    "best_typed_miss": -1,
    "best_entity_conflict": -1,
    "best_year_conflict": -1,
    "unknown_share": -1,
    "unknown_names": -1,
    "best_cover_sentence": 1,
    "best_semantic": 1,
    "best_missing_idf": -1,
}


def _constraints(names: tuple[str, ...], signs: dict[str, int]) -> list[int]:
    return [signs.get(n, 0) for n in names]


def _fold(item_article_key: str) -> int:
    from bench.qa_sets import bucket

    return bucket(f"fold:{item_article_key}") % FOLDS


def _article(c: Collected) -> str:
    return c.item.source.rsplit("-", 1)[0] if c.set_name == "drcd" else c.item.source or c.item.qid


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

    return _boosted(*_stack(rows), TREES, _constraints(FEATURES, SCORER_MONOTONIC))


def _boosted(x: np.ndarray, y: np.ndarray, w: np.ndarray, params: dict[str, Any], monotonic: list[int]):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    clf = HistGradientBoostingClassifier(random_state=0, early_stopping=False, monotonic_cst=monotonic, **params)
    with threadpool_limits(1):  # parallel sums of gradients differ in their last bits from run to run
        return clf.fit(x, y, sample_weight=w)


def export_trees(clf) -> Any:
    """The fitted sklearn trees as assistant.model.Trees (checked against sklearn's own predictions by the caller)."""
    from assistant.model import Trees

    keys = ("feature", "threshold", "left", "right", "leaf", "missing_left", "value")
    parts: dict[str, list] = {k: [] for k in keys}
    roots, offset = [], 0
    for (predictor,) in clf._predictors:
        nodes = predictor.nodes
        roots.append(offset)
        parts["feature"].append(nodes["feature_idx"].astype(np.int64))
        parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
        parts["left"].append(nodes["left"].astype(np.int64) + offset)
        parts["right"].append(nodes["right"].astype(np.int64) + offset)
        parts["leaf"].append(nodes["is_leaf"].astype(bool))
        parts["missing_left"].append(nodes["missing_go_to_left"].astype(bool))
        parts["value"].append(nodes["value"].astype(np.float64))
        offset += len(nodes)
    baseline = float(np.ravel(clf._baseline_prediction)[0])
    return Trees(baseline, np.asarray(roots, dtype=np.int64), {k: np.concatenate(v) for k, v in parts.items()})


def scorer_probabilities(train: list[Collected], others: list[Collected]) -> tuple[Any, dict[int, np.ndarray]]:
    """The final scorer, and each question's candidate probabilities: cross-fitted for ``train``, from the final
    scorer otherwise."""
    from assistant.model import _sigmoid

    probs: dict[int, np.ndarray] = {}
    for fold in range(FOLDS):
        held = [c for c in train if _fold(_article(c)) == fold]
        clf = fit_trees([c for c in train if _fold(_article(c)) != fold])
        for c in held:
            probs[id(c)] = clf.predict_proba(c.table.matrix)[:, 1] if len(c.labels) else np.zeros(0)
        print(f"fold {fold + 1}/{FOLDS} fitted", file=sys.stderr, flush=True)
    clf = fit_trees(train)
    trees = export_trees(clf)
    for c in others:
        if len(c.labels):
            mine, theirs = _sigmoid(trees.raw(c.table.matrix)), clf.predict_proba(c.table.matrix)[:, 1]
            assert np.allclose(mine, theirs, atol=1e-9), "exported trees disagree with sklearn"
            probs[id(c)] = mine
        else:
            probs[id(c)] = np.zeros(0)
    return trees, probs


def answer_rows(
    answerer: Any, rows: list[Collected], probs: dict[int, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The answerability row of each question's composed answer, whether that answer is right, and its text."""
    from assistant.features import answer_row

    x, y, texts = [], [], []
    for c in rows:
        p = probs[id(c)]
        turn = c.state
        draft = answerer.draft(c.table, p, turn.evidence, turn.view.stats, turn.list_items)
        text = strip_markers("\n".join(q.text for q in draft.quotes))
        x.append(answer_row(c.table, p, draft.best, draft.structured, draft.list_cover))
        y.append(float(bool(draft.quotes) and c.item.answerable and correct(c.item, text)))
        texts.append(text)
    return np.vstack(x), np.asarray(y), texts


def at_threshold(
    confidence: np.ndarray, right: np.ndarray, answerable: np.ndarray, t: float
) -> dict[str, float | None]:
    """Answerable questions answered right and refused, unanswerable ones refused, at threshold ``t``."""
    answered = confidence >= t
    share = lambda mask, sel: round(float(mask[sel].mean()), 4) if sel.any() else None  # noqa: E731
    return {
        "answerable_right": share(answered & right.astype(bool), answerable),
        "answerable_refused": share(~answered, answerable),
        "unanswerable_refused": share(~answered, ~answerable),
    }


def balanced(m: dict[str, float | None]) -> float:
    """Mean of answerable questions answered right and unanswerable ones refused (what is measured)."""
    parts = [v for v in (m["answerable_right"], m["unanswerable_refused"]) if v is not None]
    return sum(parts) / len(parts)


def choose_threshold(confidence: np.ndarray, right: np.ndarray, answerable: np.ndarray, groups: np.ndarray) -> float:
    """The refusal threshold for validation questions: the best balanced accuracy averaged over the sets
    (``groups``, so that the hard near misses of one set weigh as much as the easy off-topic ones of another),
    among the thresholds that refuse at most MAX_ANSWERABLE_REFUSED of the answerable questions."""
    names = sorted(set(groups.tolist()))
    scores = []
    for t in np.round(np.arange(0.05, 0.9, 0.01), 2):
        per_set = [at_threshold(confidence[groups == g], right[groups == g], answerable[groups == g], t) for g in names]
        allowed = float((confidence < t)[answerable].mean()) <= MAX_ANSWERABLE_REFUSED
        scores.append((allowed, round(float(np.mean([balanced(m) for m in per_set])), 6), -t))
    return -max(scores)[2]


def reliability(confidence: np.ndarray, right: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    out = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = (confidence >= lo) & ((confidence < hi) | (b == bins - 1))
        if sel.any():
            out.append(
                {
                    "from": lo,
                    "to": hi,
                    "n": int(sel.sum()),
                    "confidence": round(float(confidence[sel].mean()), 4),
                    "accuracy": round(float(right[sel].mean()), 4),
                }
            )
    return out


def train(work: Path) -> tuple[Any, dict[str, Any]]:
    from assistant.extractive import ExtractiveAnswerer
    from assistant.features import ANSWER_FEATURES, FEATURES
    from assistant.model import AnswerModel, _sigmoid

    started = time.perf_counter()
    pool = entity_pool(p.context for name in SETS for p in load_set(name).paragraphs)
    collected = [c for name in SETS for c in collect(name, work, ("train", "val"), pool)]
    train_rows = [c for c in collected if c.item.split == "train"]
    val_rows = [c for c in collected if c.item.split == "val"]
    print(f"collected {len(collected)} questions in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    trees, probs = scorer_probabilities(train_rows, val_rows)
    # The answerer composes drafts with the product's settings; its model is not needed for that.
    answerer = ExtractiveAnswerer(_settings().answering, None)  # type: ignore[arg-type]
    x, y, _ = answer_rows(answerer, train_rows, probs)
    w = np.array([_weight(c) for c in train_rows])
    answerability = export_trees(_boosted(x, y, w, ANSWER_TREES, _constraints(ANSWER_FEATURES, ANSWER_MONOTONIC)))

    vx, vy, _ = answer_rows(answerer, val_rows, probs)
    confidence = _sigmoid(answerability.raw(vx))
    answerable = np.array([c.item.answerable for c in val_rows])
    # Made-up near misses train the model; the threshold is chosen on questions as published.
    groups = np.array(["swap" if c.item.kind == "swap" else c.set_name for c in val_rows])
    published = groups != "swap"
    threshold = choose_threshold(confidence[published], vy[published], answerable[published], groups[published])
    report = {
        "questions": {
            s: {
                split: sum(1 for c in collected if c.set_name == s and c.item.split == split)
                for split in ("train", "val")
            }
            for s in SETS
        },
        "features": list(FEATURES),
        "answer_features": list(ANSWER_FEATURES),
        "trees": TREES,
        "answer_trees": ANSWER_TREES,
        "monotonic": {"scorer": SCORER_MONOTONIC, "answerability": ANSWER_MONOTONIC},
        "reports_weight": REPORTS_WEIGHT,
        "threshold": threshold,
        "hint_threshold": HINT_CONFIDENCE,
        "validation": {
            "at_threshold": at_threshold(confidence[published], vy[published], answerable[published], threshold),
            "ece": ece(confidence[published].tolist(), vy[published].astype(bool).tolist()),
            "reliability": reliability(confidence[published], vy[published]),
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    for s in (*SETS, "swap"):
        sel = groups == s
        if sel.any():
            report["validation"][s] = {
                str(t): at_threshold(confidence[sel], vy[sel], answerable[sel], t)
                for t in sorted({0.0, 0.3, 0.4, 0.5, 0.6, threshold})
            }
    model = AnswerModel(FEATURES, trees, ANSWER_FEATURES, answerability, threshold, HINT_CONFIDENCE,
                        {"trained_on": report["questions"], "validation": report["validation"]["at_threshold"],
                         "ece_validation": report["validation"]["ece"], "command": "make train"})
    return model, report


def _settings():
    from settings import Settings

    return Settings(_env_file=None)  # type: ignore[call-arg]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.train", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--work", type=Path, default=DEFAULT_WORK, help="scratch indexes (kept: a second run re-embeds nothing)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "assistant" / "answer_model.json")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "bench" / "train.json")
    args = parser.parse_args(argv)
    model, report = train(args.work)
    model.save(args.out)
    write_json(args.report, report)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) and {args.report}: threshold {model.threshold}, "
          f"validation {report['validation']['at_threshold']}, ECE {report['validation']['ece']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
