"""Achievement against target: which actual indicator goes with which target indicator of the same subject.

A wrong pair is worse than a missing one, so a pair needs all of:

* the same measure once 万/亿 are multiplied out (亿元 with 亿元, 个 with 个; never 倍 with %);
* subjects with the same head: the last word of one subject is in the other (地区生产总值 / 地区生产总值,
  完成投资 / 完成投资总额, 运作重大项目 / 新开工项目), and they share at least :data:`MIN_SIMILARITY` of their
  character pairs (Dice);
* an achievement not dated after its target (2020 before 2025, when both give a year).

Then each achievement takes at most one target of each document and each target at most one achievement of each
document, the most similar subjects first (「引进龙头产业项目96个」 takes 「引进60个以上重大产业项目」, so
「运作770个重大项目」 is left with 「新开工项目300个以上」).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vectorstore.records import Indicator
from zhtext.quantities import Quantity
from zhtext.words import COMMON, Segmenter

MIN_SIMILARITY = 0.15  # Dice of character pairs: 运作重大项目 / 新开工项目 is 0.22, 签约额 / 完成投资总额 is 0
MIN_HEAD_CHARS = 2  # a one-character head (额, 率) says too little


@dataclass(frozen=True)
class IndicatorPair:
    actual: Indicator
    target: Indicator
    similarity: float


def measure_of(indicator: Indicator) -> tuple[float, str]:
    """(amount with its magnitude multiplied out, measure): 760 亿元 → (7.6e10, 元)."""
    return Quantity(0, 0, indicator.value, indicator.unit).base()


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text if "\u4e00" <= c <= "\u9fff" or c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def similarity(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    return 2 * len(x & y) / (len(x) + len(y)) if x and y else 0.0


def head(subject: str, segmenter: Segmenter = COMMON) -> str:
    """The last word of a subject, without what follows it in brackets (地区生产总值(与2015年相比) → 生产总值)."""
    core = subject.split("(")[0].strip("“”「」 ")
    words = [w for w in segmenter.cut(core) if w.strip()]
    return words[-1] if words else ""


def _year(period: str) -> int | None:
    return int(period) if period.isdigit() and len(period) == 4 else None


def comparable(a: Indicator, t: Indicator, segmenter: Segmenter = COMMON) -> float | None:
    """How alike the subjects of an achievement and a target are, or None when they cannot be a pair."""
    if a.orientation != "actual" or t.orientation != "target":
        return None
    if measure_of(a)[1] != measure_of(t)[1] or a.unit.endswith("倍") != t.unit.endswith("倍"):
        return None
    ya, yt = _year(a.period), _year(t.period)
    if ya is not None and yt is not None and ya > yt:
        return None
    ha, ht = head(a.subject, segmenter), head(t.subject, segmenter)
    if not ((len(ha) >= MIN_HEAD_CHARS and ha in t.subject) or (len(ht) >= MIN_HEAD_CHARS and ht in a.subject)):
        return None
    score = similarity(a.subject, t.subject)
    return score if score >= MIN_SIMILARITY else None


def pair_indicators(indicators: Sequence[Indicator], segmenter: Segmenter = COMMON) -> list[IndicatorPair]:
    """The pairs, the most similar first; each achievement with at most one target per document, and back."""
    actual = [i for i in indicators if i.orientation == "actual"]
    target = [i for i in indicators if i.orientation == "target"]
    candidates = []
    for a in actual:
        for t in target:
            score = comparable(a, t, segmenter)
            if score is not None:
                candidates.append(IndicatorPair(a, t, round(score, 4)))
    candidates.sort(key=lambda p: (-p.similarity, p.actual.doc_id, p.actual.start, p.target.doc_id, p.target.start))
    taken_actual: set[tuple[str, int, str]] = set()
    taken_target: set[tuple[str, int, str]] = set()
    pairs = []
    for p in candidates:
        a_key = (p.actual.doc_id, p.actual.value_start, p.target.doc_id)
        t_key = (p.target.doc_id, p.target.value_start, p.actual.doc_id)
        if a_key in taken_actual or t_key in taken_target:
            continue
        taken_actual.add(a_key)
        taken_target.add(t_key)
        pairs.append(p)
    return pairs
