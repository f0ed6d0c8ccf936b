"""assistant.values: the checkable values of a sentence, and when two of them are the same."""
from __future__ import annotations

import pytest

from assistant.values import parse_values, same


def values(text: str) -> list[tuple[str, tuple, str]]:
    return [(v.measure, v.amount, v.text) for v in parse_values(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020年,二七区地区生产总值达到760亿元", [("year", (2020,), "2020年"), ("money", (76000000000.0,), "760亿元")]),
        ("增长11.5%", [("percent", (11.5,), "11.5%")]),
        ("68.45平方公里", [("area", (68.45,), "68.45平方公里")]),
        ("是2015年的1.64倍", [("year", (2015,), "2015年"), ("ratio", (1.64,), "1.64倍")]),
        ("7月20日", [("date", (7, 20), "7月20日")]),
        ("2021年7月", [("year_month", (2021, 7), "2021年7月")]),
        ("第十一届", [("ordinal", (11, "届"), "第十一届")]),
        ("三所学校", [("count:所", (3.0,), "三所")]),
        ("一百零五个", [("count:个", (105.0,), "一百零五个")]),
        (
            "六七个人",
            [("count:个", (7.0,), "六七个")],
        ),  # a run of digits counts as its last one (zhtext.numerals.to_int)
        ("近一倍", []),  # a numeral inside a word is not a value
    ],
)
def test_values_of_a_sentence(text: str, expected: list) -> None:
    assert values(text) == expected


def test_a_date_wins_over_its_year() -> None:
    assert values("2021年7月20日") == [("date", (7, 20), "2021年7月20日")]


def test_the_same_amount_written_two_ways_is_the_same_value() -> None:
    [a], [b] = parse_values("9.8万名居民"), parse_values("9.8万居民")
    assert a.kind == b.kind == "people" and same(a, b)
    [c], [d] = parse_values("增长15%"), parse_values("增长11.5%")
    assert not same(c, d)


def test_counts_of_different_things_differ() -> None:
    [schools], [items] = parse_values("三所"), parse_values("三个")
    assert schools.kind == items.kind == "count" and schools.amount == items.amount
    assert (schools.unit, items.unit) == ("所", "个") and not same(schools, items)


def test_offsets_point_into_the_text() -> None:
    text = "2020年,二七区地区生产总值达到760亿元"
    assert all(text[v.start : v.start + len(v.text)] == v.text for v in parse_values(text))
