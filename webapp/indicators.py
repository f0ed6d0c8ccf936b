"""The indicators of every indexed document (found at ingest, kept in the document registry), searched, sorted,
paired (achievement with target) and written as CSV, for the 指标一览 tab and ``/api/indicators``.

The list is read once per revision of the index (a write of any process moves it): an upload's indicators are
there as soon as the upload is committed, without a restart.  A document committed before indicators were kept
has them found from its chunks here, once per revision (the next `python -m ingest` stores them).
"""
from __future__ import annotations

import csv
import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

from ingest.indicators import extract_indicators
from ingest.pairing import IndicatorPair, pair_indicators
from vectorstore.records import Indicator
from webapp.document_view import view_link
from webapp.index import IndexService
from webapp.types import IndicatorEntry, IndicatorList, IndicatorPairEntry

IndicatorSort = Literal["document", "subject", "value", "period", "orientation"]
SORT_KEYS: tuple[str, ...] = get_args(IndicatorSort)
CSV_FIELDS = ("subject", "value", "unit", "period", "orientation", "text", "doc_id", "source", "start", "end",
              "section", "link")
CSV_BOM = "\ufeff"  # spreadsheet programs read the file as UTF-8 only with it


@dataclass(frozen=True)
class IndicatorQuery:
    """What the table, the API and the CSV are filtered and sorted by."""

    q: str = ""  # words the subject, the quote or the section must hold (all of them)
    doc_id: str | None = None
    orientation: str | None = None  # "actual" | "target"
    section: str | None = None  # a section path, or its beginning
    sort: IndicatorSort = "document"

    def matches(self, i: Indicator) -> bool:
        if self.doc_id and i.doc_id != self.doc_id:
            return False
        if self.orientation and i.orientation != self.orientation:
            return False
        if self.section and not i.section.startswith(self.section):
            return False
        haystack = f"{i.subject} {i.text} {i.section} {i.period} {i.source}".lower()
        return all(word in haystack for word in self.q.lower().split())


@dataclass(frozen=True)
class _Snapshot:
    revision: object
    indicators: tuple[Indicator, ...]
    pairs: tuple[IndicatorPair, ...]


class IndicatorService:
    def __init__(self, index: IndexService) -> None:
        self.index = index
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    def all(self) -> tuple[tuple[Indicator, ...], tuple[IndicatorPair, ...]]:
        """Every committed document's indicators in document order, and their pairs (read once per revision)."""
        store = self.index.store
        revision = store.revision()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.revision == revision:
            return snapshot.indicators, snapshot.pairs
        with self._lock:
            snapshot = self._snapshot
            if snapshot is None or snapshot.revision != revision:
                kept = store.indicators()
                names = {d.doc_id: d.source for d in store.documents()}
                found: list[Indicator] = []
                for doc_id in sorted(kept, key=lambda d: names.get(d, d)):
                    stored = kept[doc_id]
                    found += stored if stored is not None else self._from_chunks(doc_id)
                snapshot = _Snapshot(revision, tuple(found), tuple(pair_indicators(found)))
                self._snapshot = snapshot
        return snapshot.indicators, snapshot.pairs

    def _from_chunks(self, doc_id: str) -> list[Indicator]:
        """A document committed before indicators were kept: found from its chunks."""
        chunks = self.index.store.all_chunks(where={"doc_id": doc_id})
        return extract_indicators(chunks, limit=self.index.settings.ingest.max_document_indicators)

    def search(self, query: IndicatorQuery) -> tuple[list[Indicator], list[IndicatorPair]]:
        """The indicators the query keeps, sorted; the pairs with a member among them."""
        everything, pairs = self.all()
        kept = [i for i in everything if query.matches(i)]
        order = {id(i): n for n, i in enumerate(everything)}
        if query.sort == "subject":
            kept.sort(key=lambda i: (i.subject, order[id(i)]))
        elif query.sort == "value":
            kept.sort(key=lambda i: (-i.value, order[id(i)]))
        elif query.sort == "period":
            kept.sort(key=lambda i: (i.period or "~", order[id(i)]))
        elif query.sort == "orientation":
            kept.sort(key=lambda i: (i.orientation, order[id(i)]))
        ids = {id(i) for i in kept}
        return kept, [p for p in pairs if id(p.actual) in ids or id(p.target) in ids]

    def listing(self, query: IndicatorQuery) -> IndicatorList:
        kept, pairs = self.search(query)
        return IndicatorList(indicators=[entry(i) for i in kept], total=len(kept),
                             pairs=[pair_entry(p) for p in pairs])

    def csv(self, query: IndicatorQuery) -> str:
        kept, _ = self.search(query)
        return to_csv(kept)

    def sections(self) -> list[str]:
        """The section paths that hold indicators, in document order."""
        everything, _ = self.all()
        return list(dict.fromkeys(i.section for i in everything if i.section))


def entry(i: Indicator, relative: bool = False) -> IndicatorEntry:
    return IndicatorEntry.of(i, view_link(i.doc_id, i.start, i.end, relative=relative))


def pair_entry(p: IndicatorPair) -> IndicatorPairEntry:
    return IndicatorPairEntry(subject=p.actual.subject, actual=entry(p.actual), target=entry(p.target),
                              similarity=p.similarity)


def chart_pairs(pairs: Iterable[IndicatorPair]) -> list[IndicatorPair]:
    """One pair per achievement (its most alike target; one from another document when it ties), for the chart."""
    best: dict[tuple[str, int], IndicatorPair] = {}
    for p in pairs:
        key = (p.actual.doc_id, p.actual.value_start)
        other_doc = p.target.doc_id != p.actual.doc_id
        current = best.get(key)
        if current is None or (p.similarity, other_doc) > (
            current.similarity, current.target.doc_id != current.actual.doc_id
        ):
            best[key] = p
    return sorted(best.values(), key=lambda p: (p.actual.source, p.actual.start))


def value_text(i: Indicator) -> str:
    """The number as the table shows it (760, 1.64, 14.7)."""
    return f"{i.value:g}" if isinstance(i.value, float) else str(i.value)


def to_csv(indicators: Iterable[Indicator]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for i in indicators:
        writer.writerow([i.subject, value_text(i), i.unit, i.period, i.orientation, i.text,
                         i.doc_id, i.source, i.start, i.end, i.section, view_link(i.doc_id, i.start, i.end)])
    return CSV_BOM + out.getvalue()
