"""training.checks: every committed question set passes, and a copy broken in one place is caught.

Each broken copy is the committed file with one item (or one line) changed, written to the test's folder and
checked against the real reports; the problem found must name the item's id (or the line, or the count).
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from training import checks
from training.checks import EVERYDAY, GOLD, REPORTS_CHECK, REPORTS_TRAIN, SETS, SetRules

TEXTS = checks.load_texts()
PLAN, REVIEW = "erqi-plan-2021-2026.txt", "erqi-review-2016-2021.txt"
SIZES = {"gold": 139, "everyday": 71, "reports_check": 105, "reports_train": 237}

Change = Callable[[dict[str, Any]], object]


def _items(rules: SetRules) -> list[dict[str, Any]]:
    return [json.loads(line) for line in rules.file.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in items), encoding="utf-8")
    return path


def _broken(rules: SetRules, tmp_path: Path, iid: str, change: Change) -> list[str]:
    """The problems of the committed set with item ``iid`` changed."""
    items = _items(rules)
    change(next(d for d in items if d["id"] == iid))
    return rules.check(_write(tmp_path / f"{rules.name}.jsonl", items), TEXTS).problems


def _far_evidence(d: dict[str, Any]) -> None:
    """Evidence moved to a verbatim string of the source far from every occurrence of the expect strings."""
    text = TEXTS[d["source"]]
    hits = [i for x in d["expect"] for i in checks.occurrences(text, x)]
    pos = next(p for p in range(0, len(text) - 20, 50)
               if "\n" not in text[p:p + 20] and all(abs(p - h) > 1000 for h in hits))
    d["evidence"] = [text[pos:pos + 20]]


def _drop(*keys: str) -> Change:
    return lambda d: [d.pop(k) for k in keys]


def _set(**fields: Any) -> Change:
    return lambda d: d.update(fields)


# (set, id of the changed item, change, words of the problem, id the problem names when the change renames it)
CASES: list[tuple[SetRules, str, Change, str, str | None]] = [
    # fields, ids, types
    (EVERYDAY, "everyday-01", _drop("evidence"), "missing field(s) ['evidence']", None),
    (REPORTS_CHECK, "rc-actual-01", _set(answer="760亿元"), "unknown field(s) ['answer']", None),
    (REPORTS_TRAIN, "train-everyday-002", _set(id="train-everyday-001"), "duplicate id (first on line 1)",
     "train-everyday-001"),
    (GOLD, "fact-01", _set(id="fact-1"), "id should be fact-<number", "fact-1"),
    (EVERYDAY, "nearmiss-01", _set(id="everyday-99"), "id should be nearmiss-<number", "everyday-99"),
    (REPORTS_CHECK, "rc-follow-01", _set(id="rc-followup-01"), "id should be rc-follow-<number", "rc-followup-01"),
    (REPORTS_TRAIN, "train-everyday-001", _set(type="fact"), "type 'fact' not in", None),
    (GOLD, "claim-02", _set(task="ask"), "task must be 'check'", None),
    (EVERYDAY, "everyday-01", _set(answerable="yes"), "answerable must be true/false", None),
    (REPORTS_TRAIN, "train-everyday-002", _set(question="二七去年一年GDP搞了多少亿呀?"),
     "duplicate question (same as train-everyday-001)", None),
    (GOLD, "list-04", _set(expect=["品质二七", "田园二七", "品质二七"]), "duplicate strings in expect", None),
    (REPORTS_TRAIN, "train-everyday-001", _set(source="erqi-2022.txt"), "source 'erqi-2022.txt' is not one of", None),
    (GOLD, "fact-01", _set(source=None), "source None is not one of", None),
    # answerable and unanswerable items
    (REPORTS_CHECK, "rc-qty-01", _set(answerable=True), "qty items must have answerable=false", None),
    (EVERYDAY, "nearmiss-01", _set(expect=["760亿元"]), "unanswerable items must have expect=[] and evidence=[]",
     None),
    (GOLD, "none-01", _set(evidence=["2020年,二七区地区生产总值达到760亿元"]), "must have expect=[] and evidence=[]",
     None),
    (REPORTS_TRAIN, "train-nearmiss-001", _drop("note"), "unanswerable items need a note", None),
    (REPORTS_CHECK, "rc-qty-01", _set(note=" "), "unanswerable items need a note", None),
    (EVERYDAY, "nearmiss-01", _set(source=None), "source None is not one of", None),
    (REPORTS_TRAIN, "train-everyday-001", _set(evidence=[]), "answerable items need 1 or more evidence", None),
    (REPORTS_CHECK, "rc-actual-01", _set(expect=["760亿元", "2020年", "二七区"]), "need 1-2 expect string(s), not 3",
     None),
    (REPORTS_CHECK, "rc-list-02", _set(evidence=["擘画了“品质二七、田园二七、温暖二七”的发展路径"] * 3),
     "need 1-2 evidence string(s), not 3", None),
    # grounding in the reports
    (GOLD, "fact-01", _set(expect=["761亿元"]), "expect '761亿元' does not occur verbatim in " + REVIEW, None),
    (EVERYDAY, "everyday-01", _set(evidence=["2020年,二七区地区生产总值达到770亿元"]),
     "evidence '2020年,二七区地区生产总值达到770亿元' does not occur verbatim", None),
    (REPORTS_CHECK, "rc-actual-01", _set(short="761亿元"), "short '761亿元' does not occur verbatim", None),
    (REPORTS_TRAIN, "train-everyday-002", _far_evidence, "expect '1.64倍' is not in/near (+-200 chars)", None),
    (REPORTS_CHECK, "rc-plan-02", _far_evidence, "expect '8%以上' is not in/near", None),
    (EVERYDAY, "everyday-01", _set(evidence=["760亿元"]), "evidence '760亿元' has 5 chars (allowed 10-40)", None),
    (GOLD, "fact-01", _set(expect=["地区生产总值达到760亿元,是2015年的1.64倍"]), "has 26 chars (allowed 2-15)", None),
    # also_in
    (EVERYDAY, "everyday-01", _set(also_in=[PLAN]), "does not occur verbatim in " + PLAN, None),
    (REPORTS_TRAIN, "train-everyday-001", _set(also_in=[PLAN]), "does not occur verbatim in " + PLAN, None),
    (GOLD, "fact-01", _set(also_in=[PLAN]), f"also_in {PLAN}: none of the expect strings occurs there", None),
    (GOLD, "list-04", _set(also_in=[PLAN]), "also_in must list report(s)", None),
    (REPORTS_CHECK, "rc-plan-04", _drop("also_in"), f"also occurs in {REVIEW}: also_in must name it", None),
    (REPORTS_TRAIN, "train-nearmiss-001", _set(also_in=[PLAN]), "also_in is only for answerable items", None),
    # the questions
    (GOLD, "fact-01", _set(question="2020年二七区的地区生产总值是760亿元吗?"),
     "expect '760亿元' leaks into the question", None),
    (GOLD, "multi-01", lambda d: d["history"][0].update(content="二七区要突破1200亿元吗?"),
     "expect '1200亿元' leaks into the question", None),
    (EVERYDAY, "everyday-01", _set(question="二七区的地区生产总值达到760亿元吗"), "leaks into the question", None),
    (EVERYDAY, "nearmiss-01", _set(question="2020年,二七区地区生产总值达到760亿元?"),
     f"question copies the text of {REVIEW} verbatim", None),
    (REPORTS_TRAIN, "train-nearmiss-001", _set(question="地区生产总值?"),
     "question copies the text of", None),
    (REPORTS_TRAIN, "train-everyday-001", _set(question="问问:2020年,二七区地区生产总值达到多少?"),
     "consecutive characters with " + REVIEW + " (at most 14)", None),
    (REPORTS_CHECK, "rc-plan-02", _set(question="听说到2025年,地区生产总值会怎样?"),
     "question shares 13 consecutive characters with " + PLAN + " (at most 12)", None),
    # histories
    (REPORTS_CHECK, "rc-follow-01", lambda d: d["history"].pop(), "history must be 2 turns", None),
    (REPORTS_CHECK, "rc-switch-01", lambda d: d["history"].extend(d["history"]), "history must be 2 turns", None),
    (GOLD, "multi-01", lambda d: d["history"].reverse(), "history must be an even number of turns", None),
    (GOLD, "fact-01", _set(history=[{"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好"}]),
     "history is only allowed for multiturn items", None),
    (REPORTS_CHECK, "rc-actual-01", _set(history=[]), "history is only allowed for followup/switch items", None),
    (GOLD, "multi-01", _set(question="2025年全区生产总值的目标是多少?"), "should be elliptical/anaphoric", None),
    # the gold set's claims and related strings
    (GOLD, "claim-13", _drop("differs"), "contradicted claim needs 'differs'", None),
    (GOLD, "claim-13", _set(differs="770亿元"), "differs '770亿元' not found in " + REVIEW, None),
    (GOLD, "claim-13", _set(false_by="size"), "contradicted claim needs false_by", None),
    (GOLD, "claim-13", _set(verdict="wrong"), "verdict must be one of", None),
    (GOLD, "claim-02", _set(answerable=False), "answerable must be true for supported/contradicted", None),
    (GOLD, "claim-02", _set(false_by="number"), "false_by only allowed on contradicted claims", None),
    (GOLD, "fact-01", _set(verdict="supported"), "verdict only allowed on claim items", None),
    (GOLD, "fact-01", _set(related=["2020年,二七区地区生产总值达到760亿元"]), "related (list) is only for", None),
    (GOLD, "none-01", _set(related=["二七区区长由张三先生担任"]), "related is not an exact substring", None),
    # reports_check's own fields
    (REPORTS_CHECK, "rc-actual-01", _drop("short"), "answerable non-list items need a short answer span", None),
    (REPORTS_CHECK, "rc-list-02", _set(short="品质二七"), "short is only for answerable non-list items", None),
    (REPORTS_CHECK, "rc-actual-01", _set(note="achievement"), "note is only for unanswerable and followup items",
     None),
]


@pytest.mark.parametrize("name", list(SETS))
def test_committed_set_passes(name: str) -> None:
    report = SETS[name].check(texts=TEXTS)
    assert report.ok, report.summary()
    assert len(report.items) == SIZES[name]


@pytest.mark.parametrize(("rules", "iid", "change", "words", "named"), CASES,
                         ids=[f"{c[0].name}-{c[1]}-{c[3][:40]}" for c in CASES])
def test_broken_item_is_caught(tmp_path: Path, rules: SetRules, iid: str, change: Change, words: str,
                               named: str | None) -> None:
    problems = _broken(rules, tmp_path, iid, change)
    tag = f"[{named or iid}]"
    assert any(tag in p and words in p for p in problems), problems
    assert all(tag in p for p in problems if p.startswith("line ")), problems  # no other item is blamed


def test_file_level_problems_name_the_line(tmp_path: Path) -> None:
    lines = EVERYDAY.file.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    lines[0] = json.dumps(first)  # CJK as \u escapes
    lines[1] = lines[1][:-1]  # invalid JSON
    lines[2] = "[]"
    lines.insert(3, "")
    path = tmp_path / "everyday.jsonl"
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    problems = EVERYDAY.check(path, TEXTS).problems
    assert "file starts with a BOM" in problems
    assert f"line 1 [{first['id']}]: CJK written as \\u escapes (use ensure_ascii=False)" in problems
    assert any(p.startswith("line 2: invalid JSON") for p in problems)
    assert "line 3: not a JSON object" in problems
    assert "line 4: blank line" in problems
    assert EVERYDAY.check(tmp_path / "none.jsonl", TEXTS).problems == [f"{tmp_path / 'none.jsonl'} does not exist"]
    (tmp_path / "gbk.jsonl").write_bytes(path.read_text(encoding="utf-8").encode("gbk", errors="replace"))
    [problem] = EVERYDAY.check(tmp_path / "gbk.jsonl", TEXTS).problems
    assert problem.startswith(f"{tmp_path / 'gbk.jsonl'} is not UTF-8: 'utf-8' codec can't decode byte")


def _without(rules: SetRules, tmp_path: Path, drop: Callable[[dict[str, Any]], bool]) -> list[str]:
    items = [d for d in _items(rules) if not drop(d)]
    return rules.check(_write(tmp_path / f"{rules.name}.jsonl", items), TEXTS).problems


def test_gold_counts_and_required_items(tmp_path: Path) -> None:
    problems = _without(GOLD, tmp_path, lambda d: d["type"] == "claim" and d["id"] != "claim-12")
    assert "type claim: 1 items, need >= 24" in problems
    assert "claims supported: 0, need >= 8" in problems
    assert "missing required item: supported claim 「五年内引进60个以上重大产业项目」" in problems
    assert not [p for p in problems if p.startswith("line ")]
    problems = _without(GOLD, tmp_path, lambda d: d["id"] == "none-01")
    assert problems == ["missing required item: unanswerable 「二七区的区长是谁?」"]


def test_everyday_and_training_counts(tmp_path: Path) -> None:
    problems = _without(EVERYDAY, tmp_path, lambda d: d["type"] == "nearmiss" and d["id"] > "nearmiss-10")
    assert problems == ["type nearmiss: 10 items, need >= 20"]
    problems = _without(REPORTS_TRAIN, tmp_path, lambda d: d["source"] == PLAN and d["answerable"])
    assert problems == [f"no answerable item sourced from {PLAN}"]


def test_reports_check_is_frozen_at_its_counts(tmp_path: Path) -> None:
    problems = _without(REPORTS_CHECK, tmp_path, lambda d: d["id"] == "rc-plan-18")
    assert set(problems) == {"type plan: 17 items, need exactly 18", "104 items, need exactly 105",
                             f"answerable items from {PLAN}: 35, need exactly 36"}
    items = _items(REPORTS_CHECK)
    items.append(dict(items[0], id="rc-plan-19", question="到2025年二七区GDP会有多少?"))
    problems = REPORTS_CHECK.check(_write(tmp_path / "more.jsonl", items), TEXTS).problems
    assert "type plan: 19 items, need exactly 18" in problems


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(checks.REPO))
    return subprocess.run([sys.executable, "-m", "training.checks", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_checks_all_four_sets_from_any_folder(tmp_path: Path) -> None:
    done = _cli(cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for name, rules in SETS.items():
        assert f"{name}: OK  {rules.path}  ({SIZES[name]} items)" in done.stdout


def test_cli_fails_on_a_broken_file_and_names_the_item(tmp_path: Path) -> None:
    items = _items(EVERYDAY)
    items[0]["expect"] = ["761亿元"]
    broken = _write(tmp_path / "broken.jsonl", items)
    done = _cli("reports_check", f"everyday={broken}", cwd=tmp_path)
    assert done.returncode == 1
    assert "reports_check: OK" in done.stdout
    assert "everyday: FAIL (1 problem(s))" in done.stdout
    assert f"line 1 [{items[0]['id']}]: expect '761亿元' does not occur verbatim in {REVIEW}" in done.stdout
    assert _cli("reports_everyday", cwd=tmp_path).returncode == 0  # the file's name works too
    assert _cli("nosuchset", cwd=tmp_path).returncode == 2


def test_no_absolute_paths_and_no_scripts_left_under_data() -> None:
    source = Path(checks.__file__).read_text(encoding="utf-8")
    strings = [n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert not [s for s in strings if s.startswith("/") and len(s) > 1]
    assert "sys.path" not in source
    assert not list((checks.REPO / "data").rglob("*.py"))
