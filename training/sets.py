"""Question sets for training and measuring the answerer: CMRC 2018 dev, DRCD dev, the gold set.

Every set is split **by article** into train / val / test (a stable hash of the article's
title), so no figure is measured on an article whose paragraphs were fitted on.

Near-miss unanswerables, SQuAD 2.0 style: in DRCD, some paragraphs of each article with
several paragraphs are held out of the index while their siblings stay in; a question of a
held-out paragraph is kept as unanswerable only if none of its gold answers occurs anywhere in
the indexed text.  CMRC has one paragraph per article, so its held-out paragraphs give
off-topic unanswerables (the index has nothing on that article at all).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bench.common import ROOT
from zhtext.entities import entity_kind, names_in

DATA = ROOT / "data" / "bench"
GOLD = ROOT / "data" / "eval" / "gold.jsonl"
EVERYDAY = ROOT / "data" / "eval" / "everyday.jsonl"
REPORTS_CHECK = ROOT / "data" / "eval" / "reports_check.jsonl"
REPORTS_TRAIN = ROOT / "data" / "train" / "reports_everyday.jsonl"
REPORT_SETS = {"gold": GOLD, "everyday": EVERYDAY, "reports_check": REPORTS_CHECK, "reports_train": REPORTS_TRAIN}
FROZEN = (EVERYDAY, REPORTS_CHECK)  # only ever tested on: never trained or tuned on
REPORTS = ROOT / "data" / "corpus"

Split = Literal["train", "val", "test"]
# Article buckets (0-99) of each split, per set: CMRC's test is its held-out half.
SPLITS: dict[str, dict[Split, range]] = {
    "cmrc": {"train": range(0, 40), "val": range(40, 50), "test": range(50, 100)},
    "drcd": {"train": range(0, 50), "val": range(50, 65), "test": range(65, 100)},
}
HOLDOUT_EVERY = {"cmrc": 10, "drcd": 2}  # about one paragraph in this many is held out of the index


@dataclass(frozen=True)
class Paragraph:
    pid: str
    article: str
    context: str
    prefix: str  # file name prefix: the set's name

    @property
    def filename(self) -> str:
        return f"{self.prefix}-{self.pid}.txt"


@dataclass(frozen=True)
class Item:
    """One question: its gold answers (any counts), its source file, and whether the index can answer it."""

    qid: str
    question: str
    answers: tuple[str, ...]
    source: str  # gold paragraph's file name (also for unanswerables: the held-out paragraph)
    answerable: bool
    split: Split
    kind: str = "wiki"  # wiki | gold type (fact, list, colloquial, …) | everyday | nearmiss
    history: tuple[dict, ...] = ()
    short: str = ""  # the minimal answer span, where the set gives one (reports_check)


@dataclass(frozen=True)
class QASet:
    name: str
    paragraphs: list[Paragraph]  # the indexed paragraphs (held-out ones are not here)
    items: list[Item]

    def split(self, *splits: Split) -> list[Item]:
        return [i for i in self.items if i.split in splits]

    def write_corpus(self, folder: Path) -> Path:
        """One UTF-8 .txt document per indexed paragraph (the context exactly as in the data set)."""
        folder.mkdir(parents=True, exist_ok=True)
        wanted = {p.filename for p in self.paragraphs}
        for old in folder.glob("*.txt"):
            if old.name not in wanted:
                old.unlink()
        for p in self.paragraphs:
            path = folder / p.filename
            if not path.exists() or path.read_text(encoding="utf-8") != p.context:
                path.write_text(p.context, encoding="utf-8")
        return folder


def bucket(key: str) -> int:
    """A stable bucket 0-99 of a string (sha1, not Python's salted hash)."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % 100


def split_of(name: str, article: str) -> Split:
    b = bucket(f"{name}:{article}")
    return next(s for s, r in SPLITS[name].items() if b in r)


def _held_out(name: str, pids: list[str]) -> set[str]:
    """The paragraphs of one article kept out of the index; an article always keeps one in."""
    every = HOLDOUT_EVERY[name]
    if name == "drcd" and len(pids) < 2:
        return set()
    out = {p for p in pids if bucket(f"holdout:{p}") % every == 0}
    if name == "drcd" and len(out) == len(pids):
        out.discard(pids[0])
    return out


def load_squad(name: str, path: Path | None = None) -> QASet:
    """CMRC 2018 dev (``cmrc``) or DRCD dev in simplified characters (``drcd``), split and with near misses."""
    path = path or DATA / ("cmrc2018_dev.json" if name == "cmrc" else "drcd_dev_simplified.json")
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    kept: list[Paragraph] = []
    pending: list[tuple[Paragraph, bool, dict]] = []
    for article in data:
        title = article.get("title", "")
        paragraphs = [Paragraph(p["id"], title, p["context"], name) for p in article["paragraphs"]]
        held = _held_out(name, [p.pid for p in paragraphs])
        for para, raw in zip(paragraphs, article["paragraphs"], strict=True):
            if para.pid not in held:
                kept.append(para)
            pending += [(para, para.pid in held, qa) for qa in raw["qas"]]
    indexed = "\n".join(p.context for p in kept)
    items = []
    for para, out, qa in pending:
        answers = tuple(dict.fromkeys(a["text"].strip() for a in qa["answers"] if a["text"].strip()))
        if out and any(a in indexed for a in answers):
            continue  # the index may hold the answer elsewhere: neither answerable nor a clean near miss
        items.append(Item(qa["id"], qa["question"], answers, para.filename, not out, split_of(name, para.article)))
    return QASet(name, kept, items)


ATTRIBUTE = "_attr"  # ``load_set("drcd_attr")``: DRCD with one asked fact taken out of many paragraphs


def with_attribute_gaps(qa: QASet, splits: tuple[Split, ...] = ("val", "test")) -> QASet:
    """Quantity/attribute near misses, end to end: in every paragraph (of ``splits``) with two or more questions,
    one question's fact is taken out (the sentences holding its answers are deleted from the indexed text)
    while the paragraph's other sentences stay: the question is then about the right subject, and the index
    says other things of it, but not the thing asked (a ticket price asked where only the location is
    given).  Kept only when no answer of it occurs anywhere in the indexed text.  The set's other paragraphs
    are indexed as they are; its items are the near misses alone (unanswerable, kind ``attribute``)."""
    from zhtext.sentences import Span, split_sentences

    by_source: dict[str, list[Item]] = {}
    for item in qa.items:
        if item.answerable and item.split in splits:
            by_source.setdefault(item.source, []).append(item)
    paragraphs, gaps = [], []
    for para in qa.paragraphs:
        group = by_source.get(para.filename, [])
        if len(group) >= 2:
            asked = group[bucket(f"gap:{para.pid}") % len(group)]
            spans = split_sentences(para.context, Span(0, len(para.context)))
            kept = "".join(s.text(para.context) for s in spans if not any(a in s.text(para.context)
                                                                           for a in asked.answers))
            if kept and len(kept) < len(para.context):
                paragraphs.append(Paragraph(para.pid, para.article, kept, para.prefix))
                gaps.append(asked)
                continue
        paragraphs.append(para)
    indexed = "\n".join(p.context for p in paragraphs)
    items = [Item(i.qid + "-gap", i.question, i.answers, i.source, False, i.split, "attribute")
             for i in gaps if not any(a in indexed for a in i.answers)]
    return QASet(qa.name + ATTRIBUTE, paragraphs, items)


_YEAR = re.compile(r"(?<!\d)((?:1[5-9]|20)\d\d)(?=年)")
_YEAR_SHIFTS = (1, 2, 3, -1, -2, -3)


def entity_pool(texts: Iterable[str]) -> dict[str, list[str]]:
    """Place, body and office names found in ``texts``, by kind (see zhtext.entities)."""
    pool: dict[str, set[str]] = {}
    for text in texts:
        for name in names_in(text):
            pool.setdefault(entity_kind(name) or "", set()).add(name)
    return {k: sorted(v) for k, v in pool.items()}


def _swap_entity(item: Item, context: str, pool: dict[str, list[str]]) -> str | None:
    """The question with its place, body or office replaced by another of the same kind that ``context`` lacks."""
    for name in sorted((n for n in names_in(item.question) if n in context), key=lambda w: (-len(w), w)):
        rivals = [r for r in pool.get(entity_kind(name) or "", []) if r not in context and r not in item.question]
        if rivals:
            return item.question.replace(name, rivals[bucket(item.qid + name) % len(rivals)])
    return None


def _swap_year(item: Item, context: str) -> str | None:
    m = _YEAR.search(item.question)
    if not m:
        return None
    year = int(m.group(1)) + _YEAR_SHIFTS[bucket(item.qid) % len(_YEAR_SHIFTS)]
    return None if f"{year}年" in context else item.question[: m.start()] + str(year) + item.question[m.end() :]


def swapped(qa: QASet, pool: dict[str, list[str]], splits: tuple[Split, ...] = ("train", "val")) -> list[Item]:
    """Near misses made from answerable questions: another place, body or office than the passage names, or another
    year (「2020年金水区的…」 for 「2020年二七区的…」).  Only for the splits fitted or tuned on; test stays as
    published."""
    texts = {p.filename or p.pid: p.context for p in qa.paragraphs}
    out = []
    for item in qa.items:
        if not item.answerable or item.split not in splits or item.history:
            continue
        context = texts.get(item.source, "") if qa.name in ("cmrc", "drcd") else "\n".join(texts.values())
        question = _swap_entity(item, context, pool) or _swap_year(item, context)
        if question:
            out.append(Item(item.qid + "-swap", question, (), item.source, False, item.split, "swap"))
    return out


def _jsonl(path: Path) -> Iterable[dict]:
    with open(path, encoding="utf-8") as f:
        yield from (json.loads(line) for line in f if line.strip())


def _report_split(path: Path, qid: str) -> Split:
    """The gold set trains (it was tuned on anyway); the frozen sets (everyday, reports_check) only ever test;
    the in-domain training questions train, a third of them (by id) validating."""
    if path in FROZEN:
        return "test"
    if path == REPORTS_TRAIN and bucket(f"val:{qid}") % 3 == 0:
        return "val"
    return "train"


def load_reports(path: Path = GOLD, kinds: tuple[str, ...] | None = None, name: str | None = None) -> QASet:
    """A question set on the two bundled reports (ask items only); see _report_split for its splits."""
    paragraphs = [Paragraph(p.stem, p.stem, p.read_text(encoding="utf-8"), "") for p in sorted(REPORTS.glob("*.txt"))]
    items = []
    for row in _jsonl(path):
        if row.get("task", "ask") != "ask" or (kinds and row["type"] not in kinds):
            continue
        items.append(Item(row["id"], row["question"], tuple(row.get("expect", [])), row.get("source") or "",
                          bool(row.get("answerable", True)), _report_split(path, row["id"]), row["type"],
                          tuple(row.get("history", [])), row.get("short", "")))
    return QASet(name or path.stem, paragraphs, items)

