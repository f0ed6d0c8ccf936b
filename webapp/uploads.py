"""Uploaded files: safe names, size limits, and a path that can only be inside the corpus folder."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import BinaryIO

from ingest.loaders import SUPPORTED_SUFFIXES
from webapp import texts

_RESERVED = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
_SPACES = re.compile(r"\s+")
# UTF-8 bytes: file systems allow 255, and the backup copy adds a few (a 300-character Chinese name is 900).
MAX_NAME_BYTES = 200
_COPY_BLOCK = 1 << 20


class UploadError(Exception):
    """An upload that is refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def human_size(n: int) -> str:
    """Decimal units, as the limit is set (20_000_000 → "20 MB")."""
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"


def supported_list() -> str:
    return " ".join(sorted(SUPPORTED_SUFFIXES))


def _visible(ch: str) -> bool:
    """Drop control, format (zero-width, bidi overrides), surrogate and unassigned characters."""
    return unicodedata.category(ch)[0] != "C"


def sanitize_filename(name: str | None) -> str:
    """A plain file name for the corpus folder.

    Directories (``/`` or ``\\``) are stripped, ``..`` collapsed, control and
    invisible characters removed, characters illegal on common file systems
    replaced; letters of any script (Chinese included) are kept.  The suffix is
    lower-cased.  A name with nothing left gets a stable fallback.
    """
    raw = unicodedata.normalize("NFC", name or "")
    raw = "".join(ch for ch in raw if _visible(ch) or ch in "\\/")
    base = re.split(r"[\\/]", raw)[-1]
    base = _RESERVED.sub("_", base)
    base = _SPACES.sub(" ", base).strip()
    stem, dot, suffix = base.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,10}", suffix):
        stem, suffix = base, ""
    while ".." in stem:
        stem = stem.replace("..", ".")
    stem = stem.strip(" .-_")  # no hidden files (leading dot), no trailing dots or spaces
    if not stem:
        stem = "upload-" + hashlib.sha1((name or "").encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{stem}.{suffix.lower()}" if suffix else stem


def check_name(filename: str | None) -> str:
    """The safe name an upload is stored under; UploadError for no name (400), an unsupported type (415)
    or a name too long for the file system (400, counted in bytes)."""
    if not filename or not filename.strip():
        raise UploadError(400, texts.ERR_UPLOAD_EMPTY_NAME)
    name = sanitize_filename(filename)
    check_suffix(name)
    size = len(name.encode("utf-8"))
    if size > MAX_NAME_BYTES:
        raise UploadError(400, texts.ERR_NAME_TOO_LONG.format(n=size, limit=MAX_NAME_BYTES))
    return name


def too_large(limit: int) -> UploadError:
    return UploadError(413, texts.ERR_UPLOAD_TOO_LARGE.format(limit=human_size(limit)))


def check_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadError(
            415, texts.ERR_UNSUPPORTED_TYPE.format(suffix=suffix or texts.NO_SUFFIX, supported=supported_list())
        )
    return suffix


def target_path(corpus_dir: Path, safe_name: str) -> Path:
    """corpus_dir/safe_name, refusing anything that would resolve elsewhere (``..``, symlinks)."""
    root = Path(corpus_dir).resolve()
    candidate = (root / safe_name).resolve()
    if candidate.parent != root or candidate.name != safe_name or safe_name.startswith("."):
        raise UploadError(400, texts.ERR_UPLOAD_OUTSIDE)
    return candidate


def save_stream(source: BinaryIO, corpus_dir: Path, max_bytes: int) -> Path:
    """Copy an upload into a hidden temporary file inside ``corpus_dir`` (same file system), enforcing the size
    limit."""
    root = Path(corpus_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=root)
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := source.read(_COPY_BLOCK):
                written += len(block)
                if written > max_bytes:
                    raise too_large(max_bytes)
                out.write(block)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)
