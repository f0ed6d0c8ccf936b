"""Sentences and answer units: offsets into the original text, never a rewritten string."""
from __future__ import annotations

import re
from dataclasses import dataclass

SENTENCE_END = "。\uff01\uff1f\uff1b!?;"  # full- and half-width
CLOSERS = "”’」』)\uff09】》\"'"
_SENTENCE_RE = re.compile(rf"[^{SENTENCE_END}\n]*(?:[{SENTENCE_END}]+[{re.escape(CLOSERS)}]*|$)", re.M)
# A sentence opening like this needs the one before it to be read: 「当日,…」, 「他…」.
ANAPHORA = re.compile(r"^(当日|当天|同日|同年|此后|随后|其中|这|该|此|他|她|它|牠|其|因此|所以|于是|导致|使得|从而)")


@dataclass(frozen=True)
class Span:
    start: int
    end: int

    def text(self, original: str) -> str:
        return original[self.start : self.end]


def strip_span(text: str, span: Span) -> Span:
    """``span`` without the whitespace at its ends (empty when it holds only whitespace)."""
    s = span.text(text)
    if not s.strip():
        return Span(span.start, span.start)
    left = len(s) - len(s.lstrip())
    right = len(s.rstrip())
    return Span(span.start + left, span.start + right)


def split_sentences(text: str, span: Span) -> list[Span]:
    """Sentences end at 。!?; (full or half width), keeping closing quotes with them."""
    chunk = span.text(text)
    out = []
    for m in _SENTENCE_RE.finditer(chunk):
        piece = strip_span(text, Span(span.start + m.start(), span.start + m.end()))
        if piece.end > piece.start:
            out.append(piece)
    return out


def answer_units(text: str, whole: bool = False) -> list[Span]:
    """The pieces of a passage an answer may quote: its sentences, a sentence opening with
    「当日」「他」… read together with the one before it.  ``whole``: the passage is one unit (a heading)."""
    if whole:
        return [Span(0, len(text))]
    sentences = split_sentences(text, Span(0, len(text)))
    return [
        Span(sentences[i - 1].start, s.end) if i and ANAPHORA.match(s.text(text)) else s
        for i, s in enumerate(sentences)
    ]
