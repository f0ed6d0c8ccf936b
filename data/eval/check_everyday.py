#!/usr/bin/env python3
"""Validate data/eval/everyday.jsonl (everyday-language and near-miss questions) against the reports.

Usage:
    python3 data/eval/check_everyday.py [path/to/everyday.jsonl] [--corpus DIR]

Standard library only; reuses the helpers of check_gold.py (same folder).  Checks that every
`expect` and `evidence` string occurs verbatim in the named source, that each `expect` lies within
200 characters of one of the item's evidence strings, that no `expect` leaks into the question,
and that near-miss items have answerable=false, empty expect/evidence and a note.
Exits 0 and prints counts when the file is valid; exits 1 and lists every problem otherwise.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_gold import EVIDENCE_LEN, EXPECT_LEN, SOURCE_FILES, WINDOW, find_corpus, near_evidence, strip_q  # noqa: E402

DEFAULT = Path(__file__).resolve().parent / "everyday.jsonl"
ID_PREFIX = {"everyday": "everyday", "nearmiss": "nearmiss"}
MIN_COUNTS = {"everyday": 40, "nearmiss": 20}
REQUIRED = ("id", "type", "task", "question", "answerable", "expect", "evidence", "source")
OPTIONAL = {"also_in", "note"}


def _nearmiss_errors(d: dict) -> list[str]:
    errs = []
    if d["answerable"] is not False:
        errs.append("near-miss items must have answerable=false")
    if d["expect"] or d["evidence"]:
        errs.append("near-miss items must have expect=[] and evidence=[]")
    if d["source"] not in ("", *SOURCE_FILES):
        errs.append(f"source must be '' or one of {SOURCE_FILES}")
    if not isinstance(d.get("note"), str) or not d["note"].strip():
        errs.append("near-miss items need a note (why unanswerable, which sentence it is close to)")
    if d.get("also_in"):
        errs.append("also_in is only for answerable items")
    return errs


def _grounding_errors(d: dict, text: str) -> list[str]:
    """Evidence and expect strings of an everyday item against its source ``text``."""
    q, expect, evidence, src = d["question"], d["expect"], d["evidence"], d["source"]
    errs = []
    for ev in evidence:
        if not EVIDENCE_LEN[0] <= len(ev) <= EVIDENCE_LEN[1]:
            errs.append(f"evidence {ev!r} has {len(ev)} chars (allowed {EVIDENCE_LEN[0]}-{EVIDENCE_LEN[1]})")
        if ev not in text:
            errs.append(f"evidence is not an exact substring of {src}: {ev!r}")
    for x in expect:
        if not EXPECT_LEN[0] <= len(x) <= EXPECT_LEN[1]:
            errs.append(f"expect {x!r} has {len(x)} chars (allowed {EXPECT_LEN[0]}-{EXPECT_LEN[1]})")
        if x not in text:
            errs.append(f"expect {x!r} does not occur in {src}")
        elif not near_evidence(text, x, evidence):
            errs.append(f"expect {x!r} is not in/near (+-{WINDOW} chars) any evidence string in {src}")
        if x in q:
            errs.append(f"expect {x!r} leaks into the question")
    return errs


def _also_in_errors(d: dict, texts: dict[str, str]) -> list[str]:
    expect, evidence, src = d["expect"], d["evidence"], d["source"]
    also_in = d.get("also_in", [])
    if not isinstance(also_in, list) or any(a not in texts or a == src for a in also_in):
        return [f"also_in must list other files from {SOURCE_FILES}"]
    errs = []
    for a in also_in:
        errs += [f"also_in {a}: evidence {ev!r} does not occur there" for ev in evidence if ev not in texts[a]]
        errs += [f"also_in {a}: expect {x!r} not in/near the evidence there"
                 for x in expect if not near_evidence(texts[a], x, evidence)]
    return errs


def _everyday_errors(d: dict, texts: dict[str, str]) -> list[str]:
    errs = []
    if d["answerable"] is not True:
        errs.append("everyday items must have answerable=true")
    if d["source"] not in texts:
        return errs + [f"source {d['source']!r} not one of {SOURCE_FILES}"]
    if not 1 <= len(d["expect"]) <= 2:
        errs.append("everyday items need 1-2 expect strings")
    if not d["evidence"]:
        errs.append("everyday items need >= 1 evidence string")
    return errs + _grounding_errors(d, texts[d["source"]]) + _also_in_errors(d, texts)


def check_item(d: dict, texts: dict[str, str]) -> list[str]:
    errs = []
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        return [f"missing field(s) {missing}"]
    if set(d) - set(REQUIRED) - OPTIONAL:
        errs.append(f"unknown field(s) {sorted(set(d) - set(REQUIRED) - OPTIONAL)}")
    typ = d["type"]
    if typ not in ID_PREFIX:
        return errs + [f"type {typ!r} not in {tuple(ID_PREFIX)}"]
    if not re.fullmatch(ID_PREFIX[typ] + r"-\d{2,3}", str(d["id"])):
        errs.append(f"id should look like '{ID_PREFIX[typ]}-01'")
    if d["task"] != "ask":
        errs.append("task must be 'ask'")
    q, expect, evidence = d["question"], d["expect"], d["evidence"]
    if not isinstance(q, str) or not q.strip():
        return errs + ["question must be a non-empty string"]
    core = strip_q(q)
    if len(core) >= 12 and any(core in t for t in texts.values()):
        errs.append("question copies the source text verbatim")
    if not (isinstance(expect, list) and isinstance(evidence, list)
            and all(isinstance(x, str) for x in expect + evidence)):
        return errs + ["expect and evidence must be lists of strings"]
    return errs + (_nearmiss_errors(d) if typ == "nearmiss" else _everyday_errors(d, texts))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT))
    ap.add_argument("--corpus", help="directory holding the two source .txt files")
    args = ap.parse_args()
    corpus = find_corpus(args.corpus)
    texts = {f: (corpus / f).read_text(encoding="utf-8") for f in SOURCE_FILES}
    path = Path(args.path)
    errors: list[str] = []
    items: list[dict] = []
    seen_ids: set[str] = set()
    seen_q: set[str] = set()
    for ln, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {ln}: blank line")
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {ln}: invalid JSON: {e}")
            continue
        if not isinstance(d, dict):
            errors.append(f"line {ln}: not a JSON object")
            continue
        items.append(d)
        tag = f"line {ln} [{d.get('id')}]"
        errors += [f"{tag}: {e}" for e in check_item(d, texts)]
        if d.get("id") in seen_ids:
            errors.append(f"{tag}: duplicate id")
        if d.get("question") in seen_q:
            errors.append(f"{tag}: duplicate question")
        seen_ids.add(d.get("id"))
        seen_q.add(d.get("question"))
    by_type = collections.Counter(d.get("type") for d in items)
    for t, n in MIN_COUNTS.items():
        if by_type[t] < n:
            errors.append(f"type {t}: {by_type[t]} items, need >= {n}")
    for f in SOURCE_FILES:
        if not any(d.get("type") == "everyday" and d.get("source") == f for d in items):
            errors.append(f"no everyday item sourced from {f}")
    if errors:
        print(f"check_everyday: FAIL ({len(errors)} problem(s)) in {path}", file=sys.stderr)
        for e in errors:
            print("  -", e, file=sys.stderr)
        return 1
    src = collections.Counter((d["type"], d["source"]) for d in items)
    print(f"check_everyday: OK  {path}  ({len(items)} items, corpus: {corpus})")
    for t in MIN_COUNTS:
        print(f"  {t:<9} {by_type[t]:>3}  (min {MIN_COUNTS[t]}; "
              + ", ".join(f"{f} {src[(t, f)]}" for f in SOURCE_FILES) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
