"""zhtext as the one home of word lists, year patterns and part-of-speech sets: what each list is for, how the
patterns that look alike differ, and that none is spelled again in the assistant."""
from __future__ import annotations

import re

import pytest

from assistant.corpus_words import REPORTS_SUBJECT, SYNONYMS
from zhtext import dates, lexicon, tags

from common import REPO


def test_stopwords_and_filler_share_the_wording_of_questions_and_nothing_else() -> None:
    assert lexicon.STOPWORDS == lexicon.ASKING_WORDING | lexicon.GRAMMAR_WORDS
    assert lexicon.FILLER == lexicon.ASKING_WORDING | lexicon.QUESTION_FRAMING
    assert lexicon.STOPWORDS & lexicon.FILLER == lexicon.ASKING_WORDING
    assert not lexicon.GRAMMAR_WORDS & lexicon.QUESTION_FRAMING
    assert {"的", "和", "是否"} <= lexicon.STOPWORDS - lexicon.FILLER  # grammar: BM25 drops it, analysis by its tag
    assert {"报告", "数量", "今后"} <= lexicon.FILLER - lexicon.STOPWORDS  # a passage that says 数量 may be the one


def test_the_general_lists_hold_no_word_of_the_bundled_reports() -> None:
    general = lexicon.STOPWORDS | lexicon.FILLER | lexicon.ANSWER_TYPE
    assert not general & REPORTS_SUBJECT
    assert not general & set(SYNONYMS)
    assert not lexicon.ANSWER_TYPE & lexicon.FILLER  # a word of both would never be a term: FILLER is read first


@pytest.mark.parametrize(
    ("text", "year", "year_alone"),
    [
        ("2020年,地区生产总值达到760亿元", ["2020"], ["2020"]),
        ("2021年7月20日特大暴雨", ["2021"], []),  # a year and month: a date value, not a year of its own
        ("1850年建成", [], ["1850"]),  # a question's years are of 1900–2099; the value parser reads any
        ("12020年", [], []),
    ],
)
def test_the_two_year_patterns_differ_on_purpose(text: str, year: list[str], year_alone: list[str]) -> None:
    assert [m.group(0) for m in dates.YEAR.finditer(text)] == year
    assert [m.group(1) for m in dates.YEAR_ALONE.finditer(text)] == year_alone


def test_date_patterns() -> None:
    assert dates.DATED_MONTH_DAY.sub(" ", "2021年7月20日和8月1日") == " 和 "
    assert dates.YEAR_MONTH.findall("2021年7月底,2021年7月20日") == [("2021", "7")]
    assert dates.DATE_OR_PERIOD.search("顺治十一年") and dates.DATE_OR_PERIOD.search("江户时代")
    assert dates.SCOPE_BEFORE_YEAR.search("到") and not dates.SCOPE_BEFORE_YEAR.search("2020年")
    assert dates.RELATIVE_YEAR.search("去年新增了多少户?")


def test_tag_sets_are_named_for_what_they_find() -> None:
    assert tags.PROPER_NOUN_TAGS < tags.NAME_TAGS  # the LLM verifier's names are the proper nouns only
    assert tags.NAME_WEIGHT_TAGS - tags.PROPER_NOUN_TAGS == {tags.LATIN_TAG}
    assert tags.GUESSED_TERM_TAGS - tags.PROPER_NOUN_TAGS == {tags.NOUN_TAG}
    assert tags.CORPUS_TERM_TAG in tags.PROPER_NOUN_TAGS


# Spelled outside zhtext, these would be a second copy of a year pattern, a tag set or a word list.
_YEAR_PATTERN = re.compile(r"\(\?:19\|20\)|\(19\|20\)|\\d\{4\}\)?年|20\\d\\d")
_TAG_LITERAL = re.compile(r"""["'](nr|ns|nt|nz|nrt|nrfg|eng|uj|vn)["']""")
_WORD_LIST = re.compile(r"""(frozenset|set|tuple)\(\s*\[?\s*["'][\u4e00-\u9fff]+["']\s*,""")
_CORPUS_OWN = {"assistant/texts.py", "assistant/corpus_words.py"}  # strings, prompts, the reports' own words


def test_no_year_pattern_tag_set_or_word_list_is_spelled_outside_zhtext() -> None:
    found = []
    for path in sorted((REPO / "assistant").glob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        text = path.read_text(encoding="utf-8")
        for n, line in enumerate(text.splitlines(), 1):
            code = line.split("#", 1)[0]
            if _YEAR_PATTERN.search(code) or _TAG_LITERAL.search(code):
                found.append(f"{rel}:{n}: {line.strip()}")
        if rel not in _CORPUS_OWN:
            found += [f"{rel}: word list {m.group(0)}" for m in _WORD_LIST.finditer(text)]
    assert not found, "\n".join(found)
