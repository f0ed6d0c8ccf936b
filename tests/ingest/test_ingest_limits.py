"""Bounded ingest and nothing dropped silently: short-line lists, bombs, huge PDFs, parse limits, U+FFFD,
sniffed content types, single-line passages, every skipped file listed.

The bombs are parsed in the real worker process (``ingest.worker``), with its real memory cap."""
from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from bench.security import docx_bomb, one_line_pages_pdf, roster
from ingest.__main__ import main
from ingest.chunker import ChunkingParams, _Outline, chunk_text
from ingest.limits import DocumentTooLarge, ParseLimits, UnreadableFileError
from ingest.loaders import load_file
from ingest.pipeline import Ingestor, IngestReport, run_ingest
from ingest.worker import ParseJob, ParserWorker
from settings import Settings
from vectorstore.chroma.store import ChunkStore
from vectorstore.embedding.embeddings import load_embeddings

from common import CORPUS_DIR, PLAN


# --- files that cost too much ----------------------------------------------------------------------
def stored_chars(chunks) -> int:
    return sum(len(c.text) + len(c.section) + len(c.title) for c in chunks)


def test_outline_nesting_is_bounded() -> None:
    outline = _Outline()
    for i in range(3000):
        outline.open(5, f"第{i}行")
    assert len(outline.stack) <= 2
    assert outline.path() == "第0行 › 第2999行"


@pytest.mark.slow  # embeds 3,000 and 6,000 list lines
def test_short_line_list_indexes_in_linear_size_and_seconds(fresh_settings: Settings, tmp_path: Path) -> None:
    """Was: 3,000 lines took 264 s, a 553 MB index and 2 GB of memory (sizes grew with the square of the lines)."""
    small, large = tmp_path / "名单1500.txt", tmp_path / "名单3000.txt"
    small.write_text(roster(1500), encoding="utf-8")
    large.write_text(roster(3000), encoding="utf-8")
    a = chunk_text(small.read_text(encoding="utf-8"), small.name, ChunkingParams())
    b = chunk_text(large.read_text(encoding="utf-8"), large.name, ChunkingParams())
    assert stored_chars(b) <= 1.5 * len(large.read_text(encoding="utf-8")), "stored text is about the text itself"
    assert 1.7 < stored_chars(b) / stored_chars(a) < 2.3, "twice the lines, twice the size"
    assert max(len(c.section) for c in b) < 100

    started = time.perf_counter()
    report = run_ingest(fresh_settings, [large], show_progress=False)
    assert report.added == [large.name] and time.perf_counter() - started < 60
    store = ChunkStore(fresh_settings, load_embeddings(fresh_settings))
    assert store.count() == len(b) and not store.has_pending()
    assert any("张2999" in c.text for c in store.all_chunks()), "the last line is indexed too"


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return {
        "docx-1gb": docx_bomb(1000, folder / "bomb.docx"),
        "docx-90mb": docx_bomb(90, folder / "bomb90.docx"),
        "pdf-20000": one_line_pages_pdf(20_000, folder / "pages.pdf"),
    }


def parse(worker: ParserWorker, path: Path, limits: ParseLimits):
    return worker.parse(ParseJob(str(path), path.name, ChunkingParams(), limits))


def refused(path: Path, limits: ParseLimits, match: str, seconds: float) -> DocumentTooLarge:
    """Parse ``path`` in a worker of its own: it must be refused as too large (413) within ``seconds``."""
    worker = ParserWorker(limits.memory_mb)
    try:
        started = time.perf_counter()
        with pytest.raises(DocumentTooLarge, match=match) as info:
            parse(worker, path, limits)
        assert info.value.status == 413 and time.perf_counter() - started < seconds
        return info.value
    finally:
        worker.close()


@pytest.mark.slow  # bombs
def test_docx_bomb_is_refused_before_it_is_inflated(bombs: dict[str, Path]) -> None:
    """Was: a 1.5 MB DOCX inflating to ~1 GB took the server past 7 GB in 13 s."""
    me = psutil.Process()
    before = me.memory_info().rss
    refused(bombs["docx-1gb"], ParseLimits(max_bytes=20_000_000), "inflates to 1,0", 10)
    assert me.memory_info().rss - before < 100 << 20, "parsed in the worker, not here"


@pytest.mark.slow  # bombs
def test_parser_memory_cap_and_time_limit(bombs: dict[str, Path]) -> None:
    """A DOCX under the inflate limit still costs the worker only: its memory is capped and it is killed when slow."""
    small = ParserWorker(160)
    try:
        with pytest.raises(DocumentTooLarge, match="memory") as info:
            parse(small, bombs["docx-90mb"], ParseLimits(max_bytes=20_000_000, memory_mb=160))
        assert info.value.status == 413
        # and a good file goes through the same (restarted) worker
        ok = parse(
            small,
            CORPUS_DIR / PLAN,
            ParseLimits(memory_mb=160),
        )
        assert ok.chunks and ok.fmt == "txt"
    finally:
        small.close()
    # the parse needs ~2 s before its text limit stops it
    refused(bombs["docx-90mb"], ParseLimits(max_bytes=20_000_000, timeout_s=0.5), "took longer than 0.5 s", 5)


@pytest.mark.slow  # bombs
def test_pdf_of_20000_one_line_pages_is_refused(bombs: dict[str, Path]) -> None:
    """Was: a 3 MB PDF of 20,000 one-line pages drove the server to 11 GB and an 8 GB index."""
    refused(bombs["pdf-20000"], ParseLimits(max_bytes=20_000_000), "too many pages: 20,000 > 2,000", 30)
    # within the page limit, one line per page indexes as a list, in linear size
    small = one_line_pages_pdf(1000, bombs["pdf-20000"].with_name("pages1000.pdf"))
    chunks = chunk_text(load_file(small).text, small.name, ChunkingParams())
    assert len(chunks) < 100 and max(len(c.section) for c in chunks) < 100


def test_too_much_text_is_refused() -> None:
    limits = ParseLimits(max_chars=1000)
    with pytest.raises(DocumentTooLarge, match="more than 1,000 characters"):
        limits.check_chars(1001)


# --- nothing dropped silently -------------------------------------------------------------------------
def test_single_unpunctuated_line_is_indexed(fresh_settings: Settings, tmp_path: Path) -> None:
    """Was: such a passage became the title and was dropped ("no text to index": 58 of 2,905 news passages)."""
    news = tmp_path / "快讯.txt"
    news.write_text("二七区新建口袋公园3处并于今年国庆前全部开放\n", encoding="utf-8")
    report = run_ingest(fresh_settings, [news], show_progress=False)
    assert report.added == ["快讯.txt"] and not report.skipped
    chunks = ChunkStore(fresh_settings, load_embeddings(fresh_settings)).all_chunks()
    assert [c.text for c in chunks] == ["二七区新建口袋公园3处并于今年国庆前全部开放"]


def test_replacement_character_in_valid_utf8_is_accepted_with_a_warning(fresh_settings: Settings, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Was: refused as undecodable."""
    text = "二七区图书馆藏书\ufffd\ufffd万册。" * 3 + "\n"
    path = tmp_path / "替换字符.txt"
    path.write_bytes(text.encode("utf-8"))
    loaded = load_file(path)
    assert loaded.text == text and loaded.encoding == "utf-8"
    assert any("U+FFFD" in w for w in loaded.warnings)
    assert main(["--index-dir", str(fresh_settings.store.index_dir), "-q", str(path)]) == 0
    captured = capsys.readouterr()
    assert "added 1" in captured.out and "warning: 替换字符.txt" in captured.err and "U+FFFD" in captured.err


def test_content_type_is_sniffed_not_taken_from_the_name(tmp_path: Path) -> None:
    """Was: a PDF renamed .txt was indexed as PDF syntax."""
    from test_loaders import ascii_pdf, pdf_bytes

    renamed = tmp_path / "report.txt"
    renamed.write_bytes(pdf_bytes(ascii_pdf(["Erqi district report."])))
    loaded = load_file(renamed)
    assert loaded.fmt == "pdf" and loaded.text == "Erqi district report."
    assert any("read as PDF" in w for w in loaded.warnings)
    image = tmp_path / "photo.md"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    with pytest.raises(UnreadableFileError, match="a PNG image"):
        load_file(image)


def test_every_skipped_file_is_listed_with_its_reason_and_counted(fresh_settings: Settings, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "docs"
    (folder / ".cache").mkdir(parents=True)
    (folder / "ok.txt").write_text("二七区。正文一句。\n", encoding="utf-8")
    (folder / ".hidden.txt").write_text("隐藏文件。\n", encoding="utf-8")
    (folder / ".cache" / "inner.txt").write_text("隐藏目录里的文件。\n", encoding="utf-8")
    (folder / "table.xyz").write_text("不支持的类型。\n", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert main(["--index-dir", str(fresh_settings.store.index_dir), "-q", str(folder)]) == 1, (
        "skipped files make the exit status 1"
    )
    captured = capsys.readouterr()
    skipped = {
        line.split(": ")[1].rsplit("/", 1)[-1]: line
        for line in captured.err.splitlines()
        if line.startswith("skipped: ")
    }
    assert set(skipped) == {".hidden.txt", "inner.txt", "table.xyz", "empty.txt", "image.txt"}
    assert "hidden" in skipped[".hidden.txt"] and "unsupported" in skipped["table.xyz"]
    assert "empty" in skipped["empty.txt"] and "PNG" in skipped["image.txt"]
    assert "added 1" in captured.out and "skipped 5" in captured.out


@pytest.mark.slow  # bombs
def test_a_refused_file_has_its_status(fresh_settings: Settings, bombs: dict[str, Path]) -> None:
    """The report tells a size refusal (413 for an upload) from an unreadable file (422)."""
    report = IngestReport()
    Ingestor(fresh_settings.replace(max_upload_bytes=20_000_000), show_progress=False).write(
        [bombs["docx-1gb"]], report
    )
    assert report.skipped and report.too_large == {str(bombs["docx-1gb"])}
