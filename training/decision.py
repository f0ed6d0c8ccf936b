"""Fit the one decision (``assistant/decision.py``): the probability that the composed answer is right, and the
threshold below which the assistant refuses.

``python -m training.decision [--work var/qa] [--model assistant/answer_model.json]``

The reader was fine-tuned on the train split, so its scores there are in-sample; the decision is fitted on
the validation split (articles neither the reader nor the ranking was fitted on), by the product's own steps:
retrieval, ranking, the reader's window, the draft.  Besides the sets' own validation questions (CMRC 2018,
DRCD with held-out-paragraph near misses, the reports' training questions), it sees their near misses made
by swapping a place, office or year (``training.sets.swapped``) and attribute near misses: another question
of the same paragraph asked of a question's evidence (the sentences stay, the attribute asked changes).

Gradient-boosted trees, monotonic in the reader's margin; the confidences that choose the threshold and
measure calibration are cross-fitted (five folds by article), the model written is fitted on all of them.
The test split is never read here (``python -m training.generalise`` measures it).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT, strip_markers, write_json
from training.generalise import DEFAULT_WORK, correct, ece, index_settings, load_set
from training.sets import ATTRIBUTE, REPORT_SETS, Item, Split, bucket, entity_pool, swapped
from training.trees import boosted, export_trees

SETS = ("cmrc", "drcd", "reports_train", "cmrc_attr", "drcd_attr")
FOLDS = 5
REPORTS_WEIGHT = 5.0  # the reports' own questions are few, and the only ones in their language of plans and figures
HINT_CONFIDENCE = 0.2  # a refused answer at least this likely to be right still shows its passage, with a hint
# (none when the threshold is lower: a passage that is less than 0.2 likely to answer is not worth showing)
MAX_ANSWERABLE_REFUSED = 0.05  # the threshold refuses at most this share of the answerable validation questions
DECISION_TREES = {"max_iter": 150, "learning_rate": 0.05, "max_leaf_nodes": 8, "l2_regularization": 1.0,
                  "min_samples_leaf": 30}
MONOTONIC = {"reader_margin": 1, "reader_span": 1, "reader_null": -1, "best_typed_miss": -1,
             "best_entity_conflict": -1, "best_year_conflict": -1, "list_cover": 1}


@dataclass
class Row:
    """One validation question as the decision sees it."""

    item: Item
    group: str  # the set, or "swap" / "attribute" for made-up near misses
    fold: int
    x: np.ndarray
    right: bool
    answer: str


def _fold(key: str) -> int:
    return bucket(f"decision-fold:{key}") % FOLDS


def _article(set_name: str, item: Item) -> str:
    return item.source.rsplit("-", 1)[0] if set_name == "drcd" else item.source or item.qid


class Collector:
    def __init__(self, set_name: str, work: Path, ranking: Any) -> None:
        """``ranking``: the answer model file whose sentence scorer ranks the candidates (its decision part may be
        an older one's)."""
        from assistant.service import Assistant

        self.name = set_name
        self.qa = load_set(set_name)
        self.assistant = Assistant(index_settings(self.qa, work))
        self.assistant.answerer.model = ranking
        self.assistant.warm_up()

    def row(self, item: Item, group: str) -> Row:
        from assistant.decision import decision_row

        answerer = self.assistant.answerer
        turn, evidence = self.assistant.evidence_for(item.question, list(item.history) or None)
        table = answerer.table(turn.analysed, evidence.chunks, turn.view)
        p = answerer.model.sentence_probabilities(table.matrix)
        read = answerer.read(turn.question, turn.previous, table, p)
        draft = answerer.draft(table, p, evidence.chunks, turn.view.stats, evidence.list_items, read)
        text = strip_markers("\n".join(q.text for q in draft.quotes))
        right = bool(draft.quotes) and item.answerable and correct(item, text)
        x = decision_row(table, p, draft.best, read, draft.structured, draft.list_cover)
        return Row(item, group, _fold(f"{self.name}:{_article(self.name, item)}"), x, right, text)

    def rows(self, split: Split, pool: dict[str, list[str]]) -> list[Row]:
        items = [i for i in self.qa.items if i.split == split]
        group = "attribute" if self.name.endswith(ATTRIBUTE) else self.name
        out = [self.row(i, group) for i in items]
        if group == self.name:
            out += [self.row(i, "swap") for i in swapped(self.qa, pool, (split,))]
        return out


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


def fit(rows: list[Row]) -> tuple[Any, np.ndarray]:
    """The final trees (fitted on every row) and the cross-fitted confidence of each row."""
    from assistant.decision import DECISION_FEATURES

    x = np.vstack([r.x for r in rows])
    y = np.array([r.right for r in rows], dtype=float)
    folds = np.array([r.fold for r in rows])
    w = np.array([REPORTS_WEIGHT if r.group in REPORT_SETS else 1.0 for r in rows])
    monotonic = [MONOTONIC.get(n, 0) for n in DECISION_FEATURES]
    crossed = np.zeros(len(rows))
    for f in range(FOLDS):
        clf = boosted(x[folds != f], y[folds != f], w[folds != f], DECISION_TREES, monotonic)
        crossed[folds == f] = clf.predict_proba(x[folds == f])[:, 1]
    return export_trees(boosted(x, y, w, DECISION_TREES, monotonic)), crossed


def train(work: Path, model_path: Path) -> tuple[Any, dict[str, Any]]:
    from assistant.decision import DECISION_FEATURES
    from assistant.model import AnswerModel, load_model

    started = time.perf_counter()
    scorer = load_model(model_path)  # the sentence ranking fitted by training.ranking: kept as it is
    pool = entity_pool(p.context for name in SETS for p in load_set(name).paragraphs)
    rows: list[Row] = []
    for name in SETS:
        collector = Collector(name, work, scorer)
        rows += collector.rows("val", pool)
        print(f"{name}: {len(rows)} rows, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    trees, confidence = fit(rows)
    right = np.array([r.right for r in rows])
    answerable = np.array([r.item.answerable for r in rows])
    groups = np.array([r.group for r in rows])
    # the threshold is chosen on the questions as published and the attribute near misses (a target of their own);
    # the swapped names and years only teach the model
    published = groups != "swap"
    threshold = choose_threshold(confidence[published], right[published], answerable[published], groups[published])
    report: dict[str, Any] = {
        "rows": {g: int((groups == g).sum()) for g in sorted(set(groups.tolist()))},
        "features": list(DECISION_FEATURES), "trees": DECISION_TREES, "monotonic": MONOTONIC,
        "threshold": threshold, "hint_threshold": min(HINT_CONFIDENCE, threshold),
        "cross_fitted": {
            "at_threshold": at_threshold(confidence[published], right[published], answerable[published], threshold),
            "ece": ece(confidence.tolist(), right.tolist()),
            "reliability": reliability(confidence, right.astype(float)),
            "by_group": {g: at_threshold(confidence[groups == g], right[groups == g], answerable[groups == g],
                                         threshold) | {"ece": ece(confidence[groups == g].tolist(),
                                                                  right[groups == g].tolist())}
                         for g in sorted(set(groups.tolist()))},
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    hint = min(HINT_CONFIDENCE, threshold)
    model = AnswerModel(scorer.features, scorer.scorer, DECISION_FEATURES, trees, threshold, hint,
                        scorer.info | {"decision": report["cross_fitted"]["at_threshold"],
                                       "decision_ece": report["cross_fitted"]["ece"], "command": "make train"})
    return model, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.decision", description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--model", type=Path, default=ROOT / "assistant" / "answer_model.json")
    parser.add_argument("--report", type=Path, default=ROOT / "docs" / "bench" / "decision.json")
    args = parser.parse_args(argv)
    model, report = train(args.work, args.model)
    model.save(args.model)
    write_json(args.report, report)
    print(json.dumps(report["cross_fitted"]["at_threshold"]), "threshold", model.threshold, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
