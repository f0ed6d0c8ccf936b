"""Units: what a number in a Chinese text measures (人 counts people, 亿元 money, 倍 a ratio).

One table for every layer, and the units each kind of 多少 question accepts.  The value parser
(``assistant.values``) compares amounts of one kind; a question's expected answer (``assistant.question``)
accepts the units of its kind.
"""
from __future__ import annotations

from typing import Literal

UnitKind = Literal["people", "money", "area", "percent", "count", "ratio"]

UNITS: dict[str, UnitKind] = {
    **dict.fromkeys(("人", "人次", "名", "位", "居民", "群众", "学生", "志愿者", "干部"), "people"),
    **dict.fromkeys(("元", "亿元", "万元", "钱"), "money"),
    "亿": "money",  # alone only in a question (多少亿); in a text it is a magnitude (760亿元, 15万人)
    **dict.fromkeys(("平方公里", "亩", "公顷", "平方米"), "area"),
    # 百分 (百分之五), and the words a percentage is a share of (比例, 研发投入强度, 增速, 增长)
    **dict.fromkeys(("%", "百分", "比例", "强度", "增速", "增长"), "percent"),
    **dict.fromkeys(("个", "项", "所", "张", "家", "户", "条", "部", "封", "座", "处", "次"), "count"),
    "倍": "ratio",
    "届": "count",
}


def units_of(*kinds: UnitKind) -> tuple[str, ...]:
    """The units of these kinds, in the table's order."""
    return tuple(unit for unit, kind in UNITS.items() if kind in kinds)


# What a 多少/几 question asks for: the units of one kind (a ratio, 几倍, is asked for like a count, 几个).
UnitClass = Literal["people", "money", "area", "percent", "count"]
# The units that answer a 多少/几 question of each kind; 几倍 asks for a count like 几个 does.
UNIT_CLASSES: dict[UnitClass, tuple[str, ...]] = {
    "people": units_of("people"),
    "money": units_of("money"),
    "area": units_of("area"),
    "percent": units_of("percent"),
    "count": units_of("count", "ratio"),
}
# Words that say what a 多少 question measures when no unit follows (面积多大? 投资多少?); a percentage's units
# (比例, 增速 …) are tried first.
AREA_WORDS = ("面积",)
MONEY_WORDS = ("资金", "投资", "钱", "奖金", "金额", "经费")
