"""List questions (「“六个区”分别是什么?」): gather every item, even across headings.

Two shapes of lists occur in reports: the child headings of one heading (the
「六个区」 are six numbered headings) and parallel sentences of one section that
each start with the listed noun (二七商圈板块…, 健康产业板块…).  A list found
this way must have the number of items the question names, if it names one.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.evidence import coverage
from assistant.question import MIN_LIST_ITEMS
from assistant.termstats import TermStats
from assistant.types import NAME_WEIGHT, WORD_WEIGHT, AnalysedQuestion, Quote
from vectorstore.records import SECTION_SEP, Chunk, ScoredChunk
from zhtext.numerals import SMALL
from zhtext.sentences import Span, split_sentences

HEAD_CHARS = 12
TOP_MARGIN = 0.1  # a list found by structure may cover the question this much less than a best passage that lists
# A list of the count asked for must cover this share of min_coverage; one found without a count, this much at least.
COUNTED_COVERAGE_SHARE, UNCOUNTED_MIN_COVERAGE = 0.7, 0.8
NOUN_TAIL_CHARS = 2  # the listed noun's last characters (板块 of 核心板块) open each item (二七商圈板块…)
LABEL_MIN_CHARS = 4  # a question word this long names the category (核心板块), and a sentence holding it is no item
PAIR_ITEMS = 2  # a question naming no count may ask for two, listed as 「甲和乙」
_RUN_SPLIT = re.compile(
    r"[,\uff0c;\uff1b。“”「」:\uff1a\n]"
)  # the listed noun must appear this close to a sentence's start
ENUMERATION = re.compile(r"[\u4e00-\u9fff”]、[\u4e00-\u9fff“\d]")
PAIR_ENUMERATION = re.compile(
    r"[\u4e00-\u9fff\w”》」)](和|与|及|以及|跟|同)[\u4e00-\u9fff\w“《「(]"
)  # 「光荣和ω-force」: two items


@dataclass(frozen=True)
class Outline:
    """The corpus by section, once per index snapshot: where list questions look for their items.

    Built here from chunks (:meth:`of`), or lookups into a kept index (``vectorstore.keyword.snapshot.OutlineMap``)."""

    sections: Mapping[tuple[str, str], list[Chunk]]  # (doc_id, section path) → its text chunks, in order
    groups: Mapping[tuple[str, str], list[Chunk]]  # (doc_id, parent path) → its child headings (two or more)

    @classmethod
    def of(cls, corpus: list[Chunk]) -> Outline:
        sections: dict[tuple[str, str], list[Chunk]] = defaultdict(list)
        children: dict[tuple[str, str], list[Chunk]] = defaultdict(list)
        for chunk in corpus:
            if chunk.kind == "text":
                sections[(chunk.doc_id, chunk.section)].append(chunk)
            elif chunk.kind == "heading" and SECTION_SEP in chunk.section:
                children[(chunk.doc_id, chunk.section.rsplit(SECTION_SEP, 1)[0])].append(chunk)
        order = lambda chunks: sorted(chunks, key=lambda c: c.start)  # noqa: E731
        return cls(
            {k: order(v) for k, v in sections.items()},
            {k: order(v) for k, v in children.items() if len(v) >= MIN_LIST_ITEMS},
        )

    def near(self, pool: list[Chunk]) -> tuple[list[tuple[str, list[Chunk]]], list[Chunk]]:
        """The heading groups and the text chunks of the sections the retrieved chunks belong to.

        Items beyond the retrieved chunks are gathered, but only under the headings
        retrieval reached: scanning every section costs seconds at 100k chunks."""
        groups: dict[tuple[str, str], None] = {}
        sections: dict[tuple[str, str], None] = {}
        for chunk in pool:
            sections[(chunk.doc_id, chunk.section)] = None
            parts = chunk.section.split(SECTION_SEP)
            for i in range(1, len(parts) + 1):
                groups[(chunk.doc_id, SECTION_SEP.join(parts[:i]))] = None
        found = [(key[1], self.groups[key]) for key in groups if key in self.groups]
        return found, [c for key in sections for c in self.sections.get(key, [])]


def _sentence_groups(question: AnalysedQuestion, corpus: list[Chunk]):
    """(section text, sentences) where several sentences of one section open with a question noun."""
    by_section: dict[tuple[str, str], dict[int, Quote]] = defaultdict(dict)
    section_text: dict[tuple[str, str], str] = defaultdict(str)
    # the listed noun: 「六个核心板块」 → items that start like 「二七商圈板块…」
    own = [t for t in question.terms if t.weight >= WORD_WEIGHT and not t.carried]
    heads = {alt[-NOUN_TAIL_CHARS:] for t in own for alt in t.alternatives if len(alt) >= NOUN_TAIL_CHARS}
    labels = [
        alt for t in own for alt in t.alternatives if len(alt) >= LABEL_MIN_CHARS
    ]  # 「核心板块」 names the category, not an item
    for chunk in corpus:
        section_text[(chunk.doc_id, chunk.section)] += chunk.text + "\n"
        if not any(head in chunk.text for head in heads):
            continue
        for s in split_sentences(chunk.text, Span(0, len(chunk.text))):
            text = chunk.text[s.start : s.end]
            if any(head in text[:HEAD_CHARS] for head in heads) and not any(label in text for label in labels):
                by_section[(chunk.doc_id, chunk.section)][chunk.start + s.start] = Quote(
                    chunk, chunk.start + s.start, chunk.start + s.end, text
                )
    for key, quotes in by_section.items():
        if len(quotes) >= MIN_LIST_ITEMS:
            yield key[1] + "\n" + section_text[key], [quotes[k] for k in sorted(quotes)]


def find_list(
    question: AnalysedQuestion, pool: list[Chunk], outline: Outline, stats: TermStats, min_coverage: float
) -> list[Quote]:
    """The items of the list the question asks for, or [] to fall back to sentence extraction.

    ``pool``: the chunks retrieved for the question; the list is looked for in their sections."""
    if question.kind != "list":
        return []
    want = question.list_count
    best: tuple[float, list[Quote]] = (0.0, [])
    groups, texts = outline.near(pool)
    for parent, kids in groups:
        if want is None or len(kids) == want:
            score = coverage(question, parent + "\n" + "\n".join(k.text for k in kids), stats)
            if score > best[0]:
                best = (score, [Quote(k, k.start, k.end, k.text) for k in kids])
    for context, quotes in _sentence_groups(question, texts):
        if want is None or len(quotes) == want:
            score = coverage(question, context, stats)
            if score > best[0]:
                best = (score, quotes)
    threshold = min_coverage * COUNTED_COVERAGE_SHARE if want else max(min_coverage, UNCOUNTED_MIN_COVERAGE)
    if pool and _lists_itself(question, pool[0].text):
        # 「原劳亚大陆曾先后是哪两个大陆的一部分?」: the best passage names both; two sentences about 部分 elsewhere
        # are no answer
        threshold = max(threshold, coverage(question, f"{pool[0].section}\n{pool[0].text}", stats) - TOP_MARGIN)
    return best[1] if best[0] >= threshold else []


def enumerates(question: AnalysedQuestion, text: str) -> bool:
    """The text lists items: 「甲、乙、丙」, or 「甲和乙」 when the question asks for two."""
    if ENUMERATION.search(text):
        return True
    return (question.list_count or PAIR_ITEMS) == PAIR_ITEMS and bool(PAIR_ENUMERATION.search(text))


def _lists_itself(question: AnalysedQuestion, text: str) -> bool:
    """The text enumerates as many items as the question asks for (any number when it names none)."""
    if question.list_count and question.list_count != PAIR_ITEMS:
        return question.list_count in enumeration_sizes(text)
    return enumerates(question, text)


def enumeration_sizes(text: str) -> set[int]:
    """Sizes of the 、-separated runs in a text (「品质二七、田园二七、温暖二七」 → 3)."""
    return {len(run.split("、")) for run in _RUN_SPLIT.split(text) if "、" in run}


def promote_enumerations(question: AnalysedQuestion, evidence: list[ScoredChunk], k: int) -> list[ScoredChunk]:
    """For 「哪三个…」: passages that enumerate exactly that many items move to the front."""
    if question.kind != "list" or not question.list_count:
        return evidence[:k]
    hits = [s for s in evidence if question.list_count in enumeration_sizes(s.chunk.text)]
    rest = [s for s in evidence if s not in hits]
    return (hits + rest)[:k]


def _label_heads(question: AnalysedQuestion) -> list[str]:
    """The item suffix a numbered label implies: “三个二七” → 二七, “五链” → 链, “六个区” → 区."""
    heads = []
    for t in question.terms:
        if t.weight >= NAME_WEIGHT and not t.carried and t.surface in question.text and question.list_count:
            head = re.sub(rf"^[{SMALL}]+个?", "", t.surface)
            if head != t.surface and head:
                heads.append(head)
    return heads


def labelled_enumeration(question: AnalysedQuestion, evidence: list[ScoredChunk]) -> Quote | None:
    """A clause enumerating exactly N items that all end like the label (品质二七、田园二七、温暖二七)."""
    heads = _label_heads(question)
    if not heads:
        return None
    for scored in evidence:
        chunk = scored.chunk
        for m in re.finditer(r"[^,\uff0c;\uff1b。:\uff1a\n]+", chunk.text):
            clause = m.group(0)
            for run in re.findall(r"[^“”「」]*、[^“”「」]*", clause):
                items = [i.strip() for i in run.split("、")]
                if len(items) == question.list_count and any(
                    all(i.endswith(h[-len(h) :]) or i.endswith(h[-1]) for i in items) for h in heads
                ):
                    return Quote(chunk, chunk.start + m.start(), chunk.start + m.end(), clause)
    return None


def as_evidence(items: list[Quote], pool: list[ScoredChunk], k: int) -> list[ScoredChunk]:
    """The chunks holding a structurally found list go first, then the rest of the ranking."""
    top = pool[0].score if pool else 1.0
    seen: set[str] = set()
    out = []
    for scored in [ScoredChunk(q.chunk, top) for q in items] + pool:
        if scored.chunk.chunk_id not in seen:
            seen.add(scored.chunk.chunk_id)
            out.append(scored)
    return out[: max(k, len(items))]
