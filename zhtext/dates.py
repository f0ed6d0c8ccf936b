"""Years and dates as Chinese texts write them (2020年, 7月20日, 2021年7月, 去年), in one place.

Several readers look for years, and they do not all want the same thing: a question's or a passage's year
is a number of 1900–2099 before 年 (:data:`YEAR`), while the value parser takes any four digits before 年 as
a year of its own only when no month follows (:data:`YEAR_ALONE`: 2021年7月 is a year and month).  Each
pattern is named for what it matches; they differ on purpose, and the answer model was fitted on features
computed with exactly these.
"""
from __future__ import annotations

import re

from zhtext.numerals import UP_TO_TEN

# A year of 1900–2099 written before 年; the match is the number alone (2020 of 2020年), as questions pin years.
YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?=年)")
# Any four digits and 年 with no month after them (2020年, not 2021年7月): a year as a value; group 1 the number.
YEAR_ALONE = re.compile(r"(?<!\d)(\d{4})年(?!\d{1,2}月)")
# Four digits and 年 where a text starts (a date value 2021年7月20日 written with its year); group 1 the number.
LEADING_YEAR = re.compile(r"(\d{4})年")
# A value that is a year, with or without 年 (2020, 2020年), read whole (fullmatch); group 1 the number.
YEAR_VALUE = re.compile(r"(\d{4})年?")
# A year and month with no day after them (2021年7月); groups: year, month.
YEAR_MONTH = re.compile(r"(\d{4})年(\d{1,2})月(?!\d{1,2}日)")
# A month and day, with the year before them when it is written (2021年7月20日, 7月20日); groups: year, month, day.
DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")
# A month and day in digits (7月20日): a date a question pins.
MONTH_DAY = re.compile(r"\d{1,2}月\d{1,2}日")
# The same with the year of 1900–2099 before it when written (2021年7月20日): taken out of a question before its
# years are read, so that the year of a full date is not also a year of its own.
DATED_MONTH_DAY = re.compile(r"(?:(?:19|20)\d\d年)?" + MONTH_DAY.pattern)
# A year, date, month or day written in digits (2021年, 7月20日, 7月, 20日): not a count of anything.
DATE_DIGITS = re.compile(r"\d{4}年|\d{1,2}月\d{1,2}日|\d{1,2}月|\d{1,2}日")
# A time of any kind a sentence may answer "when" with: digits (2020年, 7月), the Chinese calendar (顺治十一年,
# 五月初九, 元年, 正月), year's end, centuries, eras and dynasties (江户时代, 唐朝).
DATE_OR_PERIOD = re.compile(
    r"(\d{4}年|\d{1,2}月|\d{1,2}日|年底|月底|年内|\d+天"
    rf"|[元{UP_TO_TEN}]年|[正{UP_TO_TEN}]月|初[{UP_TO_TEN}]|世纪|年代|时代|时期|朝)"
)
# Words just before a year that make it a statement's deadline or cut-off (到2025年, 截至2020年), not its subject.
SCOPE_BEFORE_YEAR = re.compile(r"(到|至|截至|截止)$")
# Years named relative to when the text was written (去年, 明年底): an LLM rewrites them as years.
RELATIVE_YEAR = re.compile(r"(前年|去年|今年|明年|后年|本年度|今年底|明年底)")
