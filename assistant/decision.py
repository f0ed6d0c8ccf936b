"""The one decision: is the composed answer right?  A calibrated probability (the response's ``confidence``)
from one model over what the reader read and what retrieval and the candidate ranking saw.

The row (:data:`DECISION_FEATURES`) holds the reader's scores (its best span against "no answer here", and
whether the span's sentence is the one the ranking put first), the ranking's view of the best sentence,
retrieval's scores, and the question's own features.  The model is fitted by ``make train``
(``training/decision.py``) on questions neither the reader nor the ranking was trained on, and its threshold
chosen there; below it the assistant says the documents do not answer.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from assistant.features import FEATURES, QUESTION_FEATURES, CandidateTable
from assistant.reader import NO_READING, Reading, Window

# What the answer's best sentence looked like to the ranking.
_BEST = ("cover_sentence", "cover_context", "cover_around", "answer_type", "typed_miss", "year_conflict",
         "entity_conflict", "pins_context", "retrieval", "dense", "rank", "common_run", "missing_idf", "missing_terms",
         "new_name", "focus", "asked_noun", "cover_before", "plan_match")
READER_FEATURES = ("reader_margin", "reader_span", "reader_null", "reader_found", "reader_agrees", "reader_p",
                   "reader_chars", "reader_sentences")
DECISION_FEATURES = (
    *READER_FEATURES,
    "p_best", "logit_best", "p_second", "p_margin", "p_mass", "candidates", "top_dense", "structured", "list_cover",
    *(f"best_{name}" for name in _BEST),
    *QUESTION_FEATURES,
)


@dataclass(frozen=True)
class Read:
    """A window and the reader's verdict on it; ``best`` is the candidate holding the reader's span (or None)."""

    window: Window
    reading: Reading

    @property
    def best(self) -> int | None:
        r = self.reading
        return self.window.keys[r.sentence] if r.sentence >= 0 else None


NOT_READ = Read(Window("", "", (), ()), NO_READING)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def decision_row(table: CandidateTable, probabilities: np.ndarray, best: int | None, read: Read,
                 structured: bool = False, list_cover: float = 0.0) -> np.ndarray:
    """The decision model's row for an answer built around candidate ``best`` (None: no candidate).

    ``structured``: the answer is a list found through the document outline; ``list_cover``: how much of the
    question its section and items hold (its items rarely repeat the question's words)."""
    r = read.reading
    ordered = np.sort(probabilities)[::-1]
    top = int(np.argmax(probabilities)) if len(probabilities) else None
    reader = [
        max(r.margin, -30.0), max(r.span_score, -30.0), r.null_score, float(read.best is not None),
        float(read.best is not None and read.best == top),
        float(probabilities[read.best]) if read.best is not None else 0.0,
        float(len(r.text)), float(len(read.window.keys)),
    ]
    p_best = float(probabilities[best]) if best is not None else 0.0
    p_second = float(ordered[1]) if len(ordered) > 1 else 0.0
    dense = table.column("dense")
    head = [p_best, _logit(p_best), p_second, p_best - p_second, float(ordered[:3].sum()), float(len(ordered)),
            float(dense.max()) if len(dense) else 0.0, float(structured), list_cover]
    best_row = [float(table.matrix[best, FEATURES.index(name)]) if best is not None else 0.0 for name in _BEST]
    return np.array(reader + head + best_row + table.question_row.tolist())
