"""The answer model: load it, score candidate sentences, and turn an answer's evidence into a confidence.

Two fitted parts, read from one JSON file (``assistant/answer_model.json``, written by
``make train``, see ``bench/train.py``):

* the sentence scorer: gradient-boosted trees over :data:`assistant.features.FEATURES`; the
  probability that a candidate sentence holds the answer;
* the answerability model: gradient-boosted trees over :data:`assistant.features.ANSWER_FEATURES`;
  the probability that the answer composed from the best sentences is right.  That is the ``confidence`` of a
  response; below ``threshold`` (chosen on validation data) the assistant says the documents do
  not answer, and from ``hint_threshold`` up it still shows the closest passage with a hint.

Inference is plain NumPy, so a model file never depends on the library version that fitted it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant import texts

MODEL_PATH = Path(__file__).with_name("answer_model.json")
FORMAT = 1


class ModelError(RuntimeError):
    """The model file is missing, unreadable, or was fitted on other features."""


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted binary trees: raw score = baseline + the leaf value each tree sends a row to.

    All trees' nodes are stored in flat arrays: ``feature``/``threshold`` of the split nodes (a
    row goes left when its value is <= threshold, or when it is NaN and ``missing_left``),
    ``left``/``right`` child indices into the same arrays, ``leaf`` flags and leaf ``value``s;
    ``roots`` holds each tree's first node.  Rows walk all trees at once, one level per step."""

    baseline: float
    roots: np.ndarray
    nodes: dict[str, np.ndarray]

    def raw(self, x: np.ndarray) -> np.ndarray:
        t = self.nodes
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        rows = np.arange(len(x))[:, None]
        while True:
            inner = ~t["leaf"][node]
            if not inner.any():
                break
            value = x[rows, t["feature"][node]]
            go_left = np.where(np.isnan(value), t["missing_left"][node], value <= t["threshold"][node])
            node = np.where(inner, np.where(go_left, t["left"][node], t["right"][node]), node)
        return self.baseline + t["value"][node].sum(axis=1)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "trees",
            "baseline": self.baseline,
            "roots": self.roots.tolist(),
            "nodes": {k: v.tolist() for k, v in self.nodes.items()},
        }


_TREE_TYPES = {"feature": np.int64, "threshold": np.float64, "left": np.int64, "right": np.int64,
               "leaf": bool, "missing_left": bool, "value": np.float64}


def _part(spec: dict[str, Any]) -> Trees:
    nodes = {k: np.asarray(spec["nodes"][k], dtype=dtype) for k, dtype in _TREE_TYPES.items()}
    return Trees(float(spec["baseline"]), np.asarray(spec["roots"], dtype=np.int64), nodes)


@dataclass(frozen=True)
class AnswerModel:
    features: tuple[str, ...]
    scorer: Trees
    answer_features: tuple[str, ...]
    answerability: Trees
    threshold: float  # confidence below this: the documents do not answer
    hint_threshold: float  # …but from this up, the closest passage is shown with a hint
    info: dict[str, Any]

    def sentence_probabilities(self, matrix: np.ndarray) -> np.ndarray:
        if not len(matrix):
            return np.zeros(0)
        return sigmoid(self.scorer.raw(matrix))

    def confidence(self, row: np.ndarray) -> float:
        return float(sigmoid(self.answerability.raw(row[None, :]))[0])

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "features": list(self.features), "scorer": self.scorer.to_json(),
                "answer_features": list(self.answer_features), "answerability": self.answerability.to_json(),
                "threshold": self.threshold, "hint_threshold": self.hint_threshold, "info": self.info}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnswerModel:
        return cls(
            tuple(data["features"]),
            _part(data["scorer"]),
            tuple(data["answer_features"]),
            _part(data["answerability"]),
            float(data["threshold"]),
            float(data["hint_threshold"]),
            data.get("info", {}),
        )


@lru_cache(maxsize=4)
def load_model(
    path: Path = MODEL_PATH, features: tuple[str, ...] = (), answer_features: tuple[str, ...] = ()
) -> AnswerModel:
    """The model at ``path``; ``features``/``answer_features``: the rows this code computes, which the file must
    match."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(texts.ERR_MODEL_UNREADABLE.format(path=path, reason=exc)) from exc
    if data.get("format") != FORMAT:
        raise ModelError(texts.ERR_MODEL_FORMAT.format(path=path, found=data.get("format"), expected=FORMAT))
    model = AnswerModel.from_json(data)
    if (features and model.features != features) or (answer_features and model.answer_features != answer_features):
        raise ModelError(texts.ERR_MODEL_FEATURES.format(path=path))
    return model
