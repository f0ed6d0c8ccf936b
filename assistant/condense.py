"""Follow-up questions with an LLM: the condense step.

「二七区2020年的地区生产总值是多少?」 then 「那去年的市场主体有多少户?」 is rewritten by
the model (Chinese few-shot prompt, temperature 0) as 「二七区2020年的市场主体有多少户?」:
pronouns and ellipsis are filled in from the user's earlier questions, and relative
dates (去年, 今年, 明年, 今年底…) become years counted from the reports' date
(``Settings.llm.report_date``, September 2021).  Only the user's questions are shown to the
model, never the assistant's answers, and a rewrite that brings in a number found in
neither the question nor the earlier questions is rejected: no answer leaks forward.

The rewrite is used only when it differs from the question.  Any error — the model
is down, slow, or replies with something that is not a question — falls back to the
rule-based :func:`assistant.followup.resolve`.
"""
from __future__ import annotations

import logging
import re

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from assistant import texts
from assistant.followup import resolve
from assistant.llm import chat_model, describe
from assistant.question import analyse
from assistant.settings import AssistantConfig
from assistant.types import AnalysedQuestion
from assistant.verify import missing_values
from zhtext.dates import RELATIVE_YEAR, YEAR_VALUE
from zhtext.words import COMMON, Segmenter

log = logging.getLogger(__name__)

HISTORY_TURNS = 3  # earlier user questions shown to the model
CONDENSE_MAX_TOKENS = 160
REWRITE_SLACK_CHARS = 40  # a rewrite may be this much longer than the question and the earlier ones together
RELATIVE_YEARS = 2  # 前年 … 后年: the years a relative date may stand for, around the reports' year
_PREFIX = re.compile(r"^\s*(?:改写后的问题|改写后|改写|独立问题|完整问题|问题|答)\s*[:\uff1a]\s*")
_QUOTES = "\"'“”「」『』‘’ "


def report_dates(report_date: str) -> dict[str, str]:
    """「2021-09」 → the variables of the prompt: report_month 2021年9月, this_year 2021, last_year 2020…"""
    m = re.fullmatch(r"\s*(\d{4})(?:[-/.年](\d{1,2})月?)?\s*", report_date)
    if not m:
        raise ValueError(f"report_date must look like YYYY-MM, got {report_date!r}")
    year = int(m.group(1))
    month = f"{int(m.group(2))}月" if m.group(2) else ""
    return {
        "report_month": f"{year}年{month}",
        "this_year": str(year),
        "last_year": str(year - 1),
        "year_before": str(year - 2),
        "next_year": str(year + 1),
    }


def _history_lines(questions: list[str]) -> str:
    if not questions:
        return texts.LLM_CONDENSE_NO_HISTORY
    return "\n".join(f"{i}. {q}" for i, q in enumerate(questions, start=1))


def condense_prompt() -> ChatPromptTemplate:
    """System rules, the few-shot examples as earlier turns, then the follow-up."""
    messages: list[tuple[str, str]] = [("system", texts.LLM_CONDENSE_SYSTEM)]
    for earlier, follow_up, standalone in texts.LLM_CONDENSE_EXAMPLES:
        messages.append(
            ("human", texts.LLM_CONDENSE_USER.format(history=_history_lines(list(earlier)), question=follow_up))
        )
        messages.append(("ai", standalone))
    messages.append(("human", texts.LLM_CONDENSE_USER))
    return ChatPromptTemplate.from_messages(messages)


def _user_questions(history: list[dict[str, str]]) -> list[str]:
    return [m["content"] for m in history if m.get("role") == "user" and m.get("content", "").strip()][-HISTORY_TURNS:]


def clean_rewrite(reply: str) -> str:
    """The first non-empty line, without a 「改写后的问题:」 prefix or surrounding quotes."""
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    return _PREFIX.sub("", lines[0]).strip(_QUOTES)


def _same(a: str, b: str) -> bool:
    squash = lambda s: re.sub(r"[\s?\uff1f。.!\uff01]", "", s)  # noqa: E731
    return squash(a) == squash(b)


class Condenser:
    """Rewrites follow-ups as standalone questions with the LLM of the settings."""

    def __init__(self, settings: AssistantConfig) -> None:
        self.settings = settings
        self.dates = report_dates(settings.llm.report_date)
        self.chain: Runnable = (
            condense_prompt().partial(**self.dates) | chat_model(settings.llm, CONDENSE_MAX_TOKENS) | StrOutputParser()
        )

    def wanted(self, question: str, history: list[dict[str, str]]) -> bool:
        """Worth a model call: there are earlier questions, or the question has a relative date."""
        return bool(_user_questions(history)) or bool(RELATIVE_YEAR.search(question))

    def rewrite(self, question: str, history: list[dict[str, str]]) -> str:
        """The model's standalone wording (may equal the question); raises on any failure or unusable reply."""
        earlier = _user_questions(history)
        reply = self.chain.invoke({"history": _history_lines(earlier), "question": question})
        rewritten = clean_rewrite(reply if isinstance(reply, str) else "")
        if not rewritten:
            raise ValueError("empty rewrite")
        longest = len(question) + sum(len(q) for q in earlier) + REWRITE_SLACK_CHARS
        limit = min(self.settings.answering.max_question_chars, longest)
        if len(rewritten) > limit:
            raise ValueError(f"rewrite too long ({len(rewritten)} > {limit} characters)")
        if texts.LLM_REFUSAL in rewritten:
            raise ValueError("the model answered instead of rewriting")
        self._check_values(rewritten, question, earlier)
        return rewritten

    def _check_values(self, rewritten: str, question: str, earlier: list[str]) -> None:
        """Numbers may come only from the questions, or be the years that relative dates stand for."""
        base = int(self.dates["this_year"])
        around = range(-RELATIVE_YEARS, RELATIVE_YEARS + 1)
        allowed_years = {str(base + d) for d in around} if RELATIVE_YEAR.search(question) else set()
        known = "\n".join([question, *earlier])
        for value in missing_values(rewritten, known):
            year = YEAR_VALUE.fullmatch(value)
            if not year or year.group(1) not in allowed_years:
                raise ValueError(f"the rewrite brings in {value!r}, found in no question")

    def resolve(
        self, question: str, history: list[dict[str, str]], segmenter: Segmenter = COMMON
    ) -> tuple[AnalysedQuestion, str | None]:
        """Like :func:`assistant.followup.resolve`: (analysed question, standalone wording or None)."""
        if not self.wanted(question, history):
            return resolve(question, history, segmenter)
        try:
            rewritten = self.rewrite(question, history)
        except Exception as exc:  # noqa: BLE001 - any failure: the rule-based resolution
            log.warning(
                "condense step failed, using the rule-based follow-up resolution: %s", describe(exc, self.settings.llm)
            )
            return resolve(question, history, segmenter)
        if _same(rewritten, question):
            return resolve(question, history, segmenter)
        return analyse(rewritten, segmenter), rewritten
