"""zhtext.chars and zhtext.asking: quoted terms, character pairs, question words."""
from __future__ import annotations

from zhtext.asking import ASKING, ASKING_OR_WHETHER, ASKS_FOR_SOMETHING
from zhtext.chars import pairs, quoted


def test_quoted_terms_within_bounds() -> None:
    text = "推行“官方带娃”模式,打造「六个区」与『一』个“很长很长很长很长的名字”\"甲乙\""
    assert quoted(2, 8).findall(text) == ["官方带娃", "六个区", "甲乙"]
    assert quoted(1, 10).findall(text) == ["官方带娃", "六个区", "一", "甲乙"]
    assert "很长很长很长很长的名字" in quoted(1, 11).findall(text)
    assert quoted(2, 10).findall("“跨\n行”") == ["跨\n行"] and quoted(2, 10, one_line=True).findall("“跨\n行”") == []


def test_character_pairs() -> None:
    assert pairs("二七区") == ["二七", "七区"]
    assert pairs("甲") == [] and pairs("") == []


def test_question_words() -> None:
    assert ASKING.sub(" ", "福华颐养院在哪里?") == "福华颐养院在 ?"
    assert ASKING.split("是否在哪里") == ["是否在", "哪里", ""]
    assert ASKING_OR_WHETHER.split("是否在哪里") == ["", "是否", "在", "哪里", ""]
    assert not ASKS_FOR_SOMETHING.search("那二七华侨城项目呢?"), "呢 asks what the question before asked"
    assert ASKS_FOR_SOMETHING.search("怎能如此") and ASKS_FOR_SOMETHING.search("是否完成")
