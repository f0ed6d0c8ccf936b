"""Chinese-aware document structure: lines → blocks (title, headings, captions,
paragraphs) → sentences, every piece carrying offsets into the original text.

Nothing here rewrites the text: a block or sentence is a ``(start, end)`` span
of the original string, so citations can quote it exactly.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from zhtext.numerals import HUNDRED, UP_TO_TEN, ZERO
from zhtext.sentences import CLOSERS, SENTENCE_END, Span, split_sentences, strip_span

_BYLINE_RE = re.compile(r"(记者|通讯员|/文|/图|编辑|来源[:\uff1a])")
_MD_HEADING_RE = re.compile(r"^(#{1,6})\s+")

# (pattern, rank): a lower rank is a higher level of the outline.
_NUMBERED = [
    (re.compile(rf"^第[{UP_TO_TEN}{HUNDRED}{ZERO}\d]+[章节部分篇]"), 2),
    (re.compile(rf"^[{UP_TO_TEN}]+[、.．]"), 2),
    (re.compile(rf"^[（(][{UP_TO_TEN}]+[)）]"), 3),
    (re.compile(r"^\d{1,2}(?:\.\d{1,2})*(?:\s|[、.．](?!\d))"), 3),
    (re.compile(r"^[（(]\d{1,2}[)）]"), 4),
]
_BRACKETED_RANK = 1
_PLAIN_RANK = 5
# This many body-less headings of one rank in a row are a list (a roster, a table of
# contents, one line per PDF page), not an outline: they are indexed as paragraphs.
LIST_RUN_MIN = 6


BlockKind = Literal["title", "heading", "caption", "paragraph"]


@dataclass
class Block:
    """A non-empty line (paragraphs are one line each in these reports)."""

    kind: BlockKind
    span: Span
    blank_before: int  # blank lines directly above
    rank: int = _PLAIN_RANK  # outline level, headings only
    sentences: list[Span] = field(default_factory=list)


def _lines(text: str) -> list[Span]:
    """Every line as a span without its line break (\\r\\n and \\n both work)."""
    spans, pos = [], 0
    for raw in text.splitlines(keepends=True):
        content = raw.rstrip("\r\n")
        spans.append(Span(pos, pos + len(content)))
        pos += len(raw)
    return spans


def is_unpunctuated(line: str) -> bool:
    core = line.rstrip(CLOSERS + " \t")
    return bool(core) and core[-1] not in SENTENCE_END + "\uff0c,\uff1a:、"


def heading_rank(line: str) -> int:
    m = _MD_HEADING_RE.match(line)
    if m:
        return len(m.group(1))
    for pattern, rank in _NUMBERED:
        if pattern.match(line):
            return rank
    if "「" in line and "」" in line:
        return _BRACKETED_RANK
    return _PLAIN_RANK


def parse_blocks(text: str, heading_max_chars: int = 40) -> list[Block]:
    """Classify each non-empty line as title, heading, caption or paragraph."""
    blocks: list[Block] = []
    blank = 0
    for line in _lines(text):
        span = strip_span(text, line)
        if span.end == span.start:
            blank += 1
            continue
        blocks.append(Block("paragraph", span, blank))
        blank = 0
    _classify(text, blocks, heading_max_chars)
    _demote_lists(text, blocks)
    return blocks


def _demote_lists(text: str, blocks: list[Block]) -> None:
    """Runs of LIST_RUN_MIN or more consecutive same-rank non-Markdown headings become paragraphs."""
    start = 0
    while start < len(blocks):
        end = start
        while end < len(blocks) and _list_line(text, blocks[end], blocks[start]):
            end += 1
        if end - start >= LIST_RUN_MIN:
            for block in blocks[start:end]:
                block.kind, block.rank = "paragraph", _PLAIN_RANK
                block.sentences = split_sentences(text, block.span)
        start = max(end, start + 1)


def _list_line(text: str, block: Block, first: Block) -> bool:
    return (
        block.kind == "heading"
        and block.rank == first.rank
        and first.kind == "heading"
        and not _MD_HEADING_RE.match(block.span.text(text))
    )


def _short(text: str, block: Block, limit: int) -> bool:
    line = block.span.text(text)
    return bool(_MD_HEADING_RE.match(line)) or (len(line) <= limit and is_unpunctuated(line))


def _classify(text: str, blocks: list[Block], limit: int) -> None:
    short = [_short(text, b, limit) for b in blocks]
    title_index = _find_title(text, blocks, limit)
    for i, block in enumerate(blocks):
        line = block.span.text(text)
        if i == title_index:
            block.kind = "title"
        elif _BYLINE_RE.search(line) and len(line) <= limit and i < 5:
            block.kind = "caption"
        elif short[i]:
            next_short = i + 1 >= len(blocks) or short[i + 1]
            # Photo captions stand apart (two or more blank lines above) and are
            # followed by a heading, another caption or the end, not by body text.
            if block.blank_before >= 2 and next_short and not _MD_HEADING_RE.match(line):
                block.kind = "caption"
            else:
                block.kind = "heading"
                block.rank = heading_rank(line)
        if block.kind in ("paragraph", "caption"):
            block.sentences = split_sentences(text, block.span)
        else:
            block.sentences = [block.span]


def _find_title(text: str, blocks: list[Block], limit: int) -> int | None:
    """The first unpunctuated, non-byline line among the first few blocks."""
    for i, block in enumerate(blocks[:6]):
        line = block.span.text(text)
        m = _MD_HEADING_RE.match(line)
        if m and len(m.group(1)) == 1:
            return i
        if 6 <= len(line) <= max(limit * 2, 80) and is_unpunctuated(line) and not _BYLINE_RE.search(line):
            return i
    return None


def heading_text(line: str) -> str:
    """A heading line without Markdown's leading #s."""
    return _MD_HEADING_RE.sub("", line).strip()


def title_text(text: str, blocks: list[Block]) -> str | None:
    for block in blocks:
        if block.kind == "title":
            return heading_text(block.span.text(text))
    return None
