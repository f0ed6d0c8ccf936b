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
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "corpus")
DEFAULT = os.path.join(HERE, "reports_everyday.jsonl")
SOURCES = ["erqi-review-2016-2021.txt", "erqi-plan-2021-2026.txt"]
WINDOW = 200
LCS_LIMIT = 15  # a question may not repeat 15+ consecutive characters of a report
FIELDS = ["id", "type", "task", "question", "answerable", "expect", "evidence", "source"]


def longest_common_run(q, text):
    best = 0
    for i in range(len(q)):
        lo = best + 1
        while i + lo <= len(q) and q[i:i + lo] in text:
            best = lo
            lo += 1
    return best


def positions(text, s):
    out, i = [], text.find(s)
    while i != -1:
        out.append(i)
        i = text.find(s, i + 1)
    return out


def main(path):
    texts = {f: open(os.path.join(CORPUS, f), encoding="utf-8").read() for f in SOURCES}
    errors, seen_ids, seen_q = [], set(), set()
    counts = {}
    with open(path, encoding="utf-8") as fh:
        lines = [l for l in fh if l.strip()]
    for n, line in enumerate(lines, 1):
        where = "line %d" % n
        try:
            d = json.loads(line)
        except ValueError as e:
            errors.append("%s: bad JSON (%s)" % (where, e))
            continue
        missing = [k for k in FIELDS if k not in d]
        if missing:
            errors.append("%s: missing fields %s" % (where, missing))
            continue
        iid, typ, q = d["id"], d["type"], d["question"]
        where = "%s (%s)" % (where, iid)
        if iid in seen_ids:
            errors.append("%s: duplicate id" % where)
        seen_ids.add(iid)
        if q in seen_q:
            errors.append("%s: duplicate question" % where)
        seen_q.add(q)
        if d["task"] != "ask":
            errors.append("%s: task must be 'ask'" % where)
        if d["source"] not in texts:
            errors.append("%s: unknown source %r" % (where, d["source"]))
            continue
        if not isinstance(d["expect"], list) or not isinstance(d["evidence"], list):
            errors.append("%s: expect/evidence must be lists" % where)
            continue
        counts[(typ, d["source"])] = counts.get((typ, d["source"]), 0) + 1
        for name, text in texts.items():
            if q in text:
                errors.append("%s: question is a substring of %s" % (where, name))
            run = longest_common_run(q, text)
            if run >= LCS_LIMIT:
                errors.append("%s: question copies %d consecutive characters of %s" % (where, run, name))
        src = texts[d["source"]]
        if typ == "everyday":
            if not iid.startswith("train-everyday-"):
                errors.append("%s: id prefix should be train-everyday-" % where)
            if d["answerable"] is not True:
                errors.append("%s: everyday items must be answerable" % where)
            if not (1 <= len(d["expect"]) <= 2):
                errors.append("%s: expect must hold 1-2 strings" % where)
            if not d["evidence"]:
                errors.append("%s: evidence empty" % where)
            ev_pos = []
            for ev in d["evidence"]:
                if not (10 <= len(ev) <= 40):
                    errors.append("%s: evidence length %d not in 10-40: %r" % (where, len(ev), ev))
                p = positions(src, ev)
                if not p:
                    errors.append("%s: evidence not verbatim in source: %r" % (where, ev))
                ev_pos += [(i, i + len(ev)) for i in p]
            for ex in d["expect"]:
                p = positions(src, ex)
                if not p:
                    errors.append("%s: expect not verbatim in source: %r" % (where, ex))
                    continue
                near = any(s - WINDOW <= i and i + len(ex) <= e + WINDOW for i in p for s, e in ev_pos)
                if ev_pos and not near:
                    errors.append("%s: expect %r not within %d chars of its evidence" % (where, ex, WINDOW))
            for name in d.get("also_in", []):
                if name not in texts or not all(ev in texts[name] for ev in d["evidence"]):
                    errors.append("%s: also_in %r does not hold the evidence" % (where, name))
        elif typ == "nearmiss":
            if not iid.startswith("train-nearmiss-"):
                errors.append("%s: id prefix should be train-nearmiss-" % where)
            if d["answerable"] is not False:
                errors.append("%s: near-miss items must be unanswerable" % where)
            if d["expect"] or d["evidence"]:
                errors.append("%s: near-miss items need empty expect and evidence" % where)
            if not d.get("note"):
                errors.append("%s: near-miss items need a note" % where)
        else:
            errors.append("%s: unknown type %r" % (where, typ))
    for e in errors:
        print("FAIL", e)
    for (typ, src), c in sorted(counts.items()):
        print("%-9s %-28s %d" % (typ, src, c))
    print("%d items, %d errors" % (len(lines), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT))
