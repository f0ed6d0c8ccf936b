#!/usr/bin/env python3
"""Validate data/eval/gold.jsonl against the bundled source documents.

Usage:
    python3 data/eval/check_gold.py [path/to/gold.jsonl] [--corpus DIR] [-q]

Source files are read from <repo>/data/corpus/ if that directory exists,
else from /work/shared/corpus/ (override with --corpus).  Standard library only.
Exits 0 and prints counts per type when the file is valid; exits 1 and lists
every problem otherwise.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_GOLD = HERE / "gold.jsonl"
CORPUS_CANDIDATES = [REPO / "data" / "corpus", Path("/work/shared/corpus")]
SOURCE_FILES = ("erqi-review-2016-2021.txt", "erqi-plan-2021-2026.txt")

TYPES = ("fact", "list", "colloquial", "plan", "unanswerable", "multiturn", "claim")
ID_PREFIX = {"fact": "fact", "list": "list", "colloquial": "colloq", "plan": "plan",
             "unanswerable": "none", "multiturn": "multi", "claim": "claim"}
MIN_COUNTS = {"fact": 24, "list": 6, "colloquial": 10, "plan": 8,
              "unanswerable": 14, "multiturn": 14, "claim": 24}
VERDICTS = ("supported", "contradicted", "not_found")
FALSE_BY = ("number", "percentage", "date", "ordinal", "name")
NUMERIC_FALSE_BY = ("number", "percentage", "date", "ordinal")
MIN_CLAIMS = {"supported": 8, "contradicted_numeric": 8, "contradicted_name": 3, "not_found": 5}

REQUIRED = ("id", "type", "task", "question", "answerable", "expect", "evidence", "source")
OPTIONAL = {"history", "also_in", "note", "related", "verdict", "differs", "false_by"}
EXPECT_LEN = (2, 15)
EVIDENCE_LEN = (10, 40)
# An expect string must occur within this many characters of an occurrence of
# one of the item's evidence strings (the evidence's "surrounding source text").
WINDOW = 200
# Follow-up questions must be elliptical / anaphoric.
FOLLOWUP_MARKERS = ("那", "它", "这个", "这是", "又", "还有", "其中", "呢", "那么", "现在", "该", "其")


def find_corpus(override: str | None) -> Path:
    cands = [Path(override)] if override else CORPUS_CANDIDATES
    for d in cands:
        if all((d / f).is_file() for f in SOURCE_FILES):
            return d
    raise SystemExit("check_gold: cannot find source files in " + ", ".join(map(str, cands)))


def occurrences(text: str, sub: str):
    i = text.find(sub)
    while i != -1:
        yield i
        i = text.find(sub, i + 1)


def near_evidence(text: str, key: str, evidence: list[str]) -> bool:
    key_pos = list(occurrences(text, key))
    for ev in evidence:
        if key in ev:
            return True
        for s in occurrences(text, ev):
            lo, hi = s - WINDOW, s + len(ev) + WINDOW
            if any(lo <= k and k + len(key) <= hi for k in key_pos):
                return True
    return False


def strip_q(q: str) -> str:
    return q.strip().rstrip("??。!!啊呀呢吧").strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold", nargs="?", default=str(DEFAULT_GOLD))
    ap.add_argument("--corpus", help="directory holding the two source .txt files")
    ap.add_argument("-q", "--quiet", action="store_true", help="only print errors and the summary line")
    args = ap.parse_args()

    corpus = find_corpus(args.corpus)
    texts = {f: (corpus / f).read_text(encoding="utf-8") for f in SOURCE_FILES}
    gold = Path(args.gold)
    if not gold.is_file():
        print(f"check_gold: FAIL: {gold} does not exist", file=sys.stderr)
        return 1

    errors: list[str] = []
    warnings: list[str] = []
    items: list[dict] = []
    seen_ids: dict[str, int] = {}
    seen_q: dict[tuple, str] = {}

    raw = gold.read_bytes()
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        print(f"check_gold: FAIL: {gold} is not UTF-8: {e}", file=sys.stderr)
        return 1
    if content.startswith("\ufeff"):
        errors.append("file starts with a BOM")
        content = content[1:]

    for ln, line in enumerate(content.split("\n"), 1):
        if not line.strip():
            if ln != content.count("\n") + 1:
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
        if "\\u" in line and re.search(r"\\u[4-9a-f][0-9a-f]{3}", line):
            warnings.append(f"line {ln}: CJK written as \\u escapes (use ensure_ascii=False)")
        items.append(d)
        iid = d.get("id", f"<line {ln}>")
        tag = f"line {ln} [{iid}]"
        E = lambda msg: errors.append(f"{tag}: {msg}")  # noqa: E731

        # --- fields -----------------------------------------------------------
        missing = [k for k in REQUIRED if k not in d]
        if missing:
            E(f"missing field(s) {missing}")
            continue
        unknown = set(d) - set(REQUIRED) - OPTIONAL
        if unknown:
            E(f"unknown field(s) {sorted(unknown)}")

        if not isinstance(iid, str) or not re.fullmatch(r"[a-z]+-\d{2,3}", iid):
            E("id must look like 'fact-01'")
        elif iid in seen_ids:
            E(f"duplicate id (first on line {seen_ids[iid]})")
        else:
            seen_ids[iid] = ln

        typ = d["type"]
        if typ not in TYPES:
            E(f"type {typ!r} not in {TYPES}")
            continue
        if isinstance(iid, str) and not iid.startswith(ID_PREFIX[typ] + "-"):
            E(f"id should start with {ID_PREFIX[typ]!r}- for type {typ}")
        want_task = "check" if typ == "claim" else "ask"
        if d["task"] != want_task:
            E(f"task must be {want_task!r} for type {typ}")

        q = d["question"]
        if not isinstance(q, str) or not q.strip():
            E("question must be a non-empty string")
            continue
        hist_key = json.dumps(d.get("history"), ensure_ascii=False, sort_keys=True)
        if (q, hist_key) in seen_q:
            E(f"duplicate question (same as {seen_q[(q, hist_key)]})")
        seen_q[(q, hist_key)] = iid

        ans = d["answerable"]
        if not isinstance(ans, bool):
            E("answerable must be true/false")
            continue
        expect, evidence = d["expect"], d["evidence"]
        if not (isinstance(expect, list) and all(isinstance(x, str) for x in expect)):
            E("expect must be a list of strings")
            continue
        if not (isinstance(evidence, list) and all(isinstance(x, str) for x in evidence)):
            E("evidence must be a list of strings")
            continue
        if len(set(expect)) != len(expect):
            E("duplicate strings in expect")

        src = d["source"]
        also_in = d.get("also_in", [])
        if src is not None and src not in texts:
            E(f"source {src!r} not one of {SOURCE_FILES}")
            src = None
        if not isinstance(also_in, list) or any(a not in texts for a in also_in):
            E(f"also_in must be a list of file names from {SOURCE_FILES}")
            also_in = []
        if src is not None and src in also_in:
            E("also_in repeats the source file")

        # --- history ------------------------------------------------------------
        if typ == "multiturn":
            h = d.get("history")
            ok = isinstance(h, list) and len(h) >= 2 and len(h) % 2 == 0
            if ok:
                for i, turn in enumerate(h):
                    role = "user" if i % 2 == 0 else "assistant"
                    if not (isinstance(turn, dict) and set(turn) == {"role", "content"}
                            and turn["role"] == role and isinstance(turn["content"], str)
                            and turn["content"].strip()):
                        ok = False
            if not ok:
                E("history must be a non-empty list of alternating "
                  "{'role':'user'|'assistant','content':...} turns, starting with user, ending with assistant")
            if not any(m in q for m in FOLLOWUP_MARKERS):
                E(f"multiturn question should be elliptical/anaphoric (one of {FOLLOWUP_MARKERS})")
        elif "history" in d:
            E("history is only allowed for multiturn items")

        # --- claim-specific -----------------------------------------------------
        verdict = d.get("verdict")
        if typ == "claim":
            if verdict not in VERDICTS:
                E(f"verdict must be one of {VERDICTS}")
            elif ans != (verdict != "not_found"):
                E("answerable must be true for supported/contradicted, false for not_found")
            if verdict == "contradicted":
                diff = d.get("differs")
                if not isinstance(diff, str) or not diff:
                    E("contradicted claim needs 'differs' (the correct value from the source)")
                elif src and diff not in texts[src]:
                    E(f"differs {diff!r} not found in {src}")
                elif diff in q:
                    E(f"differs {diff!r} already appears in the claim")
                if d.get("false_by") not in FALSE_BY:
                    E(f"contradicted claim needs false_by in {FALSE_BY}")
            else:
                for k in ("differs", "false_by"):
                    if k in d:
                        E(f"{k} only allowed on contradicted claims")
        else:
            for k in ("verdict", "differs", "false_by"):
                if k in d:
                    E(f"{k} only allowed on claim items")
            if typ == "unanswerable" and ans:
                E("unanswerable items must have answerable=false")
            if typ not in ("unanswerable", "multiturn") and not ans:
                E(f"{typ} items must be answerable (use type unanswerable, or a multiturn follow-up)")

        # --- answerable / unanswerable content ----------------------------------
        if ans:
            if not expect:
                E("answerable item needs >=1 expect string")
            if not evidence:
                E("answerable item needs >=1 evidence string")
            if src is None:
                E("answerable item needs a source file")
        else:
            if expect or evidence:
                E("unanswerable / not_found items must have expect=[] and evidence=[]")

        for x in expect:
            if not EXPECT_LEN[0] <= len(x) <= EXPECT_LEN[1]:
                E(f"expect {x!r} has {len(x)} chars (allowed {EXPECT_LEN[0]}-{EXPECT_LEN[1]})")
        for field in ("evidence", "related"):
            for ev in d.get(field, []) or []:
                if not isinstance(ev, str):
                    E(f"{field} entries must be strings")
                    continue
                if not EVIDENCE_LEN[0] <= len(ev) <= EVIDENCE_LEN[1]:
                    E(f"{field} {ev!r} has {len(ev)} chars (allowed {EVIDENCE_LEN[0]}-{EVIDENCE_LEN[1]})")
                if src is None:
                    E(f"{field} given but no source file named")
                elif ev not in texts[src]:
                    E(f"{field} is not an exact substring of {src}: {ev!r}")
        if "related" in d and (ans or not isinstance(d["related"], list)):
            E("related (list) is only for unanswerable / not_found items")

        if src is not None and ans:
            text = texts[src]
            for x in expect:
                if x not in text:
                    E(f"expect {x!r} does not occur in {src}")
                elif not near_evidence(text, x, evidence):
                    E(f"expect {x!r} is not in/near (+-{WINDOW} chars) any evidence string in {src}")
                if typ == "claim":
                    continue
                if x in q or any(x in t["content"] for t in d.get("history", [])[::2] if isinstance(t, dict)):
                    E(f"expect {x!r} leaks into the question")
            for a in also_in:
                if not any(x in texts[a] for x in expect):
                    E(f"also_in {a}: none of the expect strings occurs there")

        # --- question must not be a verbatim copy of the source --------------------
        if typ != "claim":
            core = strip_q(q)
            if len(core) >= 12 and any(core in t for t in texts.values()):
                E("question copies the source text verbatim")

    # --- global checks ----------------------------------------------------------
    by_type = collections.Counter(d.get("type") for d in items)
    for t, n in MIN_COUNTS.items():
        if by_type[t] < n:
            errors.append(f"type {t}: {by_type[t]} items, need >= {n}")

    claims = [d for d in items if d.get("type") == "claim"]
    cc = collections.Counter()
    for d in claims:
        v = d.get("verdict")
        if v == "contradicted":
            cc["contradicted_name" if d.get("false_by") == "name" else "contradicted_numeric"] += 1
        else:
            cc[v] += 1
    for k, n in MIN_CLAIMS.items():
        if cc[k] < n:
            errors.append(f"claims {k}: {cc[k]}, need >= {n}")

    def has(pred, msg):
        if not any(pred(d) for d in items):
            errors.append(f"missing required item: {msg}")

    has(lambda d: d.get("type") == "unanswerable" and "区长" in d.get("question", ""), "unanswerable 「二七区的区长是谁?」")
    has(lambda d: d.get("type") == "unanswerable" and "2030" in d.get("question", ""), "unanswerable 「2030年的目标是什么?」")
    has(lambda d: d.get("type") == "claim" and d.get("verdict") == "supported"
        and "五年内引进60个以上重大产业项目" in d.get("question", ""), "supported claim 「五年内引进60个以上重大产业项目」")
    has(lambda d: d.get("type") == "claim" and d.get("verdict") == "contradicted"
        and "全社会研发经费投入强度达到3%以上" in d.get("question", "")
        and "2.5%" in (d.get("differs") or ""), "contradicted claim 「全社会研发经费投入强度达到3%以上」 (2.5%)")
    has(lambda d: d.get("type") == "multiturn" and d.get("answerable") is False, "an unanswerable multiturn follow-up")
    for f in SOURCE_FILES:
        has(lambda d, f=f: d.get("source") == f and d.get("answerable") is True, f"an answerable item sourced from {f}")

    # --- report -----------------------------------------------------------------
    if not args.quiet:
        for w in warnings:
            print("warning:", w)
    if errors:
        print(f"check_gold: FAIL ({len(errors)} problem(s)) in {gold}", file=sys.stderr)
        for e in errors:
            print("  -", e, file=sys.stderr)
        return 1

    print(f"check_gold: OK  {gold}  ({len(items)} items, corpus: {corpus})")
    if not args.quiet:
        ans_by_type = collections.Counter(d["type"] for d in items if d["answerable"])
        for t in TYPES:
            print(f"  {t:<13} {by_type[t]:>3}  (answerable {ans_by_type[t]}, min {MIN_COUNTS[t]})")
        print(f"  claims: supported {cc['supported']}, contradicted by number/date/ordinal/percentage "
              f"{cc['contradicted_numeric']}, contradicted by name {cc['contradicted_name']}, "
              f"not_found {cc['not_found']}")
        src_count = collections.Counter(d["source"] for d in items if d["source"])
        print("  sources: " + ", ".join(f"{f} {src_count[f]}" for f in SOURCE_FILES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
