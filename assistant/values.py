"""The checkable values in a Chinese sentence: amounts with units, percentages,
dates, ordinals (第十一届) — parsed so that 「9.8万名居民」 equals 「9.8万居民」 and
「15%」 differs from 「11.5%」."""
from __future__ import annotations

import re

from assistant.types import Value, ValueKind
from zhtext.dates import DATE, YEAR_ALONE, YEAR_MONTH
from zhtext.numerals import MAGNITUDE, VALUE, to_int
from zhtext.units import UNITS

_CN_NUM = rf"[{VALUE}]+"
AMOUNT_DIGITS = 6  # decimals an amount keeps: 9.8万 and 98000 compare equal, float noise does not count

_ORDINAL = re.compile(rf"第(\d+|{_CN_NUM})([届次个])")
_AMOUNT = re.compile(
    rf"(\d+(?:\.\d+)?|(?<![第\u4e00-\u9fff]){_CN_NUM}(?=[个项所张家户条倍]))(多|余|近)?(万|亿)?(多|余)?"
    r"(%|平方公里|亿元|万元|元|倍|人次|[个项所张家户条名人]|居民|群众)(以上|以下|左右)?"
)


def parse_values(text: str) -> list[Value]:
    """Every value in ``text``; spans do not overlap (dates win over bare numbers)."""
    found: list[Value] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match, kind: ValueKind, amount: tuple, unit: str = "") -> None:
        if any(m.start() < b and a < m.end() for a, b in taken):
            return
        taken.append((m.start(), m.end()))
        found.append(Value(kind, amount, m.group(0), m.start(), unit))

    for m in DATE.finditer(text):
        add(m, "date", (int(m.group(2)), int(m.group(3))))  # the year is often implied by the report
    for m in YEAR_MONTH.finditer(text):
        add(m, "year_month", (int(m.group(1)), int(m.group(2))))
    for m in _ORDINAL.finditer(text):
        add(m, "ordinal", (to_int(m.group(1)), m.group(2)))
    for m in YEAR_ALONE.finditer(text):
        add(m, "year", (int(m.group(1)),))
    for m in _AMOUNT.finditer(text):
        number = float(m.group(1)) if m.group(1)[0].isdigit() else float(to_int(m.group(1)))
        unit = m.group(5)
        kind = UNITS[unit]
        amount = round(number * MAGNITUDE.get(m.group(3) or "", 1), AMOUNT_DIGITS)
        add(m, kind, (amount,), unit if kind == "count" else "")
    return sorted(found, key=lambda v: v.start)


def same(a: Value, b: Value) -> bool:
    return a.measure == b.measure and a.amount == b.amount
