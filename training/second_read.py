"""Would a second, focused read help?  The question is read again against the sentence holding the reader's
span alone, and that margin (alone, the minimum or the mean with the window's own) is scored as a tell of
"answers" against "no answer" on the validation windows.

``python -m training.second_read`` (shipped int8 reader, ~5 min on 2 cores).  Measured and rejected
(docs/benchmarks.md section 11): without its neighbours the reader believes more spans, right and wrong alike.
"""
from __future__ import annotations

import json
import re
import sys

import numpy as np

from assistant.reader import Reader, Window
from training.reader import CONTRASTS, WINDOWS, auc
from training.reader_data import Example, read_examples

_END = re.compile(r"[。！？!?\n]")


def sentence_spans(context: str) -> tuple[tuple[int, int], ...]:
    spans, start = [], 0
    for m in _END.finditer(context):
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(context)))
    return tuple((a, b) for a, b in spans if context[a:b].strip())


def margins(reader: Reader, rows: list[Example], batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(the window's margin, the focused read's margin) per row; no span found reads as a margin of -20."""
    whole, focused = [], []
    for i in range(0, len(rows), batch):
        wins = [Window(e.question, e.context, tuple(range(len(sp))), sp)
                for e in rows[i:i + batch] for sp in [sentence_spans(e.context)]]
        reads = reader.read(wins)
        alone = []
        for w, r in zip(wins, reads, strict=True):
            a, b = w.spans[r.sentence] if r.sentence >= 0 else (0, 0)
            alone.append(Window(w.question, w.context[a:b], (0,), ((0, b - a),)) if b > a else Window("", "", (), ()))
        whole += [r.margin for r in reads]
        focused += [r.margin if r.sentence >= 0 else -20.0 for r in reader.read(alone)]
    return np.array(whole), np.array(focused)


def main(argv: list[str] | None = None) -> int:
    from vectorstore.embedding.local_model import ensure

    rows = [e for e in read_examples(WINDOWS) + read_examples(CONTRASTS) if e.split == "val"]
    whole, focused = margins(Reader(ensure()), rows)
    y, sets = np.array([e.answerable for e in rows]), np.array([e.set for e in rows])
    out = {}
    for name in ["all", *sorted(set(sets))]:
        m = np.ones(len(y), bool) if name == "all" else sets == name
        out[name] = {way: auc(score[m], y[m]) for way, score in
                     (("window", whole), ("focused", focused), ("min", np.minimum(whole, focused)),
                      ("mean", (whole + focused) / 2))}
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
