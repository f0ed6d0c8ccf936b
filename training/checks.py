"""The data checks: every question set under data/ against the two reports it was written from.

``python -m training.checks [SET[=FILE] ...]`` checks the named sets (default: all four: ``gold``,
``everyday``, ``reports_check``, ``reports_train``), prints a summary per set and every problem, and exits 1
when there is any problem.  ``SET=FILE`` checks another file by that set's rules.

What every set is held to (``SetRules.check``): one JSON object per line (UTF-8, no BOM, no blank line, CJK
not written as ``\\u`` escapes); the required fields and no unknown ones; ids unique and shaped by type;
questions non-empty and not repeated (with the same history); every ``expect``, ``evidence`` and ``short``
string verbatim in the item's ``source`` report (and in its ``also_in`` report), evidence 10-40 characters,
each ``expect`` within 200 characters of an occurrence of one of the item's evidence strings; unanswerable
items with empty ``expect`` and ``evidence``; an answerable item from each report.  What differs from set
to set is a field of its ``SetRules`` (counts, lengths, notes, copy guards) or its own item or set check.
Paths are relative to the repository this module is in; standard library only.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "data" / "corpus"
SOURCES = ("erqi-review-2016-2021.txt", "erqi-plan-2021-2026.txt")

REQUIRED = ("id", "type", "task", "question", "answerable", "expect", "evidence", "source")
EVIDENCE_LEN = (10, 40)
EXPECT_LEN = (2, 15)  # gold and everyday only: the training set and reports_check quote whole list runs
# An expect string must occur within this many characters of an occurrence of one of the item's
# evidence strings (the evidence's "surrounding source text").
WINDOW = 200
QUESTION_ENDINGS = "??。!!啊呀呢吧"  # any of these characters ends a question (not a suffix)
# Follow-up questions of the gold set must be elliptical / anaphoric.
FOLLOWUP_MARKERS = ("那", "它", "这个", "这是", "又", "还有", "其中", "呢", "那么", "现在", "该", "其")
_CJK_ESCAPE = re.compile(r"\\u[4-9a-f][0-9a-f]{3}")

Item = dict[str, Any]
Error = Callable[[str], None]


# --- text helpers ---------------------------------------------------------------------------------------------

def load_texts(corpus: Path = CORPUS) -> dict[str, str]:
    """The two reports by file name."""
    return {name: (corpus / name).read_text(encoding="utf-8") for name in SOURCES}


def occurrences(text: str, sub: str) -> Iterator[int]:
    """Every start position of ``sub`` in ``text`` (overlapping ones too)."""
    i = text.find(sub)
    while i != -1:
        yield i
        i = text.find(sub, i + 1)


def near_evidence(text: str, key: str, evidence: list[str]) -> bool:
    """Whether ``key`` is one of the evidence strings' own text or lies within WINDOW characters of one."""
    key_pos = list(occurrences(text, key))
    for ev in evidence:
        if key in ev:
            return True
        for s in occurrences(text, ev):
            lo, hi = s - WINDOW, s + len(ev) + WINDOW
            if any(lo <= k and k + len(key) <= hi for k in key_pos):
                return True
    return False


@cache
def longest_common_run(question: str, text: str) -> int:
    """The length of the longest run of consecutive characters of ``question`` that occurs in ``text``."""
    best = 0
    for i in range(len(question)):
        n = best + 1
        while i + n <= len(question) and question[i:i + n] in text:
            best = n
            n += 1
    return best


def strip_q(question: str) -> str:
    """The question without its trailing question marks and particles."""
    return question.strip().rstrip(QUESTION_ENDINGS).strip()


def _strings(value: object) -> list[str]:
    return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []


# --- one set's rules ------------------------------------------------------------------------------------------

@dataclass
class Report:
    """The outcome of checking one file: its items (those that parse) and every problem found."""

    name: str
    path: Path
    items: list[Item] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        items = [d for d in self.items if isinstance(d.get("type"), str)]
        by_type = collections.Counter(d["type"] for d in items)
        answerable = collections.Counter(d["type"] for d in items if d.get("answerable") is True)
        sources = collections.Counter(d.get("source") for d in items if d.get("source") in SOURCES)
        head = "OK" if self.ok else f"FAIL ({len(self.problems)} problem(s))"
        try:
            where = self.path.relative_to(REPO)
        except ValueError:
            where = self.path
        lines = [f"{self.name}: {head}  {where}  ({len(self.items)} items)"]
        lines.append("  types: " + ", ".join(f"{t} {n} ({answerable[t]} answerable)" for t, n in by_type.items()))
        lines.append("  sources: " + ", ".join(f"{s} {sources[s]}" for s in SOURCES))
        return "\n".join(lines + [f"  - {p}" for p in self.problems])


@dataclass(frozen=True)
class SetRules:
    """What one question set is checked for; ``check`` applies the shared rules with these settings."""

    name: str
    path: str  # relative to the repository
    prefixes: dict[str, str]  # type -> id prefix; the id is prefix + "-" + number
    id_number: str  # the number's pattern
    answerable: dict[str, bool | None]  # type -> answerable (None: either; the set's item check decides)
    optional: frozenset[str]  # fields besides REQUIRED
    tasks: dict[str, str] = field(default_factory=dict)  # type -> task, "ask" when not given
    expect_count: tuple[int, int | None] = (1, 2)  # answerable items
    evidence_count: tuple[int, int | None] = (1, None)
    expect_len: tuple[int, int] | None = None
    unanswerable_source: tuple[object, ...] = ()  # what an unanswerable's source may be besides a report
    note_required: bool = True  # every unanswerable item has a note
    also_in_all: bool = True  # also_in report holds every string (else: one expect string)
    also_in_when_shared: bool = False  # also_in is given whenever the other report holds every string
    no_leak: bool = True  # no expect string in the question or an earlier user turn
    copy_min: int | None = 12  # a question (its core) this long or longer is not a substring of a report
    max_run: int | None = None  # at most this many consecutive characters shared with a report
    history: dict[str, int | None] = field(default_factory=dict)  # type -> turns (None: any even number >= 2)
    statements: frozenset[str] = frozenset()  # types whose question is a claim: no leak and copy rules
    item_check: Callable[[Item, str | None, dict[str, str], Error], None] | None = None
    set_check: Callable[[list[Item]], list[str]] | None = None
    counts: dict[str, int] = field(default_factory=dict)  # type -> at least (or exactly) this many
    exact_counts: bool = False

    @property
    def file(self) -> Path:
        return REPO / self.path

    def check(self, path: Path | str | None = None, texts: dict[str, str] | None = None) -> Report:
        """Check the file at ``path`` (default: the committed set) against the reports ``texts``."""
        report = Report(self.name, Path(path) if path is not None else self.file)
        texts = texts if texts is not None else load_texts()
        seen_ids: dict[str, int] = {}
        seen_questions: dict[tuple[str, str], str] = {}
        lines = _lines(report.path, report.problems)
        if lines is None:
            return report
        for ln, d in _parse(lines, report.problems):
            report.items.append(d)
            tag = f"line {ln} [{d.get('id', '<no id>')}]"

            def error(msg: str, tag: str = tag) -> None:
                report.problems.append(f"{tag}: {msg}")

            self._item(d, ln, seen_ids, seen_questions, texts, error)
        report.problems += self._whole(report.items)
        return report

    def _item(self, d: Item, ln: int, seen_ids: dict[str, int], seen_questions: dict[tuple[str, str], str],
              texts: dict[str, str], error: Error) -> None:
        missing = [k for k in REQUIRED if k not in d]
        if missing:
            error(f"missing field(s) {missing}")
            return
        unknown = set(d) - set(REQUIRED) - self.optional
        if unknown:
            error(f"unknown field(s) {sorted(unknown)}")
        if not self._header(d, ln, seen_ids, seen_questions, error):
            return
        src = self._source(d, texts, error)
        also_in = self._also_in(d, src, texts, error)
        self._history(d, error)
        self._answerability(d, error)
        self._lengths(d, error)
        self._grounding(d, src, also_in, texts, error)
        self._copying(d, texts, error)
        if self.item_check is not None:
            self.item_check(d, src, texts, error)

    def _header(self, d: Item, ln: int, seen_ids: dict[str, int], seen_questions: dict[tuple[str, str], str],
                error: Error) -> bool:
        """Id, type, task, question, answerable, expect and evidence; False when the rest cannot be checked."""
        iid, typ, q = d["id"], d["type"], d["question"]
        if not isinstance(iid, str):
            error("id must be a string")
        elif iid in seen_ids:
            error(f"duplicate id (first on line {seen_ids[iid]})")
        else:
            seen_ids[iid] = ln
        if not isinstance(typ, str) or typ not in self.prefixes:
            error(f"type {typ!r} not in {tuple(self.prefixes)}")
            return False
        if not re.fullmatch(re.escape(self.prefixes[typ]) + "-" + self.id_number, str(iid)):
            error(f"id should be {self.prefixes[typ]}-<number matching {self.id_number}> for type {typ}")
        want_task = self.tasks.get(typ, "ask")
        if d["task"] != want_task:
            error(f"task must be {want_task!r} for type {typ}")
        if not isinstance(q, str) or not q.strip():
            error("question must be a non-empty string")
            return False
        key = (q, json.dumps(d.get("history"), ensure_ascii=False, sort_keys=True))
        if key in seen_questions:
            error(f"duplicate question (same as {seen_questions[key]})")
        seen_questions[key] = str(iid)
        if not isinstance(d["answerable"], bool):
            error("answerable must be true/false")
            return False
        for name in ("expect", "evidence"):
            if not (isinstance(d[name], list) and all(isinstance(x, str) for x in d[name])):
                error(f"{name} must be a list of strings")
                return False
        if len(set(d["expect"])) != len(d["expect"]):
            error("duplicate strings in expect")
        return True

    def _source(self, d: Item, texts: dict[str, str], error: Error) -> str | None:
        """The item's source report, or None (an unanswerable item may name none when the set allows it)."""
        src = d["source"]
        if isinstance(src, str) and src in texts:
            return src
        if d["answerable"] or src not in self.unanswerable_source:
            allowed = ", ".join(map(repr, (*SOURCES, *self.unanswerable_source)))
            error(f"source {src!r} is not one of {allowed}" + ("" if d["answerable"] else " (unanswerable)"))
        return None

    def _also_in(self, d: Item, src: str | None, texts: dict[str, str], error: Error) -> list[str]:
        if "also_in" not in d:
            return []
        also_in = d["also_in"]
        if not d["answerable"]:
            error("also_in is only for answerable items")
            return []
        if not isinstance(also_in, list) or any(not isinstance(a, str) or a not in texts or a == src for a in also_in):
            error(f"also_in must list report(s) from {SOURCES} other than the source")
            return []
        return also_in

    def _history(self, d: Item, error: Error) -> None:
        typ = d["type"]
        if typ not in self.history:
            if "history" in d and self.history:
                error(f"history is only allowed for {'/'.join(self.history)} items")
            return
        turns, h = self.history[typ], d.get("history")
        ok = isinstance(h, list) and len(h) >= 2 and len(h) % 2 == 0 and turns in (None, len(h))
        for i, turn in enumerate(h if ok and isinstance(h, list) else []):
            role = "user" if i % 2 == 0 else "assistant"
            if not (isinstance(turn, dict) and set(turn) == {"role", "content"} and turn["role"] == role
                    and isinstance(turn["content"], str) and turn["content"].strip()):
                ok = False
        if not ok:
            size = f"{turns} turns" if turns else "an even number of turns"
            error(f"history must be {size} of {{'role': 'user'|'assistant', 'content': ...}}, alternating, "
                  "starting with user and ending with assistant")

    def _answerability(self, d: Item, error: Error) -> None:
        typ, ans, expect, evidence = d["type"], d["answerable"], d["expect"], d["evidence"]
        want = self.answerable.get(typ)
        if want is not None and ans is not want:
            error(f"{typ} items must have answerable={str(want).lower()}")
        if not ans:
            if expect or evidence:
                error("unanswerable items must have expect=[] and evidence=[]")
            if self.note_required and not (isinstance(d.get("note"), str) and d["note"].strip()):
                error("unanswerable items need a note (why the reports cannot answer, the closest sentence)")
            return
        for name, (lo, hi) in (("expect", self.expect_count), ("evidence", self.evidence_count)):
            if not lo <= len(d[name]) <= (hi if hi is not None else len(d[name])):
                error(f"answerable items need {lo}{f'-{hi}' if hi else ' or more'} {name} string(s), "
                      f"not {len(d[name])}")

    def _lengths(self, d: Item, error: Error) -> None:
        """Evidence and expect lengths; no expect string given away by the question or an earlier user turn."""
        for ev in d["evidence"]:
            if not EVIDENCE_LEN[0] <= len(ev) <= EVIDENCE_LEN[1]:
                error(f"evidence {ev!r} has {len(ev)} chars (allowed {EVIDENCE_LEN[0]}-{EVIDENCE_LEN[1]})")
        asked = [d["question"], *_user_turns(d)]
        for x in d["expect"]:
            if self.expect_len and not self.expect_len[0] <= len(x) <= self.expect_len[1]:
                error(f"expect {x!r} has {len(x)} chars (allowed {self.expect_len[0]}-{self.expect_len[1]})")
            if self.no_leak and d["type"] not in self.statements and any(x in q for q in asked):
                error(f"expect {x!r} leaks into the question")

    def _grounding(self, d: Item, src: str | None, also_in: list[str], texts: dict[str, str], error: Error) -> None:
        """Expect, evidence and short strings verbatim in the source report (and the also_in one), each expect
        near an evidence string there."""
        if src is None:
            return
        expect, evidence, short = d["expect"], d["evidence"], _strings([d["short"]] if "short" in d else [])
        for where in (src, *also_in):
            if where == src or self.also_in_all:
                _verbatim(d, texts[where], where, short, error)
            elif not any(x in texts[where] for x in expect):
                error(f"also_in {where}: none of the expect strings occurs there")
        if self.also_in_when_shared and d["answerable"] and not also_in:
            for other in texts:
                if other != src and all(s in texts[other] for s in expect + evidence + short):
                    error(f"every expect/evidence/short string also occurs in {other}: also_in must name it")

    def _copying(self, d: Item, texts: dict[str, str], error: Error) -> None:
        """The question paraphrases: not a report's text, no long run of it."""
        if d["type"] in self.statements:
            return
        q = d["question"]
        core = strip_q(q)
        for name, text in texts.items():
            if self.copy_min is not None and len(core) >= self.copy_min and core in text:
                error(f"question copies the text of {name} verbatim")
            run = longest_common_run(q, text) if self.max_run is not None else 0
            if self.max_run is not None and run > self.max_run:
                error(f"question shares {run} consecutive characters with {name} (at most {self.max_run})")

    def _whole(self, items: list[Item]) -> list[str]:
        """Counts per type, an answerable item from each report, and the set's own whole-set rules."""
        by_type = collections.Counter(d["type"] for d in items if isinstance(d.get("type"), str))
        errors = []
        for typ, n in self.counts.items():
            if by_type[typ] < n or (self.exact_counts and by_type[typ] != n):
                errors.append(f"type {typ}: {by_type[typ]} items, need {'exactly' if self.exact_counts else '>='} {n}")
        for src in SOURCES:
            if not any(d.get("source") == src and d.get("answerable") is True for d in items):
                errors.append(f"no answerable item sourced from {src}")
        return errors + (self.set_check(items) if self.set_check else [])


def _user_turns(d: Item) -> list[str]:
    """What the user said before the question (the history's user turns)."""
    h = d.get("history")
    turns = h[::2] if isinstance(h, list) else []
    return [t["content"] for t in turns if isinstance(t, dict) and isinstance(t.get("content"), str)]


def _verbatim(d: Item, text: str, where: str, short: list[str], error: Error) -> None:
    """Every evidence, short and expect string of ``d`` in ``text``; each expect near an evidence string."""
    for kind, strings in (("evidence", d["evidence"]), ("short", short), ("expect", d["expect"])):
        for s in strings:
            if s not in text:
                error(f"{kind} {s!r} does not occur verbatim in {where}")
            elif kind == "expect" and not near_evidence(text, s, d["evidence"]):
                error(f"expect {s!r} is not in/near (+-{WINDOW} chars) any evidence string in {where}")


def _lines(path: Path, problems: list[str]) -> list[str] | None:
    """The file's lines (None, and why in ``problems``, when it cannot be read as UTF-8 text)."""
    if not path.is_file():
        problems.append(f"{path} does not exist")
        return None
    try:
        content = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        problems.append(f"{path} is not UTF-8: {e}")
        return None
    if content.startswith("\ufeff"):
        problems.append("file starts with a BOM")
        content = content[1:]
    return content.split("\n")


def _parse(lines: list[str], problems: list[str]) -> Iterator[tuple[int, Item]]:
    """(line number, object) of every line that parses; what is wrong with the others goes to ``problems``."""
    for ln, line in enumerate(lines, 1):
        if not line.strip():
            if ln != len(lines):
                problems.append(f"line {ln}: blank line")
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {ln}: invalid JSON: {e}")
            continue
        if not isinstance(d, dict):
            problems.append(f"line {ln}: not a JSON object")
            continue
        if _CJK_ESCAPE.search(line):
            problems.append(f"line {ln} [{d.get('id', '<no id>')}]: CJK written as \\u escapes "
                            "(use ensure_ascii=False)")
        yield ln, d


# --- the gold set ---------------------------------------------------------------------------------------------

VERDICTS = ("supported", "contradicted", "not_found")
FALSE_BY = ("number", "percentage", "date", "ordinal", "name")
MIN_CLAIMS = {"supported": 8, "contradicted_numeric": 8, "contradicted_name": 3, "not_found": 5}


def _gold_item(d: Item, src: str | None, texts: dict[str, str], error: Error) -> None:
    """Follow-ups elliptical; claims with a consistent verdict; related strings of unanswerables."""
    typ, q, ans = d["type"], d["question"], d["answerable"]
    if typ == "multiturn" and not any(m in q for m in FOLLOWUP_MARKERS):
        error(f"multiturn question should be elliptical/anaphoric (one of {FOLLOWUP_MARKERS})")
    if typ == "claim":
        _gold_claim(d, src, texts, error)
    else:
        for k in ("verdict", "differs", "false_by"):
            if k in d:
                error(f"{k} only allowed on claim items")
    if "related" in d:
        related = d["related"]
        if ans or not isinstance(related, list):
            error("related (list) is only for unanswerable / not_found items")
            related = related if isinstance(related, list) else []
        for ev in related:
            if not isinstance(ev, str):
                error("related entries must be strings")
            elif not EVIDENCE_LEN[0] <= len(ev) <= EVIDENCE_LEN[1]:
                error(f"related {ev!r} has {len(ev)} chars (allowed {EVIDENCE_LEN[0]}-{EVIDENCE_LEN[1]})")
            elif src is None:
                error("related given but no source file named")
            elif ev not in texts[src]:
                error(f"related is not an exact substring of {src}: {ev!r}")


def _gold_claim(d: Item, src: str | None, texts: dict[str, str], error: Error) -> None:
    verdict = d.get("verdict")
    if verdict not in VERDICTS:
        error(f"verdict must be one of {VERDICTS}")
    elif d["answerable"] != (verdict != "not_found"):
        error("answerable must be true for supported/contradicted, false for not_found")
    if verdict != "contradicted":
        for k in ("differs", "false_by"):
            if k in d:
                error(f"{k} only allowed on contradicted claims")
        return
    diff = d.get("differs")
    if not isinstance(diff, str) or not diff:
        error("contradicted claim needs 'differs' (the correct value from the source)")
    elif src and diff not in texts[src]:
        error(f"differs {diff!r} not found in {src}")
    elif diff in d["question"]:
        error(f"differs {diff!r} already appears in the claim")
    if d.get("false_by") not in FALSE_BY:
        error(f"contradicted claim needs false_by in {FALSE_BY}")


def _has(typ: str, text: str, **fields: object) -> Callable[[Item], bool]:
    return lambda d: (d.get("type") == typ and isinstance(d.get("question"), str) and text in d["question"]
                      and all(d.get(k) == v for k, v in fields.items()))


GOLD_REQUIRED: list[tuple[Callable[[Item], bool], str]] = [
    (_has("unanswerable", "区长"), "unanswerable 「二七区的区长是谁?」"),
    (_has("unanswerable", "2030"), "unanswerable 「2030年的目标是什么?」"),
    (_has("claim", "五年内引进60个以上重大产业项目", verdict="supported"),
     "supported claim 「五年内引进60个以上重大产业项目」"),
    (lambda d: _has("claim", "全社会研发经费投入强度达到3%以上", verdict="contradicted")(d)
     and "2.5%" in str(d.get("differs")), "contradicted claim 「全社会研发经费投入强度达到3%以上」 (2.5%)"),
    (_has("multiturn", "", answerable=False), "an unanswerable multiturn follow-up"),
]


def _gold_set(items: list[Item]) -> list[str]:
    """Claims per verdict (contradicted by a name or by a figure) and the items the gold set must hold."""
    cc: collections.Counter[str] = collections.Counter()
    for d in items:
        if d.get("type") == "claim":
            v = d.get("verdict")
            cc[("contradicted_name" if d.get("false_by") == "name" else "contradicted_numeric")
               if v == "contradicted" else str(v)] += 1
    errors = [f"claims {k}: {cc[k]}, need >= {n}" for k, n in MIN_CLAIMS.items() if cc[k] < n]
    return errors + [f"missing required item: {msg}" for has, msg in GOLD_REQUIRED if not any(has(d) for d in items)]


GOLD = SetRules(
    name="gold", path="data/eval/gold.jsonl",
    prefixes={"fact": "fact", "list": "list", "colloquial": "colloq", "plan": "plan", "unanswerable": "none",
              "multiturn": "multi", "claim": "claim"},
    id_number=r"\d{2,3}",
    answerable={"fact": True, "list": True, "colloquial": True, "plan": True, "unanswerable": False,
                "multiturn": None, "claim": None},
    optional=frozenset({"history", "also_in", "note", "related", "verdict", "differs", "false_by"}),
    tasks={"claim": "check"}, expect_count=(1, None), expect_len=EXPECT_LEN, unanswerable_source=(None,),
    note_required=False, also_in_all=False, history={"multiturn": None}, statements=frozenset({"claim"}),
    item_check=_gold_item, set_check=_gold_set,
    counts={"fact": 24, "list": 6, "colloquial": 10, "plan": 8, "unanswerable": 14, "multiturn": 14, "claim": 24},
)

# --- the frozen everyday set and the training questions --------------------------------------------------------

EVERYDAY = SetRules(
    name="everyday", path="data/eval/everyday.jsonl",
    prefixes={"everyday": "everyday", "nearmiss": "nearmiss"}, id_number=r"\d{2,3}",
    answerable={"everyday": True, "nearmiss": False}, optional=frozenset({"also_in", "note"}),
    expect_len=EXPECT_LEN, unanswerable_source=("",), counts={"everyday": 40, "nearmiss": 20},
)

REPORTS_TRAIN = SetRules(
    name="reports_train", path="data/train/reports_everyday.jsonl",
    prefixes={"everyday": "train-everyday", "nearmiss": "train-nearmiss"}, id_number=r"\d{3}",
    answerable={"everyday": True, "nearmiss": False}, optional=frozenset({"also_in", "note"}),
    no_leak=False, copy_min=1, max_run=14,
)

# --- the frozen blind set reports_check (its rules: data/eval/reports_check.md) ---------------------------------

RC_COUNTS = {"plan": 18, "actual": 15, "followup": 16, "switch": 8, "list": 12, "qty": 18, "absent": 11, "other": 7}
RC_ANSWERABLE_BY_SOURCE = {"erqi-plan-2021-2026.txt": 36, "erqi-review-2016-2021.txt": 33}


def _rc_item(d: Item, src: str | None, texts: dict[str, str], error: Error) -> None:
    """``short`` on (and only on) answerable non-list items; a note only on unanswerables and followups."""
    typ, ans = d["type"], d["answerable"]
    wants_short = ans and typ != "list"
    if wants_short and not (isinstance(d.get("short"), str) and d["short"]):
        error("answerable non-list items need a short answer span")
    elif not wants_short and "short" in d:
        error("short is only for answerable non-list items")
    if "note" in d and ans and typ != "followup":
        error("note is only for unanswerable and followup items")


def _rc_set(items: list[Item]) -> list[str]:
    """105 items, 69 answerable: 36 from the plan report, 33 from the review (the .md's table)."""
    total = sum(RC_COUNTS.values())
    errors = [f"{len(items)} items, need exactly {total}"] if len(items) != total else []
    answerable = [d for d in items if d.get("answerable") is True and d.get("source") in SOURCES]
    by_source = collections.Counter(d["source"] for d in answerable)
    return errors + [f"answerable items from {s}: {by_source[s]}, need exactly {n}"
                     for s, n in RC_ANSWERABLE_BY_SOURCE.items() if by_source[s] != n]


REPORTS_CHECK = SetRules(
    name="reports_check", path="data/eval/reports_check.jsonl",
    prefixes={"plan": "rc-plan", "actual": "rc-actual", "followup": "rc-follow", "switch": "rc-switch",
              "list": "rc-list", "qty": "rc-qty", "absent": "rc-absent", "other": "rc-other"},
    id_number=r"\d{2}",
    answerable={"plan": True, "actual": True, "followup": True, "switch": True, "list": True,
                "qty": False, "absent": False, "other": False},
    optional=frozenset({"history", "short", "also_in", "note"}),
    evidence_count=(1, 2), also_in_when_shared=True, no_leak=False, copy_min=None, max_run=12,
    history={"followup": 2, "switch": 2}, item_check=_rc_item, set_check=_rc_set,
    counts=RC_COUNTS, exact_counts=True,
)

SETS = {rules.name: rules for rules in (GOLD, EVERYDAY, REPORTS_CHECK, REPORTS_TRAIN)}


def rules_for(name: str) -> SetRules:
    """A set's rules by its name or its file's stem (``reports_everyday`` is ``reports_train``)."""
    for rules in SETS.values():
        if name in (rules.name, Path(rules.path).stem):
            return rules
    raise KeyError(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.checks", description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", metavar="SET[=FILE]",
                        help=f"sets to check: {', '.join(SETS)} (default: all); =FILE checks another file")
    args = parser.parse_args(argv)
    texts = load_texts()
    failed = False
    for arg in args.sets or list(SETS):
        name, _, path = arg.partition("=")
        try:
            rules = rules_for(name)
        except KeyError:
            parser.error(f"unknown set {name!r} (one of {', '.join(SETS)})")
        report = rules.check(path or None, texts)
        print(report.summary())
        failed |= not report.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
