"""Blocks → chunks of whole sentences with section paths and exact offsets."""
from __future__ import annotations

from dataclasses import dataclass

from ingest.planted import confirm, screen
from ingest.settings import ChunkingParams
from ingest.structure import Block, Span, heading_text, parse_blocks, title_text
from vectorstore.records import SECTION_SEP, Chunk, ChunkKind, doc_id_for, short_hash
from zhtext.orientation import orientation_of


@dataclass
class _Heading:
    rank: int
    text: str
    has_body: bool = False


MAX_PATH_HEADING_CHARS = 80  # a Markdown heading may be any length; its share of a section path is not


class _Outline:
    """The stack of open headings; gives the section path of each block."""

    def __init__(self) -> None:
        self.stack: list[_Heading] = []

    def open(self, rank: int, text: str) -> None:
        # A heading with no body yet keeps a following heading of its own rank
        # as its child (具体目标 › 实现更高质量发展), but only one level deep: a
        # third body-less heading of that rank is the second one's sibling, so
        # the path never grows with the number of lines (rosters, tables of contents).
        while self.stack and (
            self.stack[-1].rank > rank or (self.stack[-1].rank == rank and (self.stack[-1].has_body or self._adopted()))
        ):
            self.stack.pop()
        if self.stack and self.stack[-1].rank < rank:
            self.stack[-1].has_body = True  # sub-headings are content: a later heading of its rank is a sibling
        self.stack.append(_Heading(rank, text))

    def _adopted(self) -> bool:
        """The top heading is itself the child of a heading of its own rank."""
        return len(self.stack) >= 2 and self.stack[-2].rank == self.stack[-1].rank

    def body(self) -> None:
        if self.stack:
            self.stack[-1].has_body = True

    def path(self) -> str:
        return SECTION_SEP.join(h.text for h in self.stack)


def _group_sentences(sentences: list[Span], params: ChunkingParams) -> list[list[Span]]:
    """Greedy packing of whole sentences, repeating the last N of a chunk in the next."""
    groups: list[list[Span]] = []
    current: list[Span] = []
    fresh = 0  # sentences in `current` not already emitted
    for sentence in sentences:
        if current and fresh and sentence.end - current[0].start > params.max_chars:
            groups.append(current)
            keep = current[-params.overlap_sentences :] if params.overlap_sentences else []
            current = [s for s in keep if sentence.end - s.start <= params.max_chars]
            fresh = 0
        current.append(sentence)
        fresh += 1
    if current and fresh:
        groups.append(current)
    return groups


@dataclass
class _Run:
    """Consecutive blocks that share a section path and kind (and are all planted text, or none is)."""

    path: str
    kind: ChunkKind
    blocks: list[Block]
    planted: bool = False


def _sections(text: str, blocks: list[Block]) -> list[_Run]:
    """The document as runs of blocks.  A paragraph that may address a model (``screen``: a pattern or the
    planted-text detector's first stage) is a run of its own, so the chunk flagged for it never holds the
    report's own sentences around it."""
    outline = _Outline()
    runs: list[_Run] = []
    for block in blocks:
        if block.kind == "heading":
            outline.open(block.rank, heading_text(block.span.text(text))[:MAX_PATH_HEADING_CHARS])
            runs.append(_Run(outline.path(), "heading", [block]))
            continue
        if block.kind == "title":
            continue
        kind: ChunkKind = "caption" if block.kind == "caption" else "text"
        if kind == "text":
            outline.body()
        path, planted = outline.path(), screen(block.span.text(text))
        last = runs[-1] if runs else None
        if last and last.path == path and last.kind == kind == "text" and last.planted == planted:
            last.blocks.append(block)
        else:
            runs.append(_Run(path, kind, [block], planted))
    return runs


def _title_only(blocks: list[Block]) -> list[_Run]:
    """A document that is one unpunctuated line (a news flash, a list item) is its own text, not a lost title."""
    titles = [b for b in blocks if b.kind == "title"]
    return [_Run("", "text", titles)] if titles else []


def chunk_text(
    text: str, source: str, params: ChunkingParams, title: str | None = None, doc_hash: str = "", ingested_at: str = "",
    *, confirmed: bool = True,
) -> list[Chunk]:
    """Split one document's text into chunks; ``text[c.start:c.end] == c.text`` for each.

    ``suspicious`` is the planted-text detector's verdict; with ``confirmed=False`` (the parser's worker process,
    which never loads the embedding model) only its cheap part's (``ingest.planted.screen``), for the ingesting
    process to settle with ``ingest.planted.confirm``."""
    blocks = parse_blocks(text, params.heading_max_chars)
    title = title or title_text(text, blocks) or source.rsplit(".", 1)[0]
    doc_id = doc_id_for(source)
    chunks: list[Chunk] = []
    for run in _sections(text, blocks) or _title_only(blocks):
        sentences = [s for b in run.blocks for s in b.sentences]
        groups = [sentences] if run.kind == "heading" else _group_sentences(sentences, params)
        for group in groups:
            start, end = group[0].start, group[-1].end
            body = text[start:end]
            chunk_id = f"{doc_id}-{short_hash(f'{start}:{end}:{body}', 12)}"
            chunks.append(
                Chunk(
                    chunk_id,
                    doc_id,
                    source,
                    title,
                    run.path,
                    run.kind,
                    start,
                    end,
                    body,
                    doc_hash,
                    ingested_at,
                    orientation_of(body),
                    suspicious=run.planted or screen(f"{run.path}\n{body}"),
                )
            )
    return confirm(chunks) if confirmed else chunks
