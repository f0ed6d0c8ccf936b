"""Follow-up questions without an LLM: carry the subject of earlier turns into the new one.

「福华颐养院有多少张床位?」 then 「它能服务多少人?」 becomes a question about
福华颐养院 that still asks 多少人.  Only the user's earlier questions are used,
never the assistant's answers, so no answer of a previous turn leaks in.
"""
from __future__ import annotations

from dataclasses import replace

from assistant.question import analyse
from assistant.types import AnalysedQuestion, Term
from zhtext.asking import ASKS_AGAIN, ASKS_FOR_SOMETHING, FOLLOW_UP_CUE, LEADING_PRONOUN
from zhtext.words import COMMON, Segmenter

FOLLOW_UP_MAX_CHARS = 8  # a question this short after another is read as a follow-up (「那明年呢?」)
# 「…呢?」 ends many a complete question (「二七区的常住人口有多少呢?」): only a short one leans on the turn before it
FOLLOW_UP_WITH_NE_MAX_CHARS = 12


def is_follow_up(question: str, history: list[dict[str, str]]) -> bool:
    if not any(m["role"] == "user" for m in history):
        return False
    short = len(question) <= FOLLOW_UP_MAX_CHARS or ("呢" in question and len(question) <= FOLLOW_UP_WITH_NE_MAX_CHARS)
    return short or bool(FOLLOW_UP_CUE.search(question))


def previous_question(history: list[dict[str, str]]) -> str | None:
    users = [m["content"] for m in history if m["role"] == "user"]
    return users[-1] if users else None


def resolve(
    question: str, history: list[dict[str, str]], segmenter: Segmenter = COMMON
) -> tuple[AnalysedQuestion, str | None]:
    """(analysed question with carried context, standalone wording or None when unchanged); ``segmenter``: the index's
    dictionary."""
    current = analyse(question, segmenter)
    previous = previous_question(history) if history else None
    if not previous or not is_follow_up(question, history):
        return current, None
    before = analyse(previous, segmenter)
    have = {t.surface for t in current.terms}
    carried = [Term(t.surface, t.alternatives, t.weight, carried=True) for t in before.terms if t.surface not in have]
    merged = replace(current, terms=current.terms + carried)
    if current.kind == "other" and not ASKS_FOR_SOMETHING.search(
        question
    ):  # 「那二七华侨城项目呢?」 asks what the previous one asked
        merged = replace(merged, kind=before.kind, unit_class=before.unit_class, list_count=before.list_count)
    if not current.years and not current.dates and ASKS_AGAIN.search(question):
        merged = replace(merged, years=[y for y in before.years if y not in question])
    context = "".join(t.surface for t in carried)
    standalone = f"{context} {LEADING_PRONOUN.sub('', question, count=1)}".strip()
    return replace(merged, text=standalone), standalone
