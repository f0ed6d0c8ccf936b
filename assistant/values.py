"""The checkable values in a Chinese sentence: amounts with units, percentages,
dates, ordinals (第十一届) — parsed so that 「9.8万名居民」 equals 「9.8万居民」 and
「15%」 differs from 「11.5%」."""
from __future__ import annotations

import re
from dataclasses import dataclass

_CN = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUM = r"[一二两三四五六七八九十百零]+"

_DATE = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")
_YEAR_MONTH = re.compile(r"(\d{4})年(\d{1,2})月(?!\d{1,2}日)")
_ORDINAL = re.compile(rf"第(\d+|{_CN_NUM})([届次个])")
_AMOUNT = re.compile(rf"(\d+(?:\.\d+)?|(?<![第\u4e00-\u9fff]){_CN_NUM}(?=[个项所张家户条倍]))(多|余|近)?(万|亿)?(多|余)?(%|平方公里|亿元|万元|元|倍|人次|[个项所张家户条名人]|居民|群众)(以上|以下|左右)?")
_YEAR = re.compile(r"(?<!\d)(\d{4})年(?!\d{1,2}月)")

_CLASS = {"%": "percent", "平方公里": "area", "亿元": "money", "万元": "money", "元": "money", "倍": "ratio",
          "人次": "people", "名": "people", "人": "people", "居民": "people", "群众": "people"}
_MAGNITUDE = {"万": 1e4, "亿": 1e8}


@dataclass(frozen=True)
class Value:
    kind: str  # "date" | "year_month" | "ordinal" | "year" | a unit class ("money", "percent", "count:个"…)
    amount: tuple  # comparable payload
    text: str  # as written
    start: int  # offset in the parsed text


def cn_to_int(text: str) -> int:
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in _CN:
            current = _CN[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


def _amount_kind(unit: str) -> str:
    return _CLASS.get(unit, f"count:{unit}")


def parse_values(text: str) -> list[Value]:
    """Every value in ``text``; spans do not overlap (dates win over bare numbers)."""
    found: list[Value] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match, kind: str, amount: tuple) -> None:
        if any(m.start() < b and a < m.end() for a, b in taken):
            return
        taken.append((m.start(), m.end()))
        found.append(Value(kind, amount, m.group(0), m.start()))

    for m in _DATE.finditer(text):
        add(m, "date", (int(m.group(2)), int(m.group(3))))  # the year is often implied by the report
    for m in _YEAR_MONTH.finditer(text):
        add(m, "year_month", (int(m.group(1)), int(m.group(2))))
    for m in _ORDINAL.finditer(text):
        add(m, "ordinal", (cn_to_int(m.group(1)), m.group(2)))
    for m in _YEAR.finditer(text):
        add(m, "year", (int(m.group(1)),))
    for m in _AMOUNT.finditer(text):
        number = float(m.group(1)) if m.group(1)[0].isdigit() else float(cn_to_int(m.group(1)))
        add(m, _amount_kind(m.group(5)), (round(number * _MAGNITUDE.get(m.group(3) or "", 1), 6),))
    return sorted(found, key=lambda v: v.start)


def same(a: Value, b: Value) -> bool:
    return a.kind == b.kind and a.amount == b.amount
