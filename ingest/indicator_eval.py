"""`python -m ingest.indicator_eval`: the indicator extractor and the pairing against the hand-checked lists of
the two bundled reports (data/indicators/gold.jsonl, pairs.jsonl; how they were made: data/indicators/README.md).

An extracted record matches a gold record when it comes from the same report, its number overlaps the gold
``value_text``, value and unit agree once 万/亿 are multiplied out, the orientation agrees and the subject holds one
of the gold ``subject_keys``.  Precision: matching records / extracted records; recall: matched gold records / gold
records (each matched once).  Pairing precision: pairs whose two records match a gold pair / pairs made.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.chunker import chunk_text
from ingest.indicators import extract_indicators
from ingest.pairing import IndicatorPair, measure_of, pair_indicators
from ingest.settings import ChunkingParams
from vectorstore.records import Indicator

REPO = Path(__file__).resolve().parent.parent
GOLD_DIR = REPO / "data" / "indicators"
CORPUS = REPO / "data" / "corpus"


@dataclass(frozen=True)
class GoldIndicator:
    id: str
    source: str
    value_start: int
    value_end: int
    value: float
    unit: str
    orientation: str
    subject: str
    subject_keys: tuple[str, ...]
    period: str


@dataclass
class IndicatorScore:
    extracted: int = 0
    gold: int = 0
    matched: int = 0  # extracted records that match a gold record
    found: int = 0  # gold records matched
    pairs: int = 0
    pairs_right: int = 0
    gold_pairs: int = 0
    pairs_found: int = 0
    wrong: list[dict[str, Any]] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    wrong_pairs: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched / self.extracted if self.extracted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def pairing_precision(self) -> float:
        return self.pairs_right / self.pairs if self.pairs else 1.0

    @property
    def pairing_recall(self) -> float:
        return self.pairs_found / self.gold_pairs if self.gold_pairs else 1.0

    def figures(self) -> dict[str, Any]:
        return {
            "extracted": self.extracted, "gold": self.gold, "matched": self.matched, "found": self.found,
            "precision": round(self.precision, 4), "recall": round(self.recall, 4),
            "pairs": self.pairs, "pairs_right": self.pairs_right, "gold_pairs": self.gold_pairs,
            "pairing_precision": round(self.pairing_precision, 4), "pairing_recall": round(self.pairing_recall, 4),
            "wrong": self.wrong, "missed": self.missed, "wrong_pairs": self.wrong_pairs,
        }


def load_gold(folder: Path = GOLD_DIR, corpus: Path = CORPUS) -> tuple[list[GoldIndicator], dict[str, set[str]]]:
    """The gold records with their offsets (found from their quotes), and actual id → the target ids it pairs with."""
    records = []
    texts: dict[str, str] = {}
    for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        g = json.loads(line)
        text = texts.setdefault(g["source"], (corpus / g["source"]).read_text(encoding="utf-8"))
        if text.count(g["quote"]) != 1:
            raise ValueError(f"{g['id']}: the quote must occur exactly once in {g['source']}")
        start = text.index(g["quote"]) + g["quote"].index(g["value_text"])
        records.append(GoldIndicator(g["id"], g["source"], start, start + len(g["value_text"]), g["value"], g["unit"],
                                     g["orientation"], g["subject"], tuple(g["subject_keys"]), g["period"]))
    pairs: dict[str, set[str]] = {}
    for line in (folder / "pairs.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            p = json.loads(line)
            pairs[p["actual"]] = set(p["targets"])
    return records, pairs


def extract_corpus(corpus: Path = CORPUS, params: ChunkingParams | None = None) -> list[Indicator]:
    """The indicators of every report of ``corpus``, chunked as `python -m ingest` chunks them."""
    params = params or ChunkingParams()
    found: list[Indicator] = []
    for path in sorted(corpus.glob("*.txt")):
        found += extract_indicators(chunk_text(path.read_text(encoding="utf-8"), path.name, params))
    return found


def _mismatch(i: Indicator, g: GoldIndicator) -> str | None:
    """Why ``i`` does not match ``g`` (None when it does)."""
    if i.source != g.source or not (i.value_start < g.value_end and g.value_start < i.value_end):
        return "no gold record here"
    if measure_of(i) != measure_of(_as(g)):
        return f"value {i.value}{i.unit}, gold {g.value}{g.unit}"
    if i.orientation != g.orientation:
        return f"orientation {i.orientation}, gold {g.orientation}"
    if not any(k in i.subject for k in g.subject_keys):
        return f"subject {i.subject!r}, gold {g.subject!r}"
    return None


def _as(g: GoldIndicator) -> Indicator:
    return Indicator(g.subject, g.value, g.unit, g.period, g.orientation, "", "", g.source, 0, 0)  # type: ignore[arg-type]


def score(found: list[Indicator], gold: list[GoldIndicator], gold_pairs: dict[str, set[str]],
          pairs: list[IndicatorPair]) -> IndicatorScore:
    result = IndicatorScore(extracted=len(found), gold=len(gold))
    match: dict[int, str] = {}  # id(indicator) → gold id
    used: set[str] = set()
    for i in found:
        reasons = []
        for g in gold:
            why = _mismatch(i, g)
            if why is None and g.id not in used:
                match[id(i)] = g.id
                used.add(g.id)
                break
            if why != "no gold record here":
                reasons.append(f"{g.id}: {why}")
        if id(i) in match:
            result.matched += 1
        else:
            result.wrong.append({"source": i.source, "text": i.text, "subject": i.subject, "value": i.value,
                                 "unit": i.unit, "orientation": i.orientation,
                                 "why": "; ".join(reasons) or "no gold record here"})
    result.found = len(used)
    result.missed = [g.id for g in gold if g.id not in used]
    result.gold_pairs = sum(len(t) for t in gold_pairs.values())
    right: set[tuple[str, str]] = set()
    result.pairs = len(pairs)
    for p in pairs:
        a, t = match.get(id(p.actual)), match.get(id(p.target))
        if a is not None and t is not None and t in gold_pairs.get(a, set()):
            result.pairs_right += 1
            right.add((a, t))
        else:
            result.wrong_pairs.append(f"{p.actual.subject} {p.actual.value}{p.actual.unit} → "
                                      f"{p.target.subject} {p.target.value}{p.target.unit}")
    result.pairs_found = len(right)
    return result


def evaluate(corpus: Path = CORPUS, folder: Path = GOLD_DIR) -> IndicatorScore:
    gold, gold_pairs = load_gold(folder, corpus)
    found = extract_corpus(corpus)
    return score(found, gold, gold_pairs, pair_indicators(found))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    figures = evaluate().figures()
    text = json.dumps(figures, ensure_ascii=False, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
