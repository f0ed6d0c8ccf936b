"""What a question asks: its key terms, the numbers it pins down, and the kind of answer it wants."""
from __future__ import annotations

import re

from assistant.corpus_words import REPORTS_SUBJECT, SYNONYMS
from assistant.types import (
    MIN_TERM_CHARS,
    MINOR_WEIGHT,
    NAME_WEIGHT,
    WORD_WEIGHT,
    AnalysedQuestion,
    QuestionKind,
    Term,
)
from assistant.values import parse_values
from zhtext import chars
from zhtext.asking import (
    ASKS_AMOUNTS,
    ASKS_LIST,
    ASKS_ORIGIN,
    ASKS_PLAN,
    ASKS_QUANTITY,
    ASKS_TIME,
    ASKS_WHO,
    HOW_MANY_MEASURE,
    QUESTION_WORD_PART,
)
from zhtext.dates import DATED_MONTH_DAY, MONTH_DAY, YEAR
from zhtext.lexicon import ANSWER_TYPE, FILLER, FUNCTION_CHARS
from zhtext.numerals import HUNDRED, LARGE, SMALL, UP_TO_TEN, is_exact, to_int
from zhtext.tags import (
    FUNCTION_TAGS,
    GUESSED_TERM_TAGS,
    NAME_WEIGHT_TAGS,
    NON_WORD_TAG,
    NOUN_LIKE_TAGS,
    NOUN_PREFIX,
    NOUN_TAG,
    NUMERAL_PREFIX,
    OTHER_PROPER_TAG,
    PARTICLE_PREFIX,
)
from zhtext.units import AREA_WORDS, MONEY_WORDS, UNIT_CLASSES, UnitClass
from zhtext.words import COMMON, Segmenter

# Never a term of a question: how a question is asked (zhtext.lexicon.FILLER), and what every bundled report is
# about (二七区: assistant.corpus_words).
NOT_TERMS = FILLER | REPORTS_SUBJECT
LONG_WORD_CHARS = 4  # a word this long weighs as a name: long words are specific (生产总值, 郭家咀水库)
# A question asking for this many items asks for a list (哪三个, “六个区”); fewer is no list, more is a number.
MIN_LIST_ITEMS, MAX_LIST_ITEMS = 2, 20
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?:%|万|亿)?")
_ORDINAL = re.compile(rf"第[{UP_TO_TEN}{HUNDRED}\d]+[届次个]")
_CN_COUNT = re.compile(rf"(?<![哪几第])([{SMALL}]+)(?=[个项条所张家户名位届次])")
_LIST_COUNT = re.compile(rf"(?:哪|这|那)?([{SMALL}\d]+)(?:个|项|条|大|类|种|方面)")

_QUOTED_COUNT = re.compile(rf"[“「\"]([{SMALL}]+)[\u4e00-\u9fff]")
_UNIT_AFTER_HOW_MANY = re.compile(
    r"(?:多少|几)(平方公里|亿元|万元|人次|亿(?![人个])|[个项所张家户条部封座处次倍届人名位元])?"
)


def _pos_weight(flag: str, word: str) -> float:
    if flag in NAME_WEIGHT_TAGS or len(word) >= LONG_WORD_CHARS:
        return NAME_WEIGHT
    if flag.startswith(NOUN_PREFIX) or flag in NOUN_LIKE_TAGS:
        return WORD_WEIGHT
    if flag.startswith(NUMERAL_PREFIX):
        return WORD_WEIGHT
    return MINOR_WEIGHT


_QUOTED = chars.quoted(2, 10)
_COUNT_PREFIX = re.compile(rf"^[{SMALL}\d]+个?")
_COUNT_WORD = re.compile(rf"^[{LARGE}几\d]+[个项条所张家户名位届次年大类种倍座批]?$")  # 一座, 三个: values, not names


def _segment(text: str, segmenter: Segmenter) -> list[tuple[str, str]]:
    """Dictionary words (no HMM guessing), plus names only HMM recognises (常庄, 张振威)."""
    plain = [
        (w, OTHER_PROPER_TAG if f == NON_WORD_TAG and len(w) >= MIN_TERM_CHARS else f)
        for w, f in segmenter.tag(text, hmm=False)
    ]
    guessed = [(w, f) for w, f in segmenter.tag(text) if f in GUESSED_TERM_TAGS and len(w) >= MIN_TERM_CHARS]
    known = {w for w, _ in plain}
    return plain + [(w, f"guessed-{f}") for w, f in guessed if w not in known]


def _mask_values(text: str) -> str:
    """Numbers and dates are pins, not terms: 「7月20日特大暴雨」 must not yield the word 日特."""
    for value in parse_values(text):
        text = text[: value.start] + "," * len(value.text) + text[value.start + len(value.text) :]
    return YEAR.sub(lambda m: "," * len(m.group(0)), text)


def _terms(text: str, pairs: list[tuple[str, str]]) -> list[Term]:
    terms: dict[str, Term] = {}
    for quoted in _QUOTED.findall(text):
        head = _COUNT_PREFIX.sub("", quoted)  # “六个核心板块” → also 核心板块
        for word in dict.fromkeys((quoted, head)):
            if len(word) >= MIN_TERM_CHARS and not _COUNT_WORD.match(word) and word not in NOT_TERMS:
                terms[word] = Term(word, (word,), NAME_WEIGHT)
    lowered = text.lower()
    for key, alternatives in SYNONYMS.items():
        if key in lowered:
            terms[key] = Term(key, alternatives + (key,), WORD_WEIGHT)
    fixed = list(terms.values())
    for word, flag in pairs:
        word = QUESTION_WORD_PART.sub("", word.strip())
        if (
            len(word) < MIN_TERM_CHARS
            or word in NOT_TERMS
            or _COUNT_WORD.match(word)
            or not re.search(r"[\w\u4e00-\u9fff]", word)
        ):
            continue
        if flag in FUNCTION_TAGS or flag.startswith(PARTICLE_PREFIX):
            continue
        if any(word in t.alternatives or word in t.surface or t.surface in word.lower() for t in fixed):
            continue
        guess = flag.startswith("guessed-")
        flag = flag.removeprefix("guessed-")
        if word in ANSWER_TYPE:
            terms.setdefault(word, Term(word, (word,), MINOR_WEIGHT, generic=True))
            continue
        terms.setdefault(word, Term(word, (word,), _pos_weight(flag, word), guessed=guess and flag == NOUN_TAG))
    return list(terms.values())


def _name_runs(words: list[tuple[str, str]]) -> list[str]:
    """Runs of two or more single-character words (祭 遵, 朱 载 圳): names the dictionary does not know."""
    runs, run = [], ""
    for word, flag in words:
        if flag.startswith("guessed-"):
            break  # the HMM's guesses follow the plain words
        if len(word) == 1 and "\u4e00" <= word <= "\u9fff" and word not in FUNCTION_CHARS:
            run += word
            continue
        if len(run) >= MIN_TERM_CHARS:
            runs.append(run)
        run = ""
    return runs + ([run] if len(run) >= MIN_TERM_CHARS else [])


def _measure(text: str, segmenter: Segmenter) -> str | None:
    """The measure word after 几 or 多少: at the question's end (共有几层?) or joined to 几 by the dictionary (几种)."""
    m = HOW_MANY_MEASURE.search(text)
    if not m:
        return None
    if not re.search(r"[\u4e00-\u9fff]", text[m.end() :]):
        return m.group(1)
    return m.group(1) if m.group(0) in segmenter.cut(text, hmm=False) else None


def _unit_class(text: str) -> UnitClass | None:
    m = _UNIT_AFTER_HOW_MANY.search(text)
    unit = m.group(1) if m and m.group(1) else None
    if unit is None:
        named: tuple[tuple[UnitClass, tuple[str, ...]], ...] = (
            ("percent", UNIT_CLASSES["percent"]),
            ("area", AREA_WORDS),
            ("money", MONEY_WORDS),
        )
        for name, words in named:
            if any(w in text for w in words):
                return name
        return None
    for name, units in UNIT_CLASSES.items():
        if unit in units:
            return name
    return None


def _kind(text: str) -> QuestionKind:
    if ASKS_AMOUNTS.search(text):
        return "quantity"
    if ASKS_LIST.search(text):
        return "list"
    if ASKS_TIME.search(text):
        return "time"
    if ASKS_WHO.search(text):
        return "who"
    if ASKS_QUANTITY.search(text):
        return "quantity"
    return "other"


def _list_count(text: str) -> int | None:
    for m in list(_LIST_COUNT.finditer(text)) + list(_QUOTED_COUNT.finditer(text)):
        n = to_int(m.group(1)) if is_exact(m.group(1)) else None
        if n and MIN_LIST_ITEMS <= n <= MAX_LIST_ITEMS:
            return n
    return None


def analyse(text: str, segmenter: Segmenter = COMMON) -> AnalysedQuestion:
    """``segmenter``: the dictionary of the index the question is read against (its corpus terms stay whole)."""
    dates = MONTH_DAY.findall(text)  # a full date pins its month and day; the year may be implied by the report
    without_dates = DATED_MONTH_DAY.sub(" ", text)
    years = [m.group(0) for m in YEAR.finditer(without_dates)]
    rest = YEAR.sub(" ", without_dates)
    numbers = [n for n in _NUMBER.findall(rest)] + _ORDINAL.findall(text)
    numbers += [m.group(0) for m in _CN_COUNT.finditer(_ORDINAL.sub(" ", text)) if not ASKS_LIST.search(text)]
    kind = _kind(text)
    segmented = _segment(_mask_values(text), segmenter)
    return AnalysedQuestion(
        text=text,
        terms=_terms(text, segmented),
        years=years,
        dates=dates,
        numbers=numbers,
        kind=kind,
        unit_class=_unit_class(text) if kind == "quantity" else None,
        list_count=_list_count(text) if kind == "list" else None,
        wants_plan=bool(ASKS_PLAN.search(text)),
        wants_origin=bool(ASKS_ORIGIN.search(text)),
        measure=_measure(text, segmenter) if kind == "quantity" else None,
        name_runs=_name_runs(segmented),
    )
