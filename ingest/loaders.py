"""Turn a document file (.txt, .md, .html, .docx, .pdf) into text.

The returned ``LoadedFile.text`` is the string later stages take offsets into
and quote, so plain-text formats are decoded but otherwise left untouched.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import docx
import pypdf
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.dammit import EncodingDetector
from charset_normalizer import from_bytes
from docx.document import Document as DocxDocument
from docx.table import Table as DocxTable
from markdown_it import MarkdownIt

from ingest import texts
from ingest.limits import DocumentTooLarge, ParseLimits, UnreadableFileError
from ingest.sniff import sniff

__all__ = ["SUPPORTED_SUFFIXES", "DocumentTooLarge", "LoadedFile", "ParseLimits", "UnreadableFileError", "load_file"]

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf"}
)


@dataclass(frozen=True)
class LoadedFile:
    """A file's text plus what its format says about it."""

    path: Path
    text: str
    title: str | None
    encoding: str | None
    fmt: str
    warnings: tuple[str, ...] = ()  # read, but the user should know (replacement characters, content type ≠ name)


# --------------------------------------------------------------------------
# helpers

_MAX_BAD_RATIO = 0.01  # replacement/control characters tolerated in decoded text
# C0/C1 controls other than tab and line/page breaks, plus U+FFFD from undecodable bytes.
_BAD_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ufffd]")
_GB_FAMILY = frozenset({"gb2312", "gbk", "gb18030", "hz"})
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _short(exc: BaseException, limit: int = 160) -> str:
    """One line of an exception's message, at most ``limit`` characters."""
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"


def _one_line(text: str | None) -> str | None:
    """Whitespace-collapsed ``text``, or None when blank."""
    if text is None:
        return None
    collapsed = " ".join(text.split())
    return collapsed or None


def _codec_name(name: str) -> str:
    """Canonical codec name; GB2312/GBK/HZ are read as their superset GB18030."""
    canonical = codecs.lookup(name).name
    return "gb18030" if canonical in _GB_FAMILY or name.lower() in _GB_FAMILY else canonical


def _looks_like_text(text: str, strict: bool = False) -> bool:
    """False when replacement or control characters make up too much of ``text``.

    After a strict decode a U+FFFD is a character the file really contains (valid
    UTF-8 for U+FFFD), not a decoding failure: it does not count against the text."""
    bad = _BAD_CHARS.findall(text)
    if strict:
        bad = [c for c in bad if c != "\ufffd"]
    return len(bad) <= len(text) * _MAX_BAD_RATIO


def _try_decode(data: bytes, encoding: str, errors: str = "strict") -> str | None:
    """``data`` decoded with ``encoding`` if that gives plausible text, else None."""
    try:
        text = data.decode(encoding, errors=errors)
    except (UnicodeDecodeError, LookupError):
        return None
    return text if _looks_like_text(text, strict=errors == "strict") else None


def _detected_encoding(data: bytes) -> str | None:
    """charset_normalizer's guess, preferring a GB candidate that fits as well as the best."""
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        if _codec_name(match.encoding) == "gb18030" and match.chaos <= best.chaos + 0.02:
            return "gb18030"
    return _codec_name(best.encoding)


def _decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode ``data`` → (text, codec): BOM, strict UTF-8, declared charset, detector."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            text = _try_decode(data, encoding, "replace")
            if text is not None:
                return text, encoding
    for encoding in filter(None, ("utf-8", declared)):
        text = _try_decode(data, encoding)
        if text is not None:
            return text, _codec_name(encoding)
    detected = _detected_encoding(data)
    text = _try_decode(data, detected, "replace") if detected else None
    if text is None or detected is None:
        raise UnreadableFileError(texts.NO_ENCODING)
    return text, detected


def _require_text(text: str) -> str:
    """``text`` unchanged, or UnreadableFileError when it is blank."""
    if not text.strip():
        raise UnreadableFileError(texts.EMPTY_DOCUMENT)
    return text


# --------------------------------------------------------------------------
# plain text and Markdown


def _load_txt(path: Path, data: bytes) -> LoadedFile:
    """Plain text, decoded but otherwise exactly as stored."""
    text, encoding = _decode(data)
    if not text.strip():
        raise UnreadableFileError(texts.EMPTY_FILE)
    return LoadedFile(path, text, None, encoding, "txt")


def _markdown_title(text: str) -> str | None:
    """Text of the first level-1 heading, per CommonMark (so not inside code fences)."""
    tokens = MarkdownIt("commonmark").parse(text)
    for opening, inline in zip(tokens, tokens[1:], strict=False):
        if opening.type == "heading_open" and opening.tag == "h1":
            parts = (c.content for c in inline.children or [] if c.type in ("text", "code_inline"))
            return _one_line("".join(parts)) or _one_line(inline.content)
    return None


def _load_md(path: Path, data: bytes) -> LoadedFile:
    """Markdown source kept as is (syntax included); title from the first '# ' heading."""
    loaded = _load_txt(path, data)
    return LoadedFile(path, loaded.text, _markdown_title(loaded.text), loaded.encoding, "md")


# --------------------------------------------------------------------------
# HTML

_DROP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title"})
_PARAGRAPH_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "table", "ul", "ol", "dl",
     "section", "article", "header", "footer", "main", "aside", "nav", "figure", "hr",
     "address", "details", "fieldset", "form"}
)
_LINE_TAGS = frozenset(
    {"div", "li", "dt", "dd", "caption", "figcaption", "summary", "legend", "option",
     "thead", "tbody", "tfoot", "body", "html", "center", "dialog", "hgroup", "menu"}
)
_CELL_TAGS = frozenset({"td", "th"})
_SPACES = re.compile(r"\s+")
_BLANK_RUNS = re.compile(r"\n{3,}")


class _HtmlText:
    """Accumulates visible HTML text with block-level line breaks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pending = 0  # newlines owed before the next text (1 = line, 2 = paragraph)

    def text(self, s: str, raw: bool = False) -> None:
        """Add inline text (whitespace collapsed unless ``raw``)."""
        if not raw:
            s = _SPACES.sub(" ", s)
            if s == " " and (self.pending or self._at_line_start()):
                return
        if self.pending and self.parts:
            self._trim_line_end()
            self.parts.append("\n" * self.pending)
        self.pending = 0
        if not raw and self._at_line_start():
            s = s.lstrip(" ")
        self.parts.append(s)

    def brk(self, n: int) -> None:
        """Ask for at least ``n`` newlines before the next text."""
        self.pending = max(self.pending, n)

    def result(self) -> str:
        """Final text without leading/trailing blank lines."""
        lines = "".join(self.parts).split("\n")
        text = "\n".join(line.rstrip() for line in lines).strip("\n")
        return _BLANK_RUNS.sub("\n\n", text)

    def _at_line_start(self) -> bool:
        return not self.parts or self.parts[-1].endswith("\n")

    def _trim_line_end(self) -> None:
        while self.parts and self.parts[-1].endswith(" "):
            self.parts[-1] = self.parts[-1].rstrip(" ")


def _walk_html(node: Tag, out: _HtmlText, in_pre: bool = False) -> None:
    """Feed the visible text under ``node`` into ``out``."""
    for child in node.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:
                out.text(str(child), raw=in_pre)
        elif isinstance(child, Tag):
            _walk_html_tag(child, out, in_pre)


def _walk_html_tag(tag: Tag, out: _HtmlText, in_pre: bool) -> None:
    """Feed one element, with the line breaks its kind calls for."""
    name = tag.name
    if name in _DROP_TAGS:
        return
    if name == "br":
        out.text("\n", raw=True)
    elif name == "tr":
        out.brk(1)
        cells = [_html_cell_text(c) for c in tag.find_all(_CELL_TAGS, recursive=False)]
        if any(cells):
            out.text(" | ".join(cells))
        out.brk(1)
    else:
        breaks = 2 if name in _PARAGRAPH_TAGS else 1 if name in _LINE_TAGS | _CELL_TAGS else 0
        out.brk(breaks)
        _walk_html(tag, out, in_pre or name == "pre")
        out.brk(breaks)


def _html_cell_text(cell: Tag) -> str:
    """A table cell's text on one line."""
    out = _HtmlText()
    _walk_html(cell, out)
    return " ".join(out.result().split())


def _html_title(soup: BeautifulSoup) -> str | None:
    """<title> text, else the first <h1>."""
    for tag in (soup.find("title"), soup.find("h1")):
        title = _one_line(tag.get_text(" ")) if tag else None
        if title:
            return title
    return None


def _load_html(path: Path, data: bytes) -> LoadedFile:
    """Visible HTML text: blocks on their own lines, paragraphs separated by a blank line."""
    raw, encoding = _decode(data, _declared_charset(data))
    if not raw.strip():
        raise UnreadableFileError(texts.EMPTY_FILE)
    soup = BeautifulSoup(raw, "html.parser")
    out = _HtmlText()
    try:
        _walk_html(soup, out)
    except RecursionError as exc:
        raise UnreadableFileError(texts.HTML_TOO_DEEP) from exc
    return LoadedFile(path, _require_text(out.result()), _html_title(soup), encoding, "html")


def _declared_charset(data: bytes) -> str | None:
    """The codec named by <meta charset> / http-equiv, if Python knows it."""
    declared = EncodingDetector.find_declared_encoding(data, is_html=True)
    try:
        return _codec_name(declared) if declared else None
    except LookupError:
        return None


# --------------------------------------------------------------------------
# DOCX


def _docx_table_text(table: DocxTable) -> str:
    """One line per row, cells joined with ' | ' (merged cells counted once)."""
    lines = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
        if any(cells):
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _docx_blocks(document: DocxDocument, limits: ParseLimits) -> Iterator[str]:
    """Non-empty paragraph and table texts in body order, stopping as soon as there is too much text."""
    chars = 0
    for item in document.iter_inner_content():
        text = _docx_table_text(item) if isinstance(item, DocxTable) else item.text
        if text.strip():
            chars += len(text) + 2
            limits.check_chars(chars)
            yield text


def _docx_title(document: DocxDocument) -> str | None:
    """core_properties.title, else the first Title/Heading-styled paragraph."""
    title = _one_line(document.core_properties.title)
    if title:
        return title
    for paragraph in document.paragraphs:
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style.lower() == "title" or style.lower().startswith("heading"):
            title = _one_line(paragraph.text)
            if title:
                return title
    return None


def _check_inflated_size(data: bytes, limits: ParseLimits) -> None:
    """Refuse a DOCX whose parts inflate past the limit, before python-docx inflates them
    (zipfile never yields more than an entry's declared size, so the sum is a bound)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFileError(texts.CORRUPT.format(format="DOCX", reason=_short(exc))) from exc
    if total > limits.max_decompressed_bytes:
        raise DocumentTooLarge(texts.INFLATES_TOO_MUCH.format(total=total, limit=limits.max_decompressed_bytes))


def _load_docx(path: Path, data: bytes, limits: ParseLimits) -> LoadedFile:
    """Paragraphs and tables in body order, joined by blank lines."""
    _check_inflated_size(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
        text = "\n\n".join(_docx_blocks(document, limits))
        title = _docx_title(document)
    except (MemoryError, DocumentTooLarge):
        raise
    except Exception as exc:  # python-docx/zipfile/lxml raise many kinds
        raise UnreadableFileError(texts.CORRUPT.format(format="DOCX", reason=_short(exc))) from exc
    return LoadedFile(path, _require_text(text), title, None, "docx")


# --------------------------------------------------------------------------
# PDF

_PLACEHOLDER_TITLES = frozenset({"untitled", "anonymous", "unknown"})


def _open_pdf(data: bytes) -> pypdf.PdfReader:
    """A PdfReader, decrypted with the empty password when needed."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
    except Exception as exc:
        raise UnreadableFileError(texts.CORRUPT.format(format="PDF", reason=_short(exc))) from exc
    if reader.is_encrypted:
        try:
            ok = reader.decrypt("")
        except Exception as exc:  # e.g. AES without the 'cryptography' package
            raise UnreadableFileError(texts.ENCRYPTED_PDF_REASON.format(reason=_short(exc))) from exc
        if ok == pypdf.PasswordType.NOT_DECRYPTED:
            raise UnreadableFileError(texts.ENCRYPTED_PDF)
    return reader


def _pdf_title(reader: pypdf.PdfReader) -> str | None:
    """Metadata /Title unless missing or a placeholder."""
    try:
        title = _one_line(reader.metadata.title if reader.metadata else None)
    except Exception:
        return None
    return None if title is None or title.lower() in _PLACEHOLDER_TITLES else title


def _pdf_pages(reader: pypdf.PdfReader, limits: ParseLimits) -> Iterator[str]:
    """Each page's text, refusing too many pages or too much text before extracting the rest."""
    try:
        count = len(reader.pages)
    except Exception as exc:
        raise UnreadableFileError(texts.CORRUPT.format(format="PDF", reason=_short(exc))) from exc
    if count > limits.max_pages:
        raise DocumentTooLarge(texts.TOO_MANY_PAGES.format(count=count, limit=limits.max_pages))
    chars = 0
    for page in reader.pages:
        try:
            text = page.extract_text() or ""
        except MemoryError:
            raise
        except Exception as exc:
            raise UnreadableFileError(texts.CORRUPT.format(format="PDF", reason=_short(exc))) from exc
        chars += len(text)
        limits.check_chars(chars)
        yield text


def _load_pdf(path: Path, data: bytes, limits: ParseLimits) -> LoadedFile:
    """Text of each page (pypdf extract_text), pages joined by blank lines."""
    reader = _open_pdf(data)
    pages = list(_pdf_pages(reader, limits))
    text = "\n\n".join(p.strip("\n") for p in pages if p.strip())
    if not text:
        raise UnreadableFileError(texts.NO_PDF_TEXT)
    return LoadedFile(path, text, _pdf_title(reader), None, "pdf")


# --------------------------------------------------------------------------
# entry point

_LOADERS: dict[str, Callable[[Path, bytes, ParseLimits], LoadedFile]] = {
    ".txt": lambda path, data, _: _load_txt(path, data),
    ".md": lambda path, data, _: _load_md(path, data),
    ".markdown": lambda path, data, _: _load_md(path, data),
    ".html": lambda path, data, _: _load_html(path, data),
    ".htm": lambda path, data, _: _load_html(path, data),
    ".docx": _load_docx,
    ".pdf": _load_pdf,
}
_FORMAT_NAMES = {".pdf": "PDF", ".docx": "DOCX", ".html": "HTML"}


def _check_path(path: Path) -> str:
    """The lower-case suffix of an existing regular file with a supported type."""
    if not path.exists():
        raise UnreadableFileError(texts.NOT_FOUND)
    if not path.is_file():
        raise UnreadableFileError(texts.NOT_A_FILE)
    suffix = path.suffix.lower()
    if suffix not in _LOADERS:
        supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
        raise UnreadableFileError(
            texts.UNSUPPORTED_TYPE.format(suffix=suffix or texts.UNSUPPORTED_NO_SUFFIX, supported=supported)
        )
    return suffix


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing files over ``max_bytes`` and empty ones."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentTooLarge(texts.FILE_TOO_LARGE.format(size=size, limit=max_bytes))
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(texts.CANNOT_READ_FILE.format(reason=exc.strerror or _short(exc))) from exc
    if not data:
        raise UnreadableFileError(texts.EMPTY_FILE)
    return data


def _content_kind(suffix: str, data: bytes) -> tuple[str, list[str]]:
    """The loader to use, from the content (the name only decides among text formats), and a warning if they differ."""
    found = sniff(data)
    binary = suffix in (".pdf", ".docx")
    if found is None or (found == ".html" and suffix in (".md", ".markdown", ".htm", ".html")):
        if binary:
            raise UnreadableFileError(texts.CORRUPT_NOT_FORMAT.format(format=_FORMAT_NAMES[suffix]))
        return suffix, []
    if not found.startswith("."):
        if binary:
            raise UnreadableFileError(texts.CORRUPT_CONTENT.format(format=_FORMAT_NAMES[suffix], found=found))
        raise UnreadableFileError(texts.NOT_A_DOCUMENT.format(found=found))
    if found == suffix:
        return suffix, []
    return found, [texts.READ_AS_CONTENT.format(found=_FORMAT_NAMES[found], suffix=suffix)]


def load_file(path: str | Path, max_bytes: int = 50_000_000, limits: ParseLimits | None = None) -> LoadedFile:
    """Read ``path`` into a LoadedFile; raise UnreadableFileError (DocumentTooLarge over a limit) with the reason if
    impossible."""
    limits = limits or ParseLimits(max_bytes=max_bytes)
    path = Path(path)
    suffix = _check_path(path)
    data = _read_bytes(path, limits.max_bytes)
    kind, warnings = _content_kind(suffix, data)
    loaded = _LOADERS[kind](path, data, limits)
    limits.check_chars(len(loaded.text))
    replaced = loaded.text.count("\ufffd")
    if replaced:
        warnings.append(texts.REPLACEMENT_CHARACTERS.format(n=replaced))
    return replace(loaded, warnings=tuple(warnings))
