"""Tests for ingest.loaders: every format, the Chinese encodings, and every refusal."""

from __future__ import annotations

import dataclasses
import io
import os
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from ingest.loaders import SUPPORTED_SUFFIXES, LoadedFile, UnreadableFileError, load_file

# A real paragraph (209 characters) from /work/shared/corpus/erqi-plan-2021-2026.txt,
# kept exactly, with its stray English "and" and mixed half-/full-width punctuation.
PARAGRAPH = (
    "坚持新发展理念 and 以人民为中心的发展思想,围绕全省“大而优、大而新、大而强”的定位要求,"
    "突出高标准、着眼国家队,聚焦建设现代化国际化生态化新城区,锚定“中优典范、西美示范”城市功能,"
    "深耕“品质二七、田园二七、温暖二七”,加快打造高质量发展示范区、改革创新引领区、中优功能核心区、"
    "西美风貌展示区、美好生活样板区、社会治理先行区,推动各项事业发展和党的建设再上新台阶,"
    "奋力在郑州国家中心城市提质进位中出重彩、成高峰。"
)
HEADING = "今后五年,二七将重点打造“六个区”"
# Heading, blank line, paragraph, caption; odd spacing and a trailing newline kept on purpose.
DOCUMENT = f"{HEADING}\n\n总体要求\n\n{PARAGRAPH}\n\n  道路综合改造全面完成,营造整洁舒适的城市环境  \n"


def write(tmp_path: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` (text is encoded with ``encoding``) to tmp_path/name."""
    path = tmp_path / name
    path.write_bytes(data.encode(encoding) if isinstance(data, str) else data)
    return path


# --------------------------------------------------------------------------- API


def test_supported_suffixes() -> None:
    assert SUPPORTED_SUFFIXES == frozenset(
        {".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf"}
    )


def test_loaded_file_is_frozen(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "a.txt", "你好,世界。"))
    assert isinstance(loaded, LoadedFile)
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.text = "x"  # type: ignore[misc]


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    ("encoding", "expected_codec", "extra"),
    [
        ("utf-8", "utf-8", ""),
        ("utf-8-sig", "utf-8-sig", ""),
        ("gbk", "gb18030", ""),
        ("gb2312", "gb18030", ""),
        # 𠮷 (U+20BB7) and € exist in GB18030 but not in GB2312; 𠮷 not in GBK either.
        ("gb18030", "gb18030", "\n𠮷姓与€符号。\n"),
        ("utf-16", "utf-16", ""),
        ("utf-16-le", "utf-16-le", ""),  # no BOM: left to the detector
    ],
)
def test_txt_round_trips_each_encoding(
    tmp_path: Path, encoding: str, expected_codec: str, extra: str
) -> None:
    original = DOCUMENT + extra
    path = write(tmp_path, "规划.txt", original, encoding)
    loaded = load_file(path)
    assert loaded.text == original
    assert loaded.encoding == expected_codec
    assert loaded.fmt == "txt"
    assert loaded.title is None
    assert loaded.path == path
    assert path.read_bytes().decode(loaded.encoding) == original  # encoding is usable as a codec


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "utf-8-sig"])
def test_txt_keeps_crlf_whitespace_and_punctuation(tmp_path: Path, encoding: str) -> None:
    original = DOCUMENT.replace("\n", "\r\n") + "\t全角:(一)  半角:(1)\u3000结束。\r\n\r\n"
    loaded = load_file(write(tmp_path, "crlf.txt", original, encoding))
    assert loaded.text == original
    assert "\r\n" in loaded.text


def test_uppercase_suffix_and_str_path(tmp_path: Path) -> None:
    path = write(tmp_path, "README.TXT", PARAGRAPH)
    assert load_file(str(path)).text == PARAGRAPH


# --------------------------------------------------------------------------- markdown

MARKDOWN = (
    "```\n# 不是标题(代码块内)\n```\n\n"
    "# 二七区 **发展** 规划\n\n"
    "## 总体要求\n\n"
    f"{PARAGRAPH}\n\n"
    "- 品质二七\n- 田园二七\n\n"
    "[链接](http://example.com) `code`\r\n"
)


@pytest.mark.parametrize("suffix", [".md", ".markdown"])
def test_markdown_kept_verbatim_with_title(tmp_path: Path, suffix: str) -> None:
    loaded = load_file(write(tmp_path, f"doc{suffix}", MARKDOWN))
    assert loaded.text == MARKDOWN
    assert loaded.title == "二七区 发展 规划"
    assert loaded.fmt == "md"
    assert loaded.encoding == "utf-8"


def test_markdown_gbk_and_no_title(tmp_path: Path) -> None:
    original = f"## 二级标题\n\n{PARAGRAPH}\n"
    loaded = load_file(write(tmp_path, "doc.md", original, "gbk"))
    assert loaded.text == original
    assert loaded.encoding == "gb18030"
    assert loaded.title is None


# --------------------------------------------------------------------------- HTML

HTML = f"""<!DOCTYPE html>
<html>
<head>
  <meta charset="utf-8">
  <title>  二七区
   规划  </title>
  <style>p {{ color: red; }}</style>
  <script>document.write("<p>不应出现</p>");</script>
</head>
<body>
  <!-- 注释不应出现 -->
  <h1>今后五年,二七将重点打造“六个区”</h1>
  <div>记者   景静/文</div>
  <p>{PARAGRAPH[:40]}
     {PARAGRAPH[40:80]}</p>
  <p>Escaped: &lt;script&gt;alert(1)&lt;/script&gt;</p>
  <pre>
if a &lt; b:
    &lt;script&gt;alert(1)&lt;/script&gt;
</pre>
  <h2>奋斗目标</h2>
  <ul><li>品质二七</li><li>田园<b>二七</b></li></ul>
  <div>第一行<br>第二行</div>
  <table>
    <tr><th>项目</th><th>数量</th></tr>
    <tr><td>学校</td><td> 12 </td></tr>
  </table>
  <noscript>请启用脚本</noscript>
  <template><p>模板内容</p></template>
  <script>var hidden = 1;</script>
</body>
</html>
"""

HTML_TEXT = (
    "今后五年,二七将重点打造“六个区”\n"
    "\n"
    "记者 景静/文\n"
    "\n"
    f"{PARAGRAPH[:40]} {PARAGRAPH[40:80]}\n"
    "\n"
    "Escaped: <script>alert(1)</script>\n"
    "\n"
    "if a < b:\n"
    "    <script>alert(1)</script>\n"
    "\n"
    "奋斗目标\n"
    "\n"
    "品质二七\n"
    "田园二七\n"
    "\n"
    "第一行\n"
    "第二行\n"
    "\n"
    "项目 | 数量\n"
    "学校 | 12"
)


@pytest.mark.parametrize("suffix", [".html", ".htm"])
def test_html_text_and_title(tmp_path: Path, suffix: str) -> None:
    loaded = load_file(write(tmp_path, f"page{suffix}", HTML))
    assert loaded.text == HTML_TEXT
    assert loaded.title == "二七区 规划"
    assert loaded.fmt == "html"
    assert loaded.encoding == "utf-8"
    for hidden in ("不应出现", "注释", "color", "hidden", "请启用脚本", "模板内容"):
        assert hidden not in loaded.text


def test_html_meta_charset_gbk(tmp_path: Path) -> None:
    html = HTML.replace('charset="utf-8"', 'charset="gb2312"')
    loaded = load_file(write(tmp_path, "page.html", html, "gbk"))
    assert loaded.text == HTML_TEXT
    assert loaded.encoding == "gb18030"


def test_html_gbk_without_declaration_is_detected(tmp_path: Path) -> None:
    html = f"<html><body><p>{PARAGRAPH}</p></body></html>"
    loaded = load_file(write(tmp_path, "page.html", html, "gbk"))
    assert loaded.text == PARAGRAPH
    assert loaded.encoding == "gb18030"


def test_html_title_falls_back_to_h1(tmp_path: Path) -> None:
    html = "<body><h1> 总体 <i>要求</i> </h1><p>正文。</p></body>"
    loaded = load_file(write(tmp_path, "page.html", html))
    assert loaded.title == "总体 要求"
    assert loaded.text == "总体 要求\n\n正文。"


def test_html_without_title(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "p.html", "<p>只有正文。</p>")).title is None


def test_html_with_only_script_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "p.html", "<html><head><script>alert(1)</script></head></html>")
    with pytest.raises(UnreadableFileError, match="no text"):
        load_file(path)


# --------------------------------------------------------------------------- DOCX


def make_docx(path: Path, core_title: str = "") -> Path:
    """A DOCX with a heading, paragraphs (two empty), a table with a merged cell."""
    document = docx.Document()
    document.core_properties.title = core_title
    document.add_paragraph("前言段落。")
    document.add_heading(HEADING, level=1)
    document.add_paragraph(PARAGRAPH)
    document.add_paragraph("")
    document.add_paragraph("   ")
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(table.rows, [("项目", "数量", "备注"), ("学校", "12", "新建"), ("", "", "")], strict=False):
        for cell, value in zip(row.cells, values, strict=False):
            cell.text = value
    merged = table.cell(1, 1).merge(table.cell(1, 2))
    merged.text = "12 所"
    document.add_paragraph("结尾,全文完。")
    document.save(str(path))
    return path


DOCX_TEXT = (
    f"前言段落。\n\n{HEADING}\n\n{PARAGRAPH}\n\n"
    "项目 | 数量 | 备注\n学校 | 12 所\n\n"
    "结尾,全文完。"
)


def test_docx_text_and_heading_title(tmp_path: Path) -> None:
    loaded = load_file(make_docx(tmp_path / "报告.docx"))
    assert loaded.text == DOCX_TEXT
    assert loaded.title == HEADING
    assert loaded.fmt == "docx"
    assert loaded.encoding is None


def test_docx_core_properties_title_wins(tmp_path: Path) -> None:
    loaded = load_file(make_docx(tmp_path / "报告.docx", core_title="二七区规划"))
    assert loaded.title == "二七区规划"


def test_docx_without_title(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("只有正文。")
    document.save(str(tmp_path / "a.docx"))
    loaded = load_file(tmp_path / "a.docx")
    assert (loaded.text, loaded.title) == ("只有正文。", None)


def test_docx_without_text_is_refused(tmp_path: Path) -> None:
    docx.Document().save(str(tmp_path / "blank.docx"))
    with pytest.raises(UnreadableFileError, match="empty"):
        load_file(tmp_path / "blank.docx")


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04 not a zip at all", b"plain text, not a docx", b"zip"],
    ids=["bad-zip-header", "text", "short"],
)
def test_corrupt_docx(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match="corrupt DOCX") as info:
        load_file(write(tmp_path, "坏.docx", data))
    assert "\n" not in str(info.value)


def test_zip_that_is_not_docx(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a word document")
    with pytest.raises(UnreadableFileError, match="corrupt DOCX"):
        load_file(write(tmp_path, "x.docx", buffer.getvalue()))


# --------------------------------------------------------------------------- PDF


def pdf_bytes(writer: PdfWriter) -> bytes:
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def ascii_pdf(pages: list[str], title: str | None = None) -> PdfWriter:
    """A PDF (built with pypdf alone) with one Helvetica text line per page."""
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    for text in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        content = ContentStream(None, None)
        content.set_data(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1"))
        page.replace_contents(content)
    if title is not None:
        writer.add_metadata({"/Title": title})
    return writer


def test_pdf_ascii_pages_and_title(tmp_path: Path) -> None:
    path = write(tmp_path, "a.pdf", pdf_bytes(ascii_pdf(["Hello page one.", "Page two."], "Plan")))
    loaded = load_file(path)
    assert loaded.text == "Hello page one.\n\nPage two."
    assert loaded.title == "Plan"
    assert loaded.fmt == "pdf"
    assert loaded.encoding is None


def test_pdf_without_title(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "a.pdf", pdf_bytes(ascii_pdf(["Only text."]))))
    assert loaded.title is None


def test_pdf_chinese_with_reportlab(tmp_path: Path) -> None:
    """Chinese text via reportlab's built-in CID font STSong-Light round-trips through pypdf."""
    pytest.importorskip("reportlab")
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    path = tmp_path / "规划.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setTitle("二七区规划")
    lines = [PARAGRAPH[i : i + 30] for i in range(0, 90, 30)]
    for i, line in enumerate(lines):
        pdf.setFont("STSong-Light", 12)
        pdf.drawString(40, 800 - 20 * i, line)
    pdf.showPage()
    pdf.setFont("STSong-Light", 12)
    pdf.drawString(40, 800, HEADING)
    pdf.showPage()
    pdf.save()
    loaded = load_file(path)
    assert loaded.text == "\n".join(lines) + "\n\n" + HEADING
    assert loaded.title == "二七区规划"


def test_pdf_encrypted_with_user_password_is_refused(tmp_path: Path) -> None:
    writer = ascii_pdf(["Secret text."])
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with pytest.raises(UnreadableFileError, match="^encrypted PDF"):
        load_file(write(tmp_path, "locked.pdf", pdf_bytes(writer)))


def test_pdf_encrypted_with_empty_user_password_is_read(tmp_path: Path) -> None:
    writer = ascii_pdf(["Readable text."])
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    path = write(tmp_path, "owner-only.pdf", pdf_bytes(writer))
    assert PdfReader(path).is_encrypted
    assert load_file(path).text == "Readable text."


def test_pdf_without_text_is_refused(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    with pytest.raises(UnreadableFileError, match=r"no extractable text \(scanned PDF\? OCR"):
        load_file(write(tmp_path, "scan.pdf", pdf_bytes(writer)))


@pytest.mark.parametrize(
    "data", [b"%PDF-1.4\n garbage", b"not a pdf at all"], ids=["header", "text"]
)
def test_corrupt_pdf(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(UnreadableFileError, match="corrupt PDF") as info:
        load_file(write(tmp_path, "坏.pdf", data))
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- refusals


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", os.urandom(3000))
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        os.urandom(5000),
        b"\x00" * 200,
        b"\x89PNG\r\n\x1a\n" + os.urandom(3000),
        b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 20,
        b"\xff\xfe" + os.urandom(3000),
        _zip_bytes(),
        "正常的开头。".encode() + os.urandom(2000),
    ],
    ids=["random", "nul", "png", "elf", "fake-utf16-bom", "zip", "text-then-junk"],
)
def test_binary_renamed_txt_is_refused(tmp_path: Path, data: bytes) -> None:
    # known signatures are named (sniffed), the rest fail decoding
    with pytest.raises(
        UnreadableFileError, match="cannot detect text encoding|the content is a PNG|the content is an ELF|corrupt DOCX"
    ):
        load_file(write(tmp_path, "binary.txt", data))


def test_binary_renamed_md_and_html_are_refused(tmp_path: Path) -> None:
    junk = os.urandom(4000)
    for name in ("binary.md", "binary.html"):
        with pytest.raises(UnreadableFileError, match="cannot detect text encoding"):
            load_file(write(tmp_path, name, junk))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="file not found"):
        load_file(tmp_path / "不存在.txt")


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(UnreadableFileError, match="directory"):
        load_file(tmp_path / "folder.txt")


@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.html", "empty.docx", "empty.pdf"])
def test_zero_byte_file(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnreadableFileError, match="^empty file$"):
        load_file(write(tmp_path, name, b""))


@pytest.mark.parametrize(
    ("name", "content", "encoding"),
    [("blank.txt", " \r\n\t\u3000\n", "utf-8"), ("blank.md", "\n\n  ", "utf-8"),
     ("blank.html", "  \n ", "utf-8"), ("blank16.txt", "  \n", "utf-16")],
)
def test_whitespace_only_file(tmp_path: Path, name: str, content: str, encoding: str) -> None:
    with pytest.raises(UnreadableFileError, match="^empty file$"):
        load_file(write(tmp_path, name, content, encoding))


@pytest.mark.parametrize("name", ["表格.xlsx", "notes.doc", "archive.tar.gz", "Makefile"])
def test_unsupported_suffix(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, b"whatever")
    with pytest.raises(UnreadableFileError, match="unsupported file type") as info:
        load_file(path)
    message = str(info.value)
    assert (path.suffix or "(none)") in message
    assert all(suffix in message for suffix in SUPPORTED_SUFFIXES)


def test_too_large(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", "二七" * 50)  # 300 bytes in UTF-8
    with pytest.raises(UnreadableFileError, match=r"^file too large: 300 bytes > 299"):
        load_file(path, max_bytes=299)
    assert load_file(path, max_bytes=300).text == "二七" * 50


def test_error_messages_are_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.txt"
    for path in (missing, write(tmp_path, "x.xyz", b"1"), write(tmp_path, "e.txt", b"")):
        with pytest.raises(UnreadableFileError) as info:
            load_file(path)
        assert str(info.value) and "\n" not in str(info.value)
