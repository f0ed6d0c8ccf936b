"""The settings groups of the ingest layer: how documents are chunked, and what one document may cost."""
from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol

from pydantic import Field

from vectorstore.settings import SettingsGroup, StoreConfig


class ChunkingParams(SettingsGroup):
    """How text is cut into chunks (``Settings.chunking``; ``ERQI_CHUNK_MAX_CHARS``…)."""

    FLAT_NAMES: ClassVar[dict[str, str]] = {
        "max_chars": "chunk_max_chars",
        "overlap_sentences": "chunk_overlap_sentences",
    }

    max_chars: int = Field(
        500,
        description="Chunks are packed with whole sentences up to this many characters (a longer single sentence is a "
        "chunk of its own). A chunk is the context shown around a quote: 500 keeps most encyclopedia paragraphs whole "
        "(CMRC: gold answer in the cited chunks 0.935 at 300, 0.957 at 500, 0.965 at 800; "
        "`python -m bench --chunk-sizes`).",
    )
    overlap_sentences: int = Field(
        1, description="Sentences repeated at the start of the next chunk of the same section."
    )
    heading_max_chars: int = Field(
        40, description="An unpunctuated line up to this long counts as a heading or caption."
    )

    def fingerprint(self) -> str:
        """The parameters as a document's content fingerprint records them (unchanged since they were a dataclass,
        so that indexes built before keep their documents)."""
        return (f"ChunkingParams(max_chars={self.max_chars!r}, overlap_sentences={self.overlap_sentences!r}, "
                f"heading_max_chars={self.heading_max_chars!r})")


class IngestSettings(SettingsGroup):
    """Where documents come from and what one may cost to read (``Settings.ingest``)."""

    corpus_dir: Path = Field(
        Path("data/corpus"),
        description="Default folder ingested by `python -m ingest` and where uploads are stored.",
    )
    max_upload_bytes: int = Field(
        20_000_000,
        description="Largest accepted upload (bytes); larger requests are refused from their Content-Length or while "
        "streaming, before they are read whole. Also the largest file `python -m ingest` reads.",
    )
    max_document_chars: int = Field(2_000_000, description="Most characters of text one document may have.")
    max_document_pages: int = Field(2_000, description="Most pages of one PDF.")
    max_decompressed_bytes: int = Field(
        100_000_000, description="Most bytes a DOCX may inflate to (checked before it is parsed)."
    )
    max_document_headings: int = Field(20_000, description="Most headings of one document.")
    max_document_chunks: int = Field(20_000, description="Most chunks of one document.")
    max_document_indicators: int = Field(
        5_000,
        description="Most indicators (quantitative statements: 「地区生产总值达到760亿元」) kept of one document, "
        "the first in document order; the document is indexed whole either way.",
    )
    parse_timeout: float = Field(
        60.0, description="Seconds one file may take to parse (in a worker process, killed when over)."
    )
    parse_memory_mb: int = Field(
        1_024,
        description="Address-space cap (MB) of the worker process that parses files: a decompression bomb fails "
        "there, not in the server.",
    )


class IngestConfig(StoreConfig, Protocol):
    """What ingest reads of the one settings object: the store's groups and its own."""

    @property
    def chunking(self) -> ChunkingParams: ...

    @property
    def ingest(self) -> IngestSettings: ...
