"""Chinese numerals: the characters every pattern builds its classes from, and the one parser.

The patterns of the other layers put these constants in their character classes
(``rf"[{SMALL}]+个"``) instead of writing the characters out, so that one place says which
characters count as numerals, and why a class leaves some out.
"""
from __future__ import annotations

import re

DIGITS = "一二三四五六七八九"  # one to nine
LIANG = "两"  # two, before a measure word or a power of ten (两个, 两百)
ZERO = "零"
TEN, HUNDRED, THOUSAND, WAN = "十", "百", "千", "万"

UP_TO_TEN = DIGITS + TEN  # 一 … 十: outline numbers (一、 (三)), dates (五月初九)
SMALL = DIGITS + LIANG + TEN  # 一 … 十 and 两: counts (两个, 十项, “六个区”)
VALUE = SMALL + HUNDRED + ZERO  # what the value parser reads after 第 or before a measure word (一百零五)
LARGE = SMALL + HUNDRED + THOUSAND + WAN  # counts with their magnitude (三千, 两万)
YI = "亿"  # a hundred million
MAGNITUDE = {WAN: 1e4, YI: 1e8}  # 万 and 亿 after a number multiply it (9.8万 = 98000, 760亿)
BEYOND_TWO = LIANG + DIGITS[2:] + TEN  # 两, 三 … 十: 哪两/哪三 ask for a list; 哪一 asks "which", 哪二 is not said

_DIGIT_VALUE = {c: i for i, c in enumerate(ZERO + DIGITS)} | {LIANG: 2}
_POWER = {TEN: 10, HUNDRED: 100}
_ONE = f"[{DIGITS}{LIANG}]"
_WELL_FORMED = re.compile(rf"\d+|(?:{_ONE}?{HUNDRED})?(?:{ZERO}?{_ONE}?{TEN})?{ZERO}?{_ONE}?")


def to_int(text: str) -> int:
    """The value of a numeral: Arabic digits (2025), or Chinese up to the hundreds (两, 十一, 二十, 一百零五).

    A digit before 十 or 百 multiplies it (二十 → 20; 十 alone is 10); a run of digits without one,
    as in 六七个 (six or seven), counts as its last digit, the one the measure word follows (7).
    Characters that are not numerals are skipped (a text without any is 0)."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in _DIGIT_VALUE:
            current = _DIGIT_VALUE[ch]
        elif ch in _POWER:
            total += (current or 1) * _POWER[ch]
            current = 0
    return total + current


def is_exact(text: str) -> bool:
    """A numeral of one value: digits, or a Chinese numeral in positional form (十五, 二十, 一百零五);
    not a run of bare digits (六七 for "six or seven", 二二八 as a name)."""
    return bool(text) and _WELL_FORMED.fullmatch(text) is not None
