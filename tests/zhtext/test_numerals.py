"""zhtext.numerals and zhtext.units: the one numeral parser and the one unit table."""
from __future__ import annotations

import re

import pytest

from zhtext.numerals import BEYOND_TWO, LARGE, SMALL, UP_TO_TEN, VALUE, is_exact, to_int
from zhtext.units import UNITS, units_of


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2025", 2025),
        ("两", 2),
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("二十三", 23),
        ("一百零五", 105),
        ("两百", 200),
        ("零", 0),
        ("六七", 7),
        ("二二八", 8),
    ],
)
def test_to_int(text: str, value: int) -> None:
    assert to_int(text) == value


def test_exact_numerals_are_positional() -> None:
    assert all(is_exact(t) for t in ("2025", "两", "十", "十五", "二十", "一百零五", "两百"))
    assert not any(is_exact(t) for t in ("", "六七", "二二八", "十二三", "1十"))


def test_the_character_sets() -> None:
    assert set(UP_TO_TEN) == set("一二三四五六七八九十")
    assert set(SMALL) == set(UP_TO_TEN) | {"两"}
    assert set(VALUE) == set(SMALL) | {"百", "零"}
    assert set(LARGE) == set(SMALL) | {"百", "千", "万"}
    assert set(BEYOND_TWO) == set("两三四五六七八九十")
    assert re.fullmatch(rf"[{SMALL}]+", "二十两")


def test_one_unit_table() -> None:
    assert UNITS["亿元"] == "money" and UNITS["人次"] == "people" and UNITS["%"] == "percent"
    assert UNITS["倍"] == "ratio", "倍 measures a ratio; a 几倍 question accepts it with the counts"
    assert units_of("count", "ratio") == (
        "个",
        "项",
        "所",
        "张",
        "家",
        "户",
        "条",
        "部",
        "封",
        "座",
        "处",
        "次",
        "倍",
        "届",
    )
