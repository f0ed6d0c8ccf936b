"""A document as its chunks lay it out: the original text at every offset a chunk covers, its sections in order.

The store keeps chunks, not files; every chunk is ``original[start:end]`` with its section path, so the chunks of one
document put its text back where it was (headings, paragraphs and captions; what lies between them, blank lines and
the title line, is not kept and reads as line breaks).  Chunks that overlap (the sentences a chunk repeats from the
one before) are laid once.  The indicator extractor reads a document this way (:mod:`ingest.indicators`), and so
does the page's document view (:mod:`webapp.document_view`): offsets are the original's, quotes never rewritten.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from vectorstore.records import SECTION_SEP, Chunk, ChunkKind

GAP = "\n"  # what stands where no chunk covers the original


@dataclass(frozen=True)
class Piece:
    """A stretch of the document in one section and of one kind (``text[start:end]`` of the layout)."""

    kind: ChunkKind
    section: str
    start: int
    end: int
    suspicious: bool = False


@dataclass(frozen=True)
class Paragraph:
    """One line of a piece: a heading, a caption or a paragraph."""

    kind: ChunkKind
    section: str
    start: int
    end: int
    suspicious: bool = False


@dataclass
class DocumentLayout:
    doc_id: str
    source: str
    title: str
    text: str  # the original at every covered offset, GAP elsewhere: text[c.start:c.end] == c.text for each chunk
    pieces: list[Piece]

    @classmethod
    def of(cls, chunks: Iterable[Chunk]) -> DocumentLayout:
        """The layout of one document's chunks (any order; overlapping chunks are laid once)."""
        ordered = sorted(chunks, key=lambda c: (c.start, -c.end))
        if not ordered:
            raise ValueError("a layout needs the chunks of a document")
        parts: list[str] = []
        pieces: list[Piece] = []
        pos = 0
        for c in ordered:
            if c.end <= pos:
                continue  # wholly inside what is laid already
            begin = max(c.start, pos)
            if begin > pos:
                parts.append(GAP * (begin - pos))
            parts.append(c.text[begin - c.start:])
            last = pieces[-1] if pieces else None
            if last and last.end == begin and (last.kind, last.section, last.suspicious) == (
                c.kind, c.section, c.suspicious
            ):
                pieces[-1] = Piece(c.kind, c.section, last.start, c.end, c.suspicious)
            else:
                pieces.append(Piece(c.kind, c.section, begin, c.end, c.suspicious))
            pos = c.end
        first = ordered[0]
        return cls(first.doc_id, first.source, first.title, "".join(parts), pieces)

    def paragraphs(self) -> Iterator[Paragraph]:
        """Every non-empty line of every piece, in order."""
        for piece in self.pieces:
            pos = piece.start
            for line in self.text[piece.start:piece.end].split("\n"):
                a, b = pos, pos + len(line)
                pos = b + 1
                stripped = line.strip()
                if stripped:
                    lead = len(line) - len(line.lstrip())
                    yield Paragraph(piece.kind, piece.section, a + lead, a + lead + len(stripped), piece.suspicious)

    def covers(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` lies within the document's chunks (nothing of it in a gap)."""
        if not 0 <= start < end <= len(self.text):
            return False
        return all(any(p.start <= i < p.end for p in self.pieces) for i in (start, end - 1))

    def section_at(self, offset: int) -> str:
        """The section path of the piece holding ``offset`` ("" outside them)."""
        return next((p.section for p in self.pieces if p.start <= offset < p.end), "")


def section_parts(section: str) -> list[str]:
    """A section path's headings, outermost first."""
    return [part for part in section.split(SECTION_SEP) if part] if section else []
