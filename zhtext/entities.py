"""Names of places, bodies and offices: 金水区 and 二七区 are rivals, 区长 and 区委书记 too.

A question about 金水区 answered from a sentence about 二七区 is answered about the wrong place,
and one about the 区长 from a sentence about the 区委书记 about the wrong person; the suffix
(or the office word) tells that both name the same kind of thing.
"""
from __future__ import annotations

import re

from zhtext.words import COMMON, Segmenter

# Places and bodies: a name ends with one of these (longest first: 街道 before 道).
NAME_SUFFIXES = tuple(sorted(
    [
        "省", "市", "区", "县", "镇", "乡", "村", "街道", "社区", "街", "路", "大道", "广场", "公园", "水库", "河",
        "湖", "山", "岛", "新区", "园区", "板块", "小镇", "商圈", "局", "委", "厅", "院", "校", "馆", "站", "中心",
        "公司", "集团", "银行", "医院", "学校", "小学", "中学", "大学", "学院", "幼儿园", "颐养院", "养老院", "协会",
        "联合会",
    ],
    key=len, reverse=True,
))
# Places that govern (金水区, 郑州市, 福华街街道): jieba tags such a name a plain noun, the suffix tells.
ADMINISTRATIVE_SUFFIXES = ("区", "县", "市", "省", "镇", "乡", "村", "街道")
# Offices: any two of these are rivals (区长 / 区委书记 / 副主任).
OFFICES = tuple(sorted(
    [
        "书记", "副书记", "主任", "副主任", "主席", "副主席", "委员", "区长", "副区长", "市长", "副市长", "县长",
        "省长", "镇长", "乡长", "村长", "局长", "副局长", "部长", "厅长", "处长", "科长", "校长", "院长", "馆长",
        "站长", "所长", "社长", "行长", "董事长", "总经理", "经理", "总裁", "秘书长",
    ],
    key=len, reverse=True,
))
_OFFICE = re.compile("|".join(OFFICES))


def entity_kind(word: str) -> str | None:
    """"office", or the suffix that makes ``word`` a place or body (金水区 → 区), or None."""
    if _OFFICE.search(word) and word.endswith(tuple(OFFICES)):
        return "office"
    # Two characters at least before the suffix: 金水区 is a name, 地区 and 园区 are words.
    return next((s for s in NAME_SUFFIXES if word.endswith(s) and len(word) - len(s) >= 2), None)


def rivals_of(word: str, text: str) -> list[str]:
    """Names in ``text`` of the same kind as ``word`` but not ``word`` (金水区 in a text about 二七区 → [二七区])."""
    kind = entity_kind(word)
    if kind is None or word in text:
        return []
    if kind == "office":
        return [m.group(0) for m in _OFFICE.finditer(text) if m.group(0) != word]
    width = len(word) - len(kind)  # names as long as the question's: 金水区 / 二七区, 福华颐养院 / 凤湖颐养院
    found = []
    for m in re.finditer(re.escape(kind), text):
        name = text[max(0, m.start() - width) : m.end()]
        if len(name) == len(word) and re.fullmatch(r"[\u4e00-\u9fff]+", name) and name != word:
            found.append(name)
    return found


COMMON_TAIL_FREQ = 1000  # 地区, 铁路, 城区: a tail this common in the dictionary is a word, not the end of a name
# Characters that never begin or fill a name: question, measure, time and function words (哪几个区,
# 几个学校, 这所学校, 2025年地区生产总值, 全区).
_NOT_IN_NAMES = frozenset("几哪多少啥什么谁个所座家位些这那各每其该本此的是在有了和与及或也都年月日号全")


def _name_like(prefix: str) -> bool:
    return re.fullmatch(r"[\u4e00-\u9fff]+", prefix) is not None and not set(prefix) & _NOT_IN_NAMES


def suffixed_spans(text: str, width: int = 2) -> list[str]:
    """Every ``width`` characters followed by a name suffix (管城区, 凤湖颐养院), names or not."""
    out = []
    for kind in NAME_SUFFIXES:
        for m in re.finditer(re.escape(kind), text):
            if m.start() >= width and _name_like(text[m.start() - width : m.start()]):
                out.append(text[m.start() - width : m.end()])
    return out


def names_in(text: str, segmenter: Segmenter = COMMON) -> list[str]:
    """Place and body names in ``text``: two or three characters starting on a word boundary, then a name
    suffix (金水区, 福华颐养院, 牛角社区), and office words (区长, 书记); each once, in order."""
    bounds = segmenter.boundaries(text)
    found: list[str] = []
    for kind in NAME_SUFFIXES:
        for m in re.finditer(re.escape(kind), text):
            for width in (2, 3):
                start = m.start() - width
                name = text[max(0, start) : m.end()]
                if start < 0 or start not in bounds or not _name_like(text[start : m.start()]):
                    continue
                if len(kind) == 1 and segmenter.frequency(name[-2:]) >= COMMON_TAIL_FREQ:
                    continue
                found.append(name)
                break
    found += [m.group(0) for m in _OFFICE.finditer(text)]
    return list(dict.fromkeys(n for n in found if entity_kind(n) is not None))
