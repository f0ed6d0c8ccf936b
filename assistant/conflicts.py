"""Sources that disagree: one figure, for the same year and the same kind of statement, given differently.

「2020年,二七区地区生产总值达到760亿元」 in the review and 「二七区2020年地区生产总值为9999亿元」
in an uploaded "statistics bulletin" cannot both be right.  An answer quoting both says so and
lists the official source (bundled with the product, then the server's own corpus folder, then
the command line, then uploads) first, the others named by where they came from; the fact-checker
reads every document that speaks to the claim and says when they disagree.
A 2020 result and a 2025 target of the same figure are not a conflict; nor are two years.
"""
from __future__ import annotations

from collections.abc import Mapping

from assistant import texts
from assistant.types import Quote
from assistant.values import parse_values
from vectorstore.records import Origin
from zhtext.dates import YEAR
from zhtext.orientation import orientation_of

ORIGIN_RANK: dict[str, int] = {"bundled": 0, "folder": 1, "cli": 2, "upload": 3, "unknown": 4}
SCOPE_KINDS = ("year", "date", "year_month", "ordinal")  # these set a statement's scope; they are not its figure
_TARGETS = ("target", "mixed")


def _figures(text: str) -> dict[str, set[tuple]]:
    """The amounts of ``text`` by kind (money, percent, count:个 …); years, dates and ordinals left out."""
    out: dict[str, set[tuple]] = {}
    for v in parse_values(text):
        if v.kind not in SCOPE_KINDS:
            out.setdefault(v.measure, set()).add(v.amount)
    return out


def _years(text: str) -> frozenset[str]:
    return frozenset(YEAR.findall(text))


def same_scope(a: str, b: str) -> bool:
    """Both results or both targets, for a year they share (or neither names a year)."""
    ya, yb = _years(a), _years(b)
    same_years = bool(ya & yb) or not (ya or yb)
    return same_years and (orientation_of(a) in _TARGETS) == (orientation_of(b) in _TARGETS)


def disagree(a: str, b: str) -> bool:
    """Two statements with the same scope give different amounts of one kind and share none of them."""
    if not same_scope(a, b):
        return False
    fa, fb = _figures(a), _figures(b)
    return any(kind in fb and not (fa[kind] & fb[kind]) for kind in fa)


def conflicting(quotes: list[Quote]) -> bool:
    """Quotes from different documents that disagree (see :func:`disagree`)."""
    return any(a.chunk.doc_id != b.chunk.doc_id and disagree(a.text, b.text)
               for i, a in enumerate(quotes) for b in quotes[i + 1 :])


def standing(doc_id: str, origins: Mapping[str, Origin]) -> int:
    """The rank of a document's origin: 0 for the official (bundled) reports, larger for less standing."""
    return ORIGIN_RANK.get(origins.get(doc_id, "unknown"), len(ORIGIN_RANK))


def official_first(quotes: list[Quote], origins: Mapping[str, Origin]) -> list[Quote]:
    """The quotes ordered by the standing of their documents (stable within one standing)."""
    return sorted(quotes, key=lambda q: standing(q.chunk.doc_id, origins))


def source_label(origin: Origin | str, source: str) -> str:
    """How an answer names a document by its standing: 官方资料, or 上传的资料「统计公报.txt」."""
    if origin == "bundled":
        return texts.ORIGIN_NAMES["bundled"]
    name = texts.ORIGIN_NAMES.get(origin, texts.ORIGIN_NAMES["unknown"])
    return texts.SOURCE_LABEL.format(origin=name, source=source)
