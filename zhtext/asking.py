"""The words a Chinese question asks with (什么, 哪里, 多少, 谁 …), in one list.

Longer words come before the words they contain (哪里 before 哪), so that removing or splitting
on the pattern takes the whole word.  The answer model was fitted on features computed with
exactly these patterns; the variants below are named for what differs and why.
"""
from __future__ import annotations

import re

ASKING_WORDS = (
    "什么",
    "哪里",
    "哪儿",
    "哪个",
    "哪些",
    "哪",
    "多少",
    "几",
    "谁",
    "何",
    "怎么",
    "怎样",
    "为什么",
    "吗",
    "呢",
    "啥",
)
WHETHER = "是否"


def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("(" + "|".join(words) + ")")


ASKING = _alternation(ASKING_WORDS)  # removed from a question before its character pairs are taken
ASKING_OR_WHETHER = _alternation((*ASKING_WORDS, WHETHER))  # where a question asks, and what it says around that
# Asks for something of its own: 呢 does not (「那二七华侨城项目呢?」 asks what the question before it asked),
# 是否 and any word with 怎 do.  Only searched for, so the shortest form of each word is enough.
ASKS_FOR_SOMETHING = _alternation(("多少", "几", "哪", "什么", "啥", "谁", "何", "吗", WHETHER, "怎"))
# How a claim's value is asked for when the claim becomes a question (「…床位为317张」 → 「…床位为多少张」): a date
# or year by its kind, an ordinal with 第几 and its measure word (第几届), any other amount with 多少 and its unit.
ASK_FOR_KIND = {"date": "哪一天", "year_month": "什么时候", "year": "哪一年"}
ASK_ORDINAL = "第几"
ASK_AMOUNT = "多少"
