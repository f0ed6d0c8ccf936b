"""Plans versus achievements: tag a passage as a target, a result, or both.

The reports mix results already achieved (「达到760亿元」, 2016–2020) with
targets (「到2025年…突破1200亿元」, 「确保」, 「力争」).  Cue words decide.
"""
from __future__ import annotations

import re
from typing import Literal

from zhtext.asking import PLAN_WORDS

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
