"""Every user-facing message of the ingest layer, in one place: why a file was skipped or refused,
what `python -m ingest` prints, and what to try after a failure nobody anticipated.

The reasons are English with a short Chinese gloss where an upload shows them to a reader of the page.
"""
from __future__ import annotations

import sqlite3

# --- why a file cannot be read (UnreadableFileError: HTTP 422; DocumentTooLarge: 413) ------------------
NOT_FOUND = "file not found"
NOT_A_FILE = "not a regular file (directory?)"
UNSUPPORTED_TYPE = "unsupported file type '{suffix}' (supported: {supported})"
UNSUPPORTED_NO_SUFFIX = "(none)"
FILE_TOO_LARGE = "file too large: {size} bytes > {limit} byte limit"
CANNOT_READ_FILE = "cannot read file: {reason}"
EMPTY_FILE = "empty file"
EMPTY_DOCUMENT = "empty document: no text content"
NO_ENCODING = "cannot detect text encoding"
HTML_TOO_DEEP = "HTML nested too deeply"
CORRUPT = "corrupt {format}: {reason}"
CORRUPT_NOT_FORMAT = "corrupt {format}: the content is not a {format} file"
CORRUPT_CONTENT = "corrupt {format}: the content is {found}"
NOT_A_DOCUMENT = "not a document: the content is {found} (内容不是文档)"
ENCRYPTED_PDF = "encrypted PDF"
ENCRYPTED_PDF_REASON = "encrypted PDF ({reason})"
NO_PDF_TEXT = "no extractable text (scanned PDF? OCR is not supported)"
TOO_MUCH_TEXT = "too much text: more than {limit:,} characters (文字超过 {limit:,} 字的上限)"
TOO_MANY_PAGES = "too many pages: {count:,} > {limit:,} (页数超过上限)"
INFLATES_TOO_MUCH = "DOCX inflates to {total:,} bytes, more than the {limit:,} byte limit (解压后超过大小上限)"
TOO_MANY_HEADINGS = "too many headings: {count:,} > {limit:,} (标题数超过上限)"
TOO_MANY_CHUNKS = "too many chunks: {count:,} > {limit:,} (段落数超过上限)"
PARSE_TIMEOUT = "parsing took longer than {seconds:g} s (解析超时)"
PARSE_OUT_OF_MEMORY = "parsing needs more than the {memory_mb} MB memory limit (解析所需内存超过上限)"
PARSER_STOPPED = "{reason}; the parser stopped (exit code {code})"
NESTED_TOO_DEEPLY = "the document is nested too deeply (嵌套过深)"

# --- read, but worth knowing (IngestReport.warnings) ---------------------------------------------------
READ_AS_CONTENT = ("the content is {found} although the name ends in {suffix}: read as {found} (按实际内容读取)")
REPLACEMENT_CHARACTERS = ("{n} replacement character(s) U+FFFD in the text: some characters of the original may be lost"
                          " (含替换字符)")

# --- why a file of a run was skipped (IngestReport.skipped) --------------------------------------------
SKIP_HIDDEN = "hidden file (its name or folder starts with '.')"
SKIP_SAME_NAME = "another file with the same name is in this run; rename one"
SKIP_UNSUPPORTED = "unsupported file type '{suffix}'"
SKIP_CANNOT_READ = "cannot read: {reason}"
SKIP_NO_TEXT = "no text to index"

# --- the request itself (IngestError) and the index -----------------------------------------------------
PATH_NOT_FOUND = "路径不存在 / path not found: {paths}"
NOT_IN_INDEX = "索引中没有这些文档 / not in the index: {names}"
SERVER_COLLECTION_DAMAGED = (
    "the Chroma server's collection is damaged ({detail}); rebuild it with `python -m ingest --rebuild`"
)

# --- python -m ingest ---------------------------------------------------------------------------------
CLI_DESCRIPTION = "Index .txt .md .html .docx .pdf files into the assistant's Chroma index."
CLI_SKIPPED = "skipped: {name}: {reason}"
CLI_WARNING = "warning: {name}: {warning}"
CLI_SUSPICIOUS = (
    "suspicious: {name}: {count} chunk(s) addressed to a model ({phrase!r}); they are never quoted as answers"
    " / 可疑:{name} 有 {count} 段疑似对模型下达的指令,不会被引用为答案"
)
CLI_REPAIRED = "repaired: {line}"
CLI_ERROR = "error: {message}"
CLI_INTERRUPTED = "error: 已中断;再次运行同一命令即可继续 / interrupted: run the same command again to finish"
PROGRESS_FILES = "files"
PROGRESS_EMBEDDINGS = "embeddings (dense index)"
PROGRESS_LINE = "{desc}: {done}/{total} {unit}s ({percent}%), {seconds:.0f} s{note}"  # in a log, every few seconds


def unexpected(exc: BaseException) -> str:
    """For failures nobody anticipated: what happened and what to try, in Chinese and English."""
    detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    if isinstance(exc, sqlite3.DatabaseError):
        return (f"索引文件无法读取({detail});请运行 `python -m ingest --repair`。"
                f" / The index files cannot be read ({detail}): run `python -m ingest --repair`.")
    if isinstance(exc, OSError):
        return (
            f"文件系统错误({detail});请检查路径与权限。 / File system error "
            f"({detail}): check the paths and permissions."
        )
    return (f"意外错误({detail});请重试,若索引异常请运行 `python -m ingest --repair`。"
            f" / Unexpected error ({detail}); try again, and if the index misbehaves run `python -m ingest --repair`.")
