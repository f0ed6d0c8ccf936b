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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


QUESTION_ENDINGS = "??。!!啊呀呢吧"  # any of these characters ends a question (not a suffix)


def strip_q(q: str) -> str:
    return q.strip().rstrip(QUESTION_ENDINGS).strip()


@dataclass
class Seen:
    """What the items before this one used: ids (→ line) and (question, history) pairs (→ id)."""

    ids: dict[str, int] = field(default_factory=dict)
    questions: dict[tuple, str] = field(default_factory=dict)


def _header(d: dict, ln: int, iid: Any, seen: Seen, texts: dict[str, str], error: Callable[[str], None]) -> bool:
    """Fields, id, type, task, question, answerable, expect and evidence; False when the rest cannot be checked."""
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        error(f"missing field(s) {missing}")
        return False
    unknown = set(d) - set(REQUIRED) - OPTIONAL
    if unknown:
        error(f"unknown field(s) {sorted(unknown)}")
    if not isinstance(iid, str) or not re.fullmatch(r"[a-z]+-\d{2,3}", iid):
        error("id must look like 'fact-01'")
    elif iid in seen.ids:
        error(f"duplicate id (first on line {seen.ids[iid]})")
    else:
        seen.ids[iid] = ln
    typ = d["type"]
    if typ not in TYPES:
        error(f"type {typ!r} not in {TYPES}")
        return False
    if isinstance(iid, str) and not iid.startswith(ID_PREFIX[typ] + "-"):
        error(f"id should start with {ID_PREFIX[typ]!r}- for type {typ}")
    want_task = "check" if typ == "claim" else "ask"
    if d["task"] != want_task:
        error(f"task must be {want_task!r} for type {typ}")
    q = d["question"]
    if not isinstance(q, str) or not q.strip():
        error("question must be a non-empty string")
        return False
    hist_key = json.dumps(d.get("history"), ensure_ascii=False, sort_keys=True)
    if (q, hist_key) in seen.questions:
        error(f"duplicate question (same as {seen.questions[(q, hist_key)]})")
    seen.questions[(q, hist_key)] = iid
    if not isinstance(d["answerable"], bool):
        error("answerable must be true/false")
        return False
    expect, evidence = d["expect"], d["evidence"]
    if not (isinstance(expect, list) and all(isinstance(x, str) for x in expect)):
        error("expect must be a list of strings")
        return False
    if not (isinstance(evidence, list) and all(isinstance(x, str) for x in evidence)):
        error("evidence must be a list of strings")
        return False
    if len(set(expect)) != len(expect):
        error("duplicate strings in expect")
    return True


def _sources(d: dict, texts: dict[str, str], error: Callable[[str], None]) -> tuple[str | None, list[str]]:
    """The item's source file (None when it names none or an unknown one) and its also_in files."""
    src = d["source"]
    also_in = d.get("also_in", [])
    if src is not None and src not in texts:
        error(f"source {src!r} not one of {SOURCE_FILES}")
        src = None
    if not isinstance(also_in, list) or any(a not in texts for a in also_in):
        error(f"also_in must be a list of file names from {SOURCE_FILES}")
        also_in = []
    if src is not None and src in also_in:
        error("also_in repeats the source file")
    return src, also_in


def _history(d: dict, error: Callable[[str], None]) -> None:
    q = d["question"]
    if d["type"] == "multiturn":
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
            error("history must be a non-empty list of alternating "
                  "{'role':'user'|'assistant','content':...} turns, starting with user, ending with assistant")
        if not any(m in q for m in FOLLOWUP_MARKERS):
            error(f"multiturn question should be elliptical/anaphoric (one of {FOLLOWUP_MARKERS})")
    elif "history" in d:
        error("history is only allowed for multiturn items")


def _claim(d: dict, src: str | None, texts: dict[str, str], error: Callable[[str], None]) -> None:
    typ, q, ans, verdict = d["type"], d["question"], d["answerable"], d.get("verdict")
    if typ != "claim":
        for k in ("verdict", "differs", "false_by"):
            if k in d:
                error(f"{k} only allowed on claim items")
        if typ == "unanswerable" and ans:
            error("unanswerable items must have answerable=false")
        if typ not in ("unanswerable", "multiturn") and not ans:
            error(f"{typ} items must be answerable (use type unanswerable, or a multiturn follow-up)")
        return
    if verdict not in VERDICTS:
        error(f"verdict must be one of {VERDICTS}")
    elif ans != (verdict != "not_found"):
        error("answerable must be true for supported/contradicted, false for not_found")
    if verdict == "contradicted":
        diff = d.get("differs")
        if not isinstance(diff, str) or not diff:
            error("contradicted claim needs 'differs' (the correct value from the source)")
        elif src and diff not in texts[src]:
            error(f"differs {diff!r} not found in {src}")
        elif diff in q:
            error(f"differs {diff!r} already appears in the claim")
        if d.get("false_by") not in FALSE_BY:
            error(f"contradicted claim needs false_by in {FALSE_BY}")
    else:
        for k in ("differs", "false_by"):
            if k in d:
                error(f"{k} only allowed on contradicted claims")


def _content(d: dict, src: str | None, texts: dict[str, str], error: Callable[[str], None]) -> None:
    """Expect, evidence and related strings: lengths, and exact substrings of the source."""
    ans, expect, evidence = d["answerable"], d["expect"], d["evidence"]
    if ans:
        if not expect:
            error("answerable item needs >=1 expect string")
        if not evidence:
            error("answerable item needs >=1 evidence string")
        if src is None:
            error("answerable item needs a source file")
    elif expect or evidence:
        error("unanswerable / not_found items must have expect=[] and evidence=[]")
    for x in expect:
        if not EXPECT_LEN[0] <= len(x) <= EXPECT_LEN[1]:
            error(f"expect {x!r} has {len(x)} chars (allowed {EXPECT_LEN[0]}-{EXPECT_LEN[1]})")
    for name in ("evidence", "related"):
        for ev in d.get(name, []) or []:
            if not isinstance(ev, str):
                error(f"{name} entries must be strings")
                continue
            if not EVIDENCE_LEN[0] <= len(ev) <= EVIDENCE_LEN[1]:
                error(f"{name} {ev!r} has {len(ev)} chars (allowed {EVIDENCE_LEN[0]}-{EVIDENCE_LEN[1]})")
            if src is None:
                error(f"{name} given but no source file named")
            elif ev not in texts[src]:
                error(f"{name} is not an exact substring of {src}: {ev!r}")
    if "related" in d and (ans or not isinstance(d["related"], list)):
        error("related (list) is only for unanswerable / not_found items")


def _grounding(
    d: dict, src: str | None, also_in: list[str], texts: dict[str, str], error: Callable[[str], None]
) -> None:
    """Each expect string near an evidence string of the source, and not given away by the question."""
    typ, q, expect, evidence = d["type"], d["question"], d["expect"], d["evidence"]
    if src is not None and d["answerable"]:
        text = texts[src]
        for x in expect:
            if x not in text:
                error(f"expect {x!r} does not occur in {src}")
            elif not near_evidence(text, x, evidence):
                error(f"expect {x!r} is not in/near (+-{WINDOW} chars) any evidence string in {src}")
            if typ == "claim":
                continue
            if x in q or any(x in t["content"] for t in d.get("history", [])[::2] if isinstance(t, dict)):
                error(f"expect {x!r} leaks into the question")
        for a in also_in:
            if not any(x in texts[a] for x in expect):
                error(f"also_in {a}: none of the expect strings occurs there")
    if typ != "claim":
        core = strip_q(q)
        if len(core) >= 12 and any(core in t for t in texts.values()):
            error("question copies the source text verbatim")


def check_item(d: dict, ln: int, seen: Seen, texts: dict[str, str]) -> list[str]:
    """The problems of one item (line ``ln``)."""
    errors: list[str] = []
    iid = d.get("id", f"<line {ln}>")
    tag = f"line {ln} [{iid}]"

    def error(msg: str) -> None:
        errors.append(f"{tag}: {msg}")

    if not _header(d, ln, iid, seen, texts, error):
        return errors
    src, also_in = _sources(d, texts, error)
    _history(d, error)
    _claim(d, src, texts, error)
    _content(d, src, texts, error)
    _grounding(d, src, also_in, texts, error)
    return errors


def read_items(content: str, seen: Seen, texts: dict[str, str]) -> tuple[list[dict], list[str], list[str]]:
    """(items, errors, warnings) of the file's lines."""
    errors: list[str] = []
    warnings: list[str] = []
    items: list[dict] = []
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
        errors += check_item(d, ln, seen, texts)
    return items, errors, warnings


def claim_counts(items: list[dict]) -> collections.Counter:
    cc: collections.Counter = collections.Counter()
    for d in items:
        if d.get("type") != "claim":
            continue
        v = d.get("verdict")
        if v == "contradicted":
            cc["contradicted_name" if d.get("false_by") == "name" else "contradicted_numeric"] += 1
        else:
            cc[v] += 1
    return cc


def global_errors(items: list[dict], by_type: collections.Counter, cc: collections.Counter) -> list[str]:
    """Counts per type and verdict, and the items the gold set must hold."""
    errors = [f"type {t}: {by_type[t]} items, need >= {n}" for t, n in MIN_COUNTS.items() if by_type[t] < n]
    errors += [f"claims {k}: {cc[k]}, need >= {n}" for k, n in MIN_CLAIMS.items() if cc[k] < n]
    required: list[tuple[Callable[[dict], bool], str]] = [
        (
            lambda d: d.get("type") == "unanswerable" and "区长" in d.get("question", ""),
            "unanswerable 「二七区的区长是谁?」",
        ),
        (
            lambda d: d.get("type") == "unanswerable" and "2030" in d.get("question", ""),
            "unanswerable 「2030年的目标是什么?」",
        ),
        (
            lambda d: (
                d.get("type") == "claim"
                and d.get("verdict") == "supported"
                and "五年内引进60个以上重大产业项目" in d.get("question", "")
            ),
            "supported claim 「五年内引进60个以上重大产业项目」",
        ),
        (
            lambda d: (
                d.get("type") == "claim"
                and d.get("verdict") == "contradicted"
                and "全社会研发经费投入强度达到3%以上" in d.get("question", "")
                and "2.5%" in (d.get("differs") or "")
            ),
            "contradicted claim 「全社会研发经费投入强度达到3%以上」 (2.5%)",
        ),
        (
            lambda d: d.get("type") == "multiturn" and d.get("answerable") is False,
            "an unanswerable multiturn follow-up",
        ),
    ]
    required += [(lambda d, f=f: d.get("source") == f and d.get("answerable") is True,
                  f"an answerable item sourced from {f}") for f in SOURCE_FILES]
    errors += [f"missing required item: {msg}" for pred, msg in required if not any(pred(d) for d in items)]
    return errors


def report(items: list[dict], by_type: collections.Counter, cc: collections.Counter, gold: Path, corpus: Path) -> None:
    print(f"check_gold: OK  {gold}  ({len(items)} items, corpus: {corpus})")
    ans_by_type = collections.Counter(d["type"] for d in items if d["answerable"])
    for t in TYPES:
        print(f"  {t:<13} {by_type[t]:>3}  (answerable {ans_by_type[t]}, min {MIN_COUNTS[t]})")
    print(f"  claims: supported {cc['supported']}, contradicted by number/date/ordinal/percentage "
          f"{cc['contradicted_numeric']}, contradicted by name {cc['contradicted_name']}, "
          f"not_found {cc['not_found']}")
    src_count = collections.Counter(d["source"] for d in items if d["source"])
    print("  sources: " + ", ".join(f"{f} {src_count[f]}" for f in SOURCE_FILES))


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
    try:
        content = gold.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        print(f"check_gold: FAIL: {gold} is not UTF-8: {e}", file=sys.stderr)
        return 1
    errors: list[str] = []
    if content.startswith("\ufeff"):
        errors.append("file starts with a BOM")
        content = content[1:]
    items, item_errors, warnings = read_items(content, Seen(), texts)
    errors += item_errors
    by_type = collections.Counter(d.get("type") for d in items)
    cc = claim_counts(items)
    errors += global_errors(items, by_type, cc)

    if not args.quiet:
        for w in warnings:
            print("warning:", w)
    if errors:
        print(f"check_gold: FAIL ({len(errors)} problem(s)) in {gold}", file=sys.stderr)
        for e in errors:
            print("  -", e, file=sys.stderr)
        return 1
    if args.quiet:
        print(f"check_gold: OK  {gold}  ({len(items)} items, corpus: {corpus})")
    else:
        report(items, by_type, cc, gold, corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
