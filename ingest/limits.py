"""How much one document may cost to parse, and the errors raised when it would cost more.

Checked while a file is read (pages, decompressed size, characters) and after it is
chunked (headings, chunks); time and memory are capped by the worker process that
parses it (:mod:`ingest.worker`).
"""
from __future__ import annotations

from dataclasses import dataclass

from ingest import texts
from ingest.settings import IngestSettings

_DEFAULTS = IngestSettings()


class UnreadableFileError(Exception):
    """Raised with a one-line reason when a file cannot be read; ``status`` is the HTTP status for an upload."""

    status = 422


class DocumentTooLarge(UnreadableFileError):
    """The file is readable but exceeds a limit (pages, characters, decompressed size, memory, time)."""

    status = 413


@dataclass(frozen=True)
class ParseLimits:
    """The limits of :class:`ingest.settings.IngestSettings` as the parser process checks them."""

    max_bytes: int = _DEFAULTS.max_upload_bytes
    max_chars: int = _DEFAULTS.max_document_chars
    max_pages: int = _DEFAULTS.max_document_pages
    max_decompressed_bytes: int = _DEFAULTS.max_decompressed_bytes
    max_headings: int = _DEFAULTS.max_document_headings
    max_chunks: int = _DEFAULTS.max_document_chunks
    timeout_s: float = _DEFAULTS.parse_timeout
    memory_mb: int = _DEFAULTS.parse_memory_mb

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> ParseLimits:
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
            raise DocumentTooLarge(texts.TOO_MUCH_TEXT.format(limit=self.max_chars))
