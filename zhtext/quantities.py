"""Quantities as Chinese reports print them: a number, its magnitude, its measure word, and the words around it.

「760亿元」, 「14.7万户」, 「6万余人」, 「80多万」, 「300个以上」, 「8%以上」, 「1.64倍」, 「近一倍」.
What a quantity is *not*: a date or a year (2020年, 7月20日), a span of time (10天后, 24小时, 3个月),
an ordinal (第十一届), a number inside a name (9+3+N, 5G), a number with nothing after it (「1 项目为王」).
Numbers written in Chinese
characters count only before 倍 (增加了一倍): elsewhere a small Chinese count is, in these texts, part of a name or
a slogan (“六个区”, 五链, 八大行动, 千亩森林公园), while statistics are printed in digits.

Also here: the clause a quantity stands in, the period words around it (到2025年, 五年来, 今后五年, “十四五”), and
the words that stand between a subject and its number (达到, 突破, 超过 …).  The patterns are the indicator
extractor's (:mod:`ingest.indicators`); the answerer's value parser (:mod:`assistant.values`) keeps its own, which its
model was fitted on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from zhtext.numerals import DIGITS, HUNDRED, LIANG, TEN, THOUSAND, WAN, YI, to_int

# Measure words and units, the longest first where one begins another (平方公里 before 公里).
MEASURES = (
    "个百分点", "百分点", "平方公里", "平方千米", "平方米", "立方米", "千瓦时", "千瓦", "公顷", "公里", "千米",
    "美元", "元", "吨", "亩", "米",
    "人次", "人", "名", "位", "户", "家", "个", "项", "所", "张", "条", "部", "封", "座", "处", "辆", "套",
    "间", "栋", "台", "件", "场", "批", "支", "棵", "株", "篇", "册", "份", "例", "起", "次", "床",
    "%", "％", "倍",
)
# After a measure word, these make the number a span of time (3个月, 两个小时), never an amount.
TIME_AFTER = ("月", "小时", "工作日", "星期", "周", "年", "天", "季度")
# Written after the number as a span of time or a date: not a quantity at all (10天后, 24小时, 2020年, 7月20日).
_TIME_UNITS = "年|月|日|天|小时|时|分钟|分|秒|周|季度|世纪|号|点|届|期|级|岁"
_MAGNITUDE = rf"[{TEN}{HUNDRED}{THOUSAND}{WAN}{YI}]+"
_MEASURE = "|".join(re.escape(m) for m in MEASURES)
_APPROX_AFTER = "多|余|来"
_BOUND_AFTER = "以上|以下|左右|之多|有余"

QUANTITY = re.compile(
    r"(?<![\d.A-Za-z第+\-/])"
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    rf"(?P<approx1>{_APPROX_AFTER})?"
    rf"(?P<magnitude>{_MAGNITUDE})?"
    rf"(?P<approx2>{_APPROX_AFTER})?"
    rf"(?P<measure>{_MEASURE})?"
    rf"(?P<bound>{_BOUND_AFTER})?"
)
# A multiple written in Chinese numerals (一倍, 两倍, 十倍), not after 第.
CHINESE_MULTIPLE = re.compile(rf"(?<!第)(?P<number>[{DIGITS}{LIANG}{TEN}]+)(?P<measure>倍)")
_NOT_AFTER = re.compile(rf"^(?:{_TIME_UNITS}|[A-Za-z+\-/:：])")
_SCALE = {TEN: 10.0, HUNDRED: 100.0, THOUSAND: 1000.0, WAN: 1e4, YI: 1e8}
# Words right before a number that bound it (超100万人次, 突破1200亿元, 近一倍, 约3000人).
BEFORE_NUMBER = ("超过", "超", "突破", "逾", "近", "约", "达", "将近", "接近", "不少于", "不低于", "至少", "多达")
PERCENT = ("%", "％", "个百分点", "百分点")
# Alone before a number, a change of the figure before it (…760亿元,年均增长8%以上): that figure's subject carries on.
CHANGE = re.compile(r"(?:年均|同比|比上年|较上年|比去年|较去年|五年间|累计)?"
                    r"(?:增长|增加|下降|减少|提高|降低|提升|增幅|增速|扩大|缩小|翻番|上升)了?")


@dataclass(frozen=True)
class Quantity:
    """A number with its magnitude and measure word: ``text[start:end]`` is 「6万余人」; value 6, unit 万人,
    qualifier 余 (the approximations and bounds around it, as printed)."""

    start: int
    end: int
    value: float
    unit: str
    qualifier: str = ""

    @property
    def measure(self) -> str:
        """The unit without its magnitude (人 of 万人, 元 of 亿元; empty for 15万 before a noun)."""
        return self.unit.lstrip(TEN + HUNDRED + THOUSAND + WAN + YI) or ("" if _is_magnitude(self.unit) else self.unit)

    def base(self) -> tuple[float, str]:
        """The amount with its magnitude multiplied out, and the measure: 6万人 → (60000, 人), 760亿元 →
        (7.6e10, 元)."""
        scale = 1.0
        for ch in self.unit[: len(self.unit) - len(self.measure)]:
            scale *= _SCALE.get(ch, 1.0)
        return round(self.value * scale, 6), self.measure


def _is_magnitude(unit: str) -> bool:
    return bool(unit) and all(ch in _SCALE for ch in unit)


def _number(text: str) -> float:
    value = float(text.replace(",", "")) if text[0].isdigit() else float(to_int(text))
    return int(value) if value.is_integer() else value


def quantities(text: str) -> list[Quantity]:
    """Every quantity of ``text``, in order, never overlapping."""
    found: list[Quantity] = []
    for m in QUANTITY.finditer(text):
        magnitude, measure = m.group("magnitude") or "", m.group("measure") or ""
        after = text[m.end():]
        if not (magnitude or measure) or _NOT_AFTER.match(text[m.end("number"):m.end("number") + 2]):
            continue  # a bare number, a year, a date, a time
        if measure and not magnitude and _NOT_AFTER.match(after):
            continue
        if measure == "个" and after.startswith(TIME_AFTER):
            continue  # 3个月: a span of time
        if magnitude and not measure and _NOT_AFTER.match(after):
            continue
        qualifier = "".join(m.group(g) or "" for g in ("approx1", "approx2", "bound"))
        found.append(Quantity(m.start(), m.end(), _number(m.group("number")), magnitude + measure, qualifier))
    taken = [(q.start, q.end) for q in found]
    for m in CHINESE_MULTIPLE.finditer(text):
        if not any(a < m.end() and m.start() < b for a, b in taken):
            found.append(Quantity(m.start(), m.end(), _number(m.group("number")), "倍"))
    return sorted(found, key=lambda q: q.start)


def bound_before(text: str, start: int) -> str:
    """The word right before a number that bounds it (超, 突破, 近 …), or ""."""
    head = text[max(0, start - 4):start]
    return next((w for w in BEFORE_NUMBER if head.endswith(w)), "")


# --- clauses and periods ---------------------------------------------------------------------------------------
CLAUSE_END = ",，;；。!！?？:：\n"
_CLAUSE = re.compile(rf"[^{CLAUSE_END}]+")
DASHES = ("——", "……")


def clauses(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """The clauses of ``text[start:end]`` (between commas, semicolons, full stops, colons and dashes) as spans."""
    end = len(text) if end is None else end
    spans = []
    for m in _CLAUSE.finditer(text, start, end):
        a = m.start()
        piece = m.group(0)
        for dash in DASHES:
            piece = piece.replace(dash, "\0" * len(dash))
        for part in re.finditer(r"[^\0]+", piece):
            spans.append((a + part.start(), a + part.end()))
    return [(a, b) for a, b in spans if text[a:b].strip()]


# A year the figure is for: 2020年, 到2025年, 2022年7月底前, 2021年度.  Group "year".
PERIOD_YEAR = re.compile(r"(?P<year>(?:19|20)\d\d)年")
# A year a figure is compared with, not the figure's own: 是2015年的1.64倍, 比2015年, 较2015年.
COMPARED_YEAR = re.compile(r"(?:是|比|较|为|相当于|同比|比上年|与)(?:19|20)\d\d年(?:的|相比|同期)?")
# The texts' own words for a span of years: 五年来, 五年间, 今后五年, 未来五年, 五年内, “十四五”期间, 近三年.
PERIOD_WORDS = re.compile(
    rf"(?:今后|未来|过去|近|这)?(?<!\d)(?:\d{{1,2}}|[{DIGITS}{LIANG}{TEN}]+)年(?:来|间|内|以来)"
    rf"|(?:今后|未来|过去|近)(?:\d{{1,2}}|[{DIGITS}{LIANG}{TEN}]+)年"
    rf"|“?十[{DIGITS}]五”?(?:时期|期间|末|期)?"
)


def periods(text: str) -> list[tuple[int, int, str]]:
    """(start, end, period) of each period expression: a year as its four digits, a span as written."""
    compared = [(m.start(), m.end()) for m in COMPARED_YEAR.finditer(text)]
    found = [
        (m.start(), m.end(), m.group("year"))
        for m in PERIOD_YEAR.finditer(text)
        if not any(a <= m.start() < b for a, b in compared)
    ]
    found += [(m.start(), m.end(), m.group(0).strip("“”")) for m in PERIOD_WORDS.finditer(text)]
    return sorted(found)


def compared_with(text: str) -> str:
    """The comparison a clause makes of its figure (是2015年的 → 2015年), or ""."""
    m = COMPARED_YEAR.search(text)
    return PERIOD_YEAR.search(m.group(0)).group(0) if m and PERIOD_YEAR.search(m.group(0)) else ""  # type: ignore[union-attr]
