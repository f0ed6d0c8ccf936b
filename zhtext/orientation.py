"""Plans versus achievements: tag a passage as a target, a result, or both.

The reports mix results already achieved (「达到760亿元」, 2016–2020) with
targets (「到2025年…突破1200亿元」, 「确保」, 「力争」).  Cue words decide.
"""
from __future__ import annotations

import re
from typing import Literal

from zhtext.asking import PLAN_WORDS
from zhtext.numerals import DIGITS, LIANG, TEN

Orientation = Literal["target", "actual", "mixed", "unknown"]

_TARGET = re.compile(r"(到20\d\d年|20\d\d年(7月)?底?前|确保|力争|计划|将要|将重点|今后五年|未来五年|五年内|目标|突破)")
_ACTUAL = re.compile(
    r"(20(0\d|1\d|20|21)年[^。;\uff1b]{0,25}(达到|实现|完成|增加|建成|荣获|投入)|20(1\d|20|21)年\d{1,2}月|五年来|五年间|已经|累计|荣获|是20\d\d年的|受益)"
)


def orientation_of(text: str) -> Orientation:
    """"target", "actual", "mixed" or "unknown"."""
    target = bool(_TARGET.search(text))
    actual = bool(_ACTUAL.search(text))
    if target and actual:
        return "mixed"
    return "target" if target else "actual" if actual else "unknown"


# Next to a figure (ingest.indicators), a few more words decide: a verb with 了 right before the number (打造了19个,
# 增加了一倍) or 已 report a result; 将/争取/预计 … before it, a plan.  orientation_of does not read these: the answer
# model's features were computed without them.
_TARGET_NEAR = re.compile(r"(争取|预计|预期|规划|将达|将超|将实现|将新增|将建成|力求|努力实现|十[四五六]五)")
_ACTUAL_NEAR = re.compile(
    rf"(了(?=[\d{DIGITS}{LIANG}{TEN}])|已经|已|截至20\d\d年|共计|合计|总计"
    # a year with what was done in it (2023年,全区实现…), unless a plan word stands before the year (到2025年实现)
    r"|(?<![到至])(?<!确保)(?<!力争)(?<!争取)(?<!计划)(?<!预计)(?:19|20)\d\d年(?:底|末)?[,，]?[^。;；,，]{0,12}?"
    r"(?:实现|达到|完成|建成|新增|共有|接待|投入))"
)
# Headings that say what their section holds: a review of results, or the tasks ahead (一、2023年工作回顾 / 二、2024年
#主要目标); read for a figure whose paragraph has no cue of its own.
_HEADING_TARGET = re.compile(r"(目标|任务|规划|计划|展望|打算|安排|举措|思路|部署|今后|未来|蓝图)")
_HEADING_ACTUAL = re.compile(r"(回顾|成绩|成就|成效|完成情况|进展|总结|回眸|见证|答卷)")


def cue_spans(text: str, near_figures: bool = False) -> list[tuple[int, int, Orientation]]:
    """Where ``text`` says plan or result: (start, end, "target" or "actual") of each cue of orientation_of, in order;
    with ``near_figures``, also the cues that are decisive next to a number (了 before it, 已, 争取 …)."""
    found: list[tuple[int, int, Orientation]] = [(m.start(), m.end(), "target") for m in _TARGET.finditer(text)]
    found += [(m.start(), m.end(), "actual") for m in _ACTUAL.finditer(text)]
    if near_figures:
        found += [(m.start(), m.end(), "target") for m in _TARGET_NEAR.finditer(text)]
        found += [(m.start(), m.end(), "actual") for m in _ACTUAL_NEAR.finditer(text)]
    return sorted(found)


def heading_side(heading: str) -> Orientation:
    """"target" or "actual" when a heading says its section holds plans or results, else "unknown"."""
    target, actual = bool(_HEADING_TARGET.search(heading)), bool(_HEADING_ACTUAL.search(heading))
    return "target" if target and not actual else "actual" if actual and not target else "unknown"


# What a question asks for: a plan (目标, 要, 到2025年…) or a result (达到了, 过去, 这几年, 2020年…).
_ASKS_TARGET = re.compile(r"(" + "|".join(PLAN_WORDS) + r"|到20\d\d|20(2[2-9]|[3-9]\d)年)")
_ASKS_ACTUAL = re.compile(
    r"(达到了|完成了|实现了|建成了|过去|这几年|五年来|五年间|已经|现在|目前|截至|去年|20(0\d|1\d|20|21)年)"
)


def asked_side(question: str, previous: str | None = None) -> Orientation:
    """"target" or "actual" when the question (or, failing any cue in it, the question before it) asks for one
    side only; else "unknown"."""
    for text in (question, previous or ""):
        target, actual = bool(_ASKS_TARGET.search(text)), bool(_ASKS_ACTUAL.search(text))
        if target != actual:
            return "target" if target else "actual"
        if target:
            return "unknown"
    return "unknown"
