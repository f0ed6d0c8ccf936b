"""How much one document may cost to parse, and the errors raised when it would cost more.

Checked while a file is read (pages, decompressed size, characters) and after it is
chunked (headings, chunks); time and memory are capped by the worker process that
parses it (:mod:`ingest.worker`).
"""
from __future__ import annotations

from dataclasses import dataclass

from vectorstore.settings import Settings


class UnreadableFileError(Exception):
    """Raised with a one-line reason when a file cannot be read; ``status`` is the HTTP status for an upload."""

    status = 422


class DocumentTooLarge(UnreadableFileError):
    """The file is readable but exceeds a limit (pages, characters, decompressed size, memory, time)."""

    status = 413


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = 50_000_000
    max_chars: int = 2_000_000
    max_pages: int = 2_000
    max_decompressed_bytes: int = 100_000_000
    max_headings: int = 20_000
    max_chunks: int = 20_000
    timeout_s: float = 60.0
    memory_mb: int = 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> "ParseLimits":
        return cls(
            max_bytes=settings.max_upload_bytes,
            max_chars=settings.max_document_chars,
            max_pages=settings.max_document_pages,
            max_decompressed_bytes=settings.max_decompressed_bytes,
            max_headings=settings.max_document_headings,
            max_chunks=settings.max_document_chunks,
            timeout_s=settings.parse_timeout,
            memory_mb=settings.parse_memory_mb,
        )

    def check_chars(self, n: int) -> None:
        if n > self.max_chars:
            raise DocumentTooLarge(f"too much text: more than {self.max_chars:,} characters (文字超过 {self.max_chars:,} 字的上限)")
