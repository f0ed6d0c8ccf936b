"""What a file really is, from its first bytes rather than its name (a PDF renamed .txt is still a PDF)."""
from __future__ import annotations

import io
import re
import zipfile

# Signatures of formats that are never documents: refused with their name.
_BINARY: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office (.doc/.xls) file"),
)
_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html[\s>])", re.IGNORECASE)


def sniff(data: bytes) -> str | None:
    """``.pdf``, ``.docx`` or ``.html`` when the content says so, a description of a non-document
    format (``"a PNG image"``), or None for text whose kind the file name decides."""
    head = data[:1024]
    if b"%PDF-" in head:
        return ".pdf"
    if data.startswith(b"PK\x03\x04"):
        return ".docx" if _is_docx(data) else "a ZIP archive"
    for magic, name in _BINARY:
        if data.startswith(magic):
            return name
    if data.startswith(b"MZ") and b"\x00" in head[:64]:
        return "a Windows executable"
    if _HTML.match(head.lstrip(b"\xef\xbb\xbf")):
        return ".html"
    return None


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return True  # a damaged zip named .docx: let the DOCX loader say it is corrupt
