"""Turn selected quotes into the answer text with [n] markers and its citations."""
from __future__ import annotations

import re

from assistant import texts
from assistant.evidence import Quote
from assistant.response import Citation, RetrievedItem, Verdict, citation_for
from vectorstore.records import ScoredChunk
from zhtext.orientation import orientation_of


def cite(quotes: list[Quote]) -> list[Citation]:
    return [citation_for(i, q.chunk, q.start, q.end, q.text) for i, q in enumerate(quotes, start=1)]


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


def answer_text(citations: list[Citation], is_list: bool, conflict: bool = False) -> str:
    if conflict:
        lines = [
            f"• {neutral(c.text)} [{c.ref}]{texts.CONFLICT_SOURCE.format(source=c.title or c.source)}"
            for c in citations
        ]
        return "\n".join([texts.CONFLICT_NOTE, *lines])
    if is_list and len(citations) > 1:
        lines = [f"• {neutral(c.text)} [{c.ref}]" for c in citations]
        return "\n".join([texts.LIST_INTRO, *lines])
    return "\n".join(
        f"{label}{neutral(c.text)} [{c.ref}]" for label, c in zip(_labels(citations), citations, strict=True)
    )


def tentative_text(citations: list[Citation]) -> str:
    """A refusal that still quotes the closest passage: the hint first, so nobody mistakes it for an answer."""
    return "\n".join([texts.TENTATIVE_INTRO, *(f"{neutral(c.text)} [{c.ref}]" for c in citations)])


def related(evidence: list[ScoredChunk], k: int) -> list[RetrievedItem]:
    return [RetrievedItem.of(s) for s in evidence if s.chunk.kind != "heading"][:k]


def check_text(verdict: Verdict, differences: list[str], citations: list[Citation]) -> str:
    lines = [texts.CHECK_ANSWER.format(label=texts.VERDICT_LABELS[verdict]) + ";".join(differences)]
    lines += [f"{neutral(c.text)} [{c.ref}]" for c in citations]
    return "\n".join(lines)
