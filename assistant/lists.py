"""List questions (「“六个区”分别是什么?」): gather every item, even across headings.

Two shapes of lists occur in reports: the child headings of one heading (the
「六个区」 are six numbered headings) and parallel sentences of one section that
each start with the listed noun (二七商圈板块…, 健康产业板块…).  A list found
this way must have the number of items the question names, if it names one.
"""
from __future__ import annotations

from collections import defaultdict

from assistant.evidence import Quote, TermStats, coverage
from assistant.question import Question
from ingest.structure import Span, split_sentences
from vectorstore.records import SECTION_SEP, Chunk

HEAD_CHARS = 12  # the listed noun must appear this close to a sentence's start
Item = tuple[Chunk, Quote | None]


def _outline_groups(corpus: list[Chunk]) -> list[tuple[str, list[Chunk]]]:
    """(parent section path, child heading chunks) for every heading with child headings."""
    children: dict[tuple[str, str], list[Chunk]] = defaultdict(list)
    for chunk in corpus:
        if chunk.kind == "heading" and SECTION_SEP in chunk.section:
            parent = chunk.section.rsplit(SECTION_SEP, 1)[0]
            children[(chunk.doc_id, parent)].append(chunk)
    return [(parent, sorted(kids, key=lambda c: c.start)) for (_, parent), kids in children.items() if len(kids) >= 2]


def _sentence_groups(question: Question, corpus: list[Chunk]):
    """(section, sentences) where several sentences of one section open with a question noun."""
    by_section: dict[tuple[str, str], dict[int, Quote]] = defaultdict(dict)
    # the listed noun: 「六个核心板块」 → items that start like 「二七商圈板块…」
    heads = {alt[-2:] for t in question.terms if t.weight >= 1.0 and not t.carried for alt in t.alternatives if len(alt) >= 2}
    for chunk in corpus:
        if chunk.kind != "text":
            continue
        for s in split_sentences(chunk.text, Span(0, len(chunk.text))):
            text = chunk.text[s.start : s.end]
            if any(head in text[:HEAD_CHARS] for head in heads):
                by_section[(chunk.doc_id, chunk.section)][chunk.start + s.start] = Quote(chunk, chunk.start + s.start, chunk.start + s.end, text)
    for (_, section), quotes in by_section.items():
        if len(quotes) >= 2:
            yield section, [quotes[k] for k in sorted(quotes)]


def find_list(question: Question, corpus: list[Chunk], stats: TermStats, min_coverage: float) -> list[Item]:
    """The items of the list the question asks for, or [] to fall back to sentence extraction."""
    want = question.list_count
    best: tuple[float, list[Item]] = (0.0, [])
    for parent, kids in _outline_groups(corpus):
        if want is None or len(kids) == want:
            score = coverage(question, parent + "\n" + "\n".join(k.text for k in kids), stats)
            if score > best[0]:
                best = (score, [(k, None) for k in kids])
    for section, quotes in _sentence_groups(question, corpus):
        if want is None or len(quotes) == want:
            score = coverage(question, section + "\n" + "\n".join(q.text for q in quotes), stats)
            if score > best[0]:
                best = (score, [(q.chunk, q) for q in quotes])
    threshold = min_coverage * 0.7 if want else max(min_coverage, 0.8)
    return best[1] if best[0] >= threshold else []
