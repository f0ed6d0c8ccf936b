"""Per question of the gold and everyday sets: the answer, its confidence and hashes of what the model saw.

``python scripts/dump_answers.py --index-dir DIR > dump.jsonl``: one line per question with the answer text,
``confidence``, ``no_answer``, the retrieved chunk ids and scores, and a SHA-256 of every candidate feature
matrix, sentence-probability vector and answerability row computed while answering. Two runs of the same
code on the same index print the same lines; a refactoring that moves nothing does too.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from assistant.service import Assistant
from settings import Settings

SETS = (Path("data/eval/gold.jsonl"), Path("data/eval/everyday.jsonl"))


def _digest(array: np.ndarray) -> str:
    a = np.ascontiguousarray(np.asarray(array, dtype=np.float64))
    return hashlib.sha256(repr(a.shape).encode() + a.tobytes()).hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/dump_answers.py")
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--cold", action="store_true", help="no warm-up: the first question builds the BM25 index")
    args = parser.parse_args(argv)
    assistant = Assistant(Settings(index_dir=args.index_dir))
    if not args.cold:
        # as `python -m assistant eval` and the web app: the index is read before the first question
        assistant.warm_up()
    seen: list[str] = []
    answerer = assistant.answerer
    table, model = answerer.table, answerer.model

    def traced_table(*a, **k):  # type: ignore[no-untyped-def]
        t = table(*a, **k)
        seen.append("m:" + _digest(t.matrix) + ":q:" + _digest(t.question_row))
        return t

    probs, conf = model.sentence_probabilities, model.confidence

    def traced_probs(matrix):  # type: ignore[no-untyped-def]
        p = probs(matrix)
        seen.append("p:" + _digest(p))
        return p

    def traced_conf(row):  # type: ignore[no-untyped-def]
        seen.append("a:" + _digest(row))
        return conf(row)

    answerer.table = traced_table  # type: ignore[method-assign]
    object.__setattr__(model, "sentence_probabilities", traced_probs)  # a frozen dataclass
    object.__setattr__(model, "confidence", traced_conf)
    for path in SETS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            seen.clear()
            if item.get("task", "ask") == "check":
                r = assistant.check(item["question"], id=item["id"])
            else:
                r = assistant.ask(item["question"], item.get("history"), id=item["id"])
            out = {
                "id": item["id"], "answer": r.answer, "confidence": r.confidence, "no_answer": r.no_answer,
                "tentative": r.tentative, "verdict": r.verdict, "conflict": r.conflict,
                "citations": [(c.doc_id, c.start, c.end) for c in r.citations],
                "retrieved": [(x.chunk_id, x.score, x.dense_score, x.bm25_score) for x in r.retrieved],
                "traced": list(seen),
            }
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
