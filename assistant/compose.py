"""Turn selected quotes into the answer text with [n] markers and its citations."""
from __future__ import annotations

import re
from collections.abc import Mapping

from assistant import texts
from assistant.conflicts import source_label
from assistant.response import Citation, RetrievedItem, ShortAnswer, Verdict, citation_for
from assistant.types import Quote
from vectorstore.records import Origin, ScoredChunk
from zhtext.orientation import orientation_of


def cite(quotes: list[Quote], origins: Mapping[str, Origin] | None = None) -> list[Citation]:
    """``origins``: doc id → where the document came from (each citation says it)."""
    origins = origins or {}
    return [
        citation_for(i, q.chunk, q.start, q.end, q.text, origins.get(q.chunk.doc_id, "unknown"))
        for i, q in enumerate(quotes, start=1)
    ]


def _named(c: Citation) -> str:
    """A document as an answer names it: the official reports by title, any other by its standing and file."""
    return c.title or c.source if c.origin == "bundled" else source_label(c.origin, c.source)


def _labels(citations: list[Citation]) -> list[str]:
    """【实际】/【目标】 when an answer mixes results achieved with targets."""
    kinds = [orientation_of(c.text) for c in citations]
    if not {"actual", "target"} <= set(kinds):
        return [""] * len(citations)
    return [f"【{texts.ORIENTATION_LABELS[k]}】" if k in texts.ORIENTATION_LABELS else "" for k in kinds]


_MARKER = re.compile(r"\[(\d+)\]")


def neutral(text: str) -> str:
    """A quote as shown in an answer: a 「[1]」 written in a document must not pass for a citation marker."""
    return _MARKER.sub(r"［\1］", text)


def answer_text(citations: list[Citation], is_list: bool, conflict: bool = False,
                short: ShortAnswer | None = None) -> str:
    """The answer: the direct answer first (when the reader found one), then the quotes with their markers."""
    body = _quotes_text(citations, is_list, conflict)
    if short is None or not citations:
        return body
    return f"{texts.SHORT_ANSWER.format(short=neutral(short.text))} [{citations[0].ref}]\n{body}"


def _quotes_text(citations: list[Citation], is_list: bool, conflict: bool) -> str:
    if conflict:
        lines = [
            f"• {neutral(c.text)} [{c.ref}]{texts.CONFLICT_SOURCE.format(source=_named(c))}"
            for c in citations
        ]
        return "\n".join([texts.CONFLICT_NOTE, *lines])
    if is_list and len(citations) > 1:
        lines = [f"• {neutral(c.text)} [{c.ref}]" for c in citations]
        return "\n".join([texts.LIST_INTRO, *lines])
    return "\n".join(
        f"{label}{neutral(c.text)} [{c.ref}]" for label, c in zip(_labels(citations), citations, strict=True)
    )


def tentative_text(citations: list[Citation], other_side: str = "") -> str:
    """A refusal that still quotes the closest passage: the hint first, so nobody mistakes it for an answer
    (``other_side``: the passage gives that side, "actual" or "target", of what was asked, and the hint says so)."""
    intro = texts.ONLY_OTHER_SIDE.get(other_side, texts.TENTATIVE_INTRO)
    return "\n".join([intro, *(f"{neutral(c.text)} [{c.ref}]" for c in citations)])


def related(evidence: list[ScoredChunk], k: int) -> list[RetrievedItem]:
    return [RetrievedItem.of(s) for s in evidence if s.chunk.kind != "heading" and not s.chunk.suspicious][:k]


def check_text(verdict: Verdict, differences: list[str], citations: list[Citation], conflict: bool = False) -> str:
    """The verdict, what the sources say instead, and the evidence; when it comes from more than one document or
    from any but the official reports, each passage says where it came from."""
    head = texts.CHECK_ANSWER.format(label=texts.VERDICT_LABELS[verdict])
    if conflict and verdict != "conflicting":
        head += texts.CHECK_SOURCES_DISAGREE
    named = len({c.doc_id for c in citations}) > 1 or any(c.origin != "bundled" for c in citations)
    lines = [head + ";".join(differences)]
    lines += [
        f"{neutral(c.text)} [{c.ref}]" + (texts.CONFLICT_SOURCE.format(source=_named(c)) if named else "")
        for c in citations
    ]
    return "\n".join(lines)
