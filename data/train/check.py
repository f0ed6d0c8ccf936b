#!/usr/bin/env python3
"""Validate data/train/reports_everyday.jsonl against the two reports (stdlib only).

Checks:
  * required fields, types and id prefixes; ids unique
  * every expect / evidence string occurs verbatim in the item's source report
  * evidence strings are 10-40 characters long
  * each expect string lies within 200 characters of an occurrence of one of the item's evidence strings
  * near-miss (unanswerable) items have empty expect and evidence and a note
  * no question is a substring of either report
  * no question shares a run of LCS_LIMIT or more characters with a report (copy guard)
  * no duplicate question strings

Usage: python3 data/train/check.py [path/to/file.jsonl]
Exit status 0 when everything passes.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus")
DEFAULT = os.path.join(HERE, "reports_everyday.jsonl")
SOURCES = ["erqi-review-2016-2021.txt", "erqi-plan-2021-2026.txt"]
WINDOW = 200
LCS_LIMIT = 15  # a question may not repeat 15+ consecutive characters of a report
FIELDS = ["id", "type", "task", "question", "answerable", "expect", "evidence", "source"]


def longest_common_run(q: str, text: str) -> int:
    best = 0
    for i in range(len(q)):
        lo = best + 1
        while i + lo <= len(q) and q[i:i + lo] in text:
            best = lo
            lo += 1
    return best


def positions(text: str, s: str) -> list[int]:
    out, i = [], text.find(s)
    while i != -1:
        out.append(i)
        i = text.find(s, i + 1)
    return out


def check_copying(where: str, q: str, texts: dict[str, str]) -> list[str]:
    """The question neither is nor copies a long run of a report."""
    errors = []
    for name, text in texts.items():
        if q in text:
            errors.append(f"{where}: question is a substring of {name}")
        run = longest_common_run(q, text)
        if run >= LCS_LIMIT:
            errors.append(f"{where}: question copies {run} consecutive characters of {name}")
    return errors


def check_everyday(where: str, d: dict[str, Any], texts: dict[str, str]) -> list[str]:
    errors = []
    src = texts[d["source"]]
    if not d["id"].startswith("train-everyday-"):
        errors.append(f"{where}: id prefix should be train-everyday-")
    if d["answerable"] is not True:
        errors.append(f"{where}: everyday items must be answerable")
    if not (1 <= len(d["expect"]) <= 2):
        errors.append(f"{where}: expect must hold 1-2 strings")
    if not d["evidence"]:
        errors.append(f"{where}: evidence empty")
    ev_pos = []
    for ev in d["evidence"]:
        if not (10 <= len(ev) <= 40):
            errors.append(f"{where}: evidence length {len(ev)} not in 10-40: {ev!r}")
        p = positions(src, ev)
        if not p:
            errors.append(f"{where}: evidence not verbatim in source: {ev!r}")
        ev_pos += [(i, i + len(ev)) for i in p]
    for ex in d["expect"]:
        p = positions(src, ex)
        if not p:
            errors.append(f"{where}: expect not verbatim in source: {ex!r}")
            continue
        near = any(s - WINDOW <= i and i + len(ex) <= e + WINDOW for i in p for s, e in ev_pos)
        if ev_pos and not near:
            errors.append(f"{where}: expect {ex!r} not within {WINDOW} chars of its evidence")
    for name in d.get("also_in", []):
        if name not in texts or not all(ev in texts[name] for ev in d["evidence"]):
            errors.append(f"{where}: also_in {name!r} does not hold the evidence")
    return errors


def check_nearmiss(where: str, d: dict[str, Any]) -> list[str]:
    errors = []
    if not d["id"].startswith("train-nearmiss-"):
        errors.append(f"{where}: id prefix should be train-nearmiss-")
    if d["answerable"] is not False:
        errors.append(f"{where}: near-miss items must be unanswerable")
    if d["expect"] or d["evidence"]:
        errors.append(f"{where}: near-miss items need empty expect and evidence")
    if not d.get("note"):
        errors.append(f"{where}: near-miss items need a note")
    return errors


def check_line(
    n: int, line: str, texts: dict[str, str], seen_ids: set[str], seen_q: set[str], counts: dict[tuple[str, str], int]
) -> list[str]:
    """The problems of line ``n``; counts the item by (type, source) once its fields are sound."""
    where = f"line {n}"
    try:
        d = json.loads(line)
    except ValueError as e:
        return [f"{where}: bad JSON ({e})"]
    missing = [k for k in FIELDS if k not in d]
    if missing:
        return [f"{where}: missing fields {missing}"]
    iid, typ, q = d["id"], d["type"], d["question"]
    where = f"{where} ({iid})"
    errors = []
    if iid in seen_ids:
        errors.append(f"{where}: duplicate id")
    seen_ids.add(iid)
    if q in seen_q:
        errors.append(f"{where}: duplicate question")
    seen_q.add(q)
    if d["task"] != "ask":
        errors.append(f"{where}: task must be 'ask'")
    if d["source"] not in texts:
        return [*errors, f"{where}: unknown source {d['source']!r}"]
    if not isinstance(d["expect"], list) or not isinstance(d["evidence"], list):
        return [*errors, f"{where}: expect/evidence must be lists"]
    counts[(typ, d["source"])] = counts.get((typ, d["source"]), 0) + 1
    errors += check_copying(where, q, texts)
    if typ == "everyday":
        errors += check_everyday(where, d, texts)
    elif typ == "nearmiss":
        errors += check_nearmiss(where, d)
    else:
        errors.append(f"{where}: unknown type {typ!r}")
    return errors


def main(path: str) -> int:
    texts = {}
    for f in SOURCES:
        with open(os.path.join(CORPUS, f), encoding="utf-8") as fh:
            texts[f] = fh.read()
    errors: list[str] = []
    seen_ids: set[str] = set()
    seen_q: set[str] = set()
    counts: dict[tuple[str, str], int] = {}
    with open(path, encoding="utf-8") as fh:
        lines = [line for line in fh if line.strip()]
    for n, line in enumerate(lines, 1):
        errors += check_line(n, line, texts, seen_ids, seen_q, counts)
    for e in errors:
        print("FAIL", e)
    for (typ, src), c in sorted(counts.items()):
        print(f"{typ:<9} {src:<28} {c}")
    print(f"{len(lines)} items, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT))
