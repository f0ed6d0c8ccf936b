"""ingest.structure: lines → blocks (title / heading / caption / paragraph) → sentences.

Full-width punctuation is written as \\u escapes on purpose so no editor or
tool can silently fold it into ASCII.
"""
from __future__ import annotations

import pytest

from ingest.structure import (
    Span,
    heading_rank,
    is_unpunctuated,
    parse_blocks,
    split_sentences,
    title_text,
)

FW_EXCL, FW_QUEST, FW_SEMI = "\uff01", "\uff1f", "\uff1b"  # ！ ？ ；
FW_COMMA, FW_COLON = "\uff0c", "\uff1a"  # ， ：


def sentences(text: str) -> list[str]:
    return [s.text(text) for s in split_sentences(text, Span(0, len(text)))]


# --------------------------------------------------------------------------- sentences


def test_split_at_ideographic_full_stop() -> None:
    assert sentences("第一句。第二句。") == ["第一句。", "第二句。"]


def test_split_at_half_width_enders() -> None:
    assert sentences("甲来了!乙呢?丙走了;丁。") == ["甲来了!", "乙呢?", "丙走了;", "丁。"]


@pytest.mark.parametrize("ender", [FW_EXCL, FW_QUEST, FW_SEMI])
def test_split_at_full_width_enders(ender: str) -> None:
    text = f"甲来了{ender}乙走了。"
    assert sentences(text) == [f"甲来了{ender}", "乙走了。"]


def test_closing_quotes_stay_with_their_sentence() -> None:
    text = "他说:“好。”然后走了。她问:「真的吗?」(笑)对。"
    assert sentences(text) == ["他说:“好。”", "然后走了。", "她问:「真的吗?」", "(笑)对。"]


def test_full_width_closing_paren_and_book_title_closer() -> None:
    text = "见《报告》(全文。\uff09下一句。"
    assert sentences(text) == ["见《报告》(全文。\uff09", "下一句。"]


def test_runs_of_enders_are_one_boundary() -> None:
    assert sentences("真的吗?!好的。。") == ["真的吗?!", "好的。。"]


def test_trailing_fragment_without_ender_is_kept() -> None:
    # The review is cut off mid-sentence: "…2023年2月综合改".
    assert sentences("前一句。2023年2月综合改") == ["前一句。", "2023年2月综合改"]


def test_half_width_comma_does_not_split() -> None:
    assert sentences("2020年,二七区地区生产总值达到760亿元,是2015年的1.64倍。") == [
        "2020年,二七区地区生产总值达到760亿元,是2015年的1.64倍。"
    ]


def test_decimal_point_does_not_split() -> None:
    assert sentences("增长1.64倍。好。") == ["增长1.64倍。", "好。"]


def test_sentence_spans_are_offsets_into_the_original() -> None:
    text = "前言\n  第一句。 第二句!  \n第三句"
    span = Span(4, len(text))
    got = split_sentences(text, span)
    assert [s.text(text) for s in got] == ["第一句。", "第二句!", "第三句"]
    for s in got:
        assert 4 <= s.start < s.end <= len(text)
        assert s.text(text) == s.text(text).strip()


def test_empty_and_blank_spans_give_no_sentences() -> None:
    assert sentences("") == []
    assert sentences("   ") == []


# --------------------------------------------------------------------------- line classification helpers


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("总体要求", True),
        ("今后五年,二七将重点打造“六个区”", True),
        ("“官方带娃”模式赢得好评", True),
        ("第一句。", False),
        ("他说“好。”", False),
        ("包括:", False),
        ("一、", False),
        ("甲,", False),
        ("", False),
    ],
)
def test_is_unpunctuated(line: str, expected: bool) -> None:
    assert is_unpunctuated(line) is expected


@pytest.mark.parametrize("mark", [FW_COMMA, FW_COLON])
def test_full_width_comma_and_colon_are_punctuation(mark: str) -> None:
    assert is_unpunctuated(f"主要任务包括{mark}") is False


@pytest.mark.parametrize(
    ("line", "rank"),
    [
        ("# 标题", 1),
        ("## 第一节", 2),
        ("### 小节", 3),
        ("第一章 总则", 2),
        ("第三部分 主要任务", 2),
        ("一、总体要求", 2),
        ("二.奋斗目标", 2),
        ("（一）具体目标", 3),
        ("(二)具体目标", 3),
        ("1 项目为王、产业为基 打造高质量发展示范区", 3),
        ("2.1 目标", 3),
        ("3、改革", 3),
        ("(1)第一项", 4),
        ("加快打造「六个区」", 1),
        ("党建「五力」", 1),
        ("总体要求", 5),
        ("2020年成绩", 5),
        ("3.5%的增长", 5),
    ],
)
def test_heading_rank(line: str, rank: int) -> None:
    assert heading_rank(line) == rank


# --------------------------------------------------------------------------- blocks


def test_blocks_are_exact_spans_and_strip_whitespace() -> None:
    text = "\n\n  标题行很长一些的标题  \n\n正文第一句。正文第二句。\n"
    blocks = parse_blocks(text)
    assert [b.span.text(text) for b in blocks] == ["标题行很长一些的标题", "正文第一句。正文第二句。"]
    assert blocks[0].kind == "title"
    assert blocks[1].kind == "paragraph"
    assert [s.text(text) for s in blocks[1].sentences] == ["正文第一句。", "正文第二句。"]
    assert blocks[1].blank_before == 1


def test_crlf_lines_keep_exact_offsets() -> None:
    lf = "今后五年的发展蓝图报告\n\n总体要求\n\n第一句。第二句。\n\n\n照片说明文字在这里\n"
    crlf = lf.replace("\n", "\r\n")
    for text in (lf, crlf):
        blocks = parse_blocks(text)
        got = [(b.kind, b.span.text(text)) for b in blocks]
        assert got == [
            ("title", "今后五年的发展蓝图报告"),
            ("heading", "总体要求"),
            ("paragraph", "第一句。第二句。"),
            ("caption", "照片说明文字在这里"),
        ]
        for b in blocks:
            assert "\r" not in b.span.text(text)
            for s in b.sentences:
                assert "\r" not in s.text(text)


def test_caption_needs_two_blank_lines_and_no_body_after() -> None:
    text = (
        "报告标题在这一行文字\n\n小标题\n\n正文。\n\n\n照片说明一\n\n\n照片说明二\n\n下一个小标题\n\n正文。"
        "\n\n\n不是说明的小标题\n\n正文。"
    )
    kinds = {b.span.text(text): b.kind for b in parse_blocks(text)}
    assert kinds["照片说明一"] == "caption"
    assert kinds["照片说明二"] == "caption"
    assert kinds["下一个小标题"] == "heading"
    # Two blank lines above but followed by body text: a heading, not a caption.
    assert kinds["不是说明的小标题"] == "heading"


def test_markdown_heading_is_never_a_caption() -> None:
    text = "# 文档标题\n\n正文。\n\n\n## 第二节\n\n\n### 小节"
    kinds = {b.span.text(text): b.kind for b in parse_blocks(text)}
    assert kinds["# 文档标题"] == "title"
    assert kinds["## 第二节"] == "heading"
    assert kinds["### 小节"] == "heading"


def test_markdown_title_is_stripped_of_hashes() -> None:
    text = "# 二七区规划\n\n正文。"
    assert title_text(text, parse_blocks(text)) == "二七区规划"


def test_no_title_when_first_lines_are_sentences() -> None:
    text = "第一句。\n\n第二句。"
    blocks = parse_blocks(text)
    assert title_text(text, blocks) is None
    assert all(b.kind == "paragraph" for b in blocks)


def test_byline_near_the_top_is_a_caption_not_a_title() -> None:
    text = "记者 张三/文 李四/图\n\n今后五年发展蓝图标题\n\n正文。"
    blocks = parse_blocks(text)
    assert [(b.kind, b.span.text(text)) for b in blocks][:2] == [
        ("caption", "记者 张三/文 李四/图"),
        ("title", "今后五年发展蓝图标题"),
    ]


def test_heading_max_chars_controls_headings() -> None:
    line = "这是一行没有标点但相当长的文字" * 2  # 30 characters
    text = f"文档的标题在这里呀\n\n{line}\n\n正文。"
    assert parse_blocks(text, heading_max_chars=40)[1].kind == "heading"
    assert parse_blocks(text, heading_max_chars=20)[1].kind == "paragraph"


WHITESPACE_LINE_BUG = (
    "BUG ingest/structure.py:60-65 + 102: _strip_span of a whitespace-only line gives Span(start+len, start) "
    "(end < start), which parse_blocks' `span.end == span.start` test misses: the line becomes an empty "
    "'paragraph' block, is not counted as a blank line and marks the open heading as having body. "
    "Fix: skip when span.end <= span.start (or make _strip_span return an empty span)."
)


def test_whitespace_only_line_is_a_blank_line() -> None:
    text = "正文。\n \t \n下一段。"
    blocks = parse_blocks(text)
    assert [b.span.text(text) for b in blocks] == ["正文。", "下一段。"]
    assert blocks[1].blank_before == 1


def test_whitespace_only_line_does_not_break_the_outline() -> None:
    from ingest.chunker import ChunkingParams, chunk_text

    # The plan report has such lines (a lone space before "1 项目为王…", "5 以人为本…", "带动全区…").
    text = "报告标题在这一行文字\n\n具体目标\n \n实现更高质量发展\n\n正文。"
    sections = [c.section for c in chunk_text(text, "x.txt", ChunkingParams())]
    assert sections[-1] == "具体目标 › 实现更高质量发展"


def test_caption_after_whitespace_only_line() -> None:
    text = "报告标题在这一行文字\n\n小标题\n\n正文。\n\n \n照片说明\n\n下一个小标题\n\n正文。"
    kinds = {b.span.text(text): b.kind for b in parse_blocks(text)}
    assert kinds["照片说明"] == "caption"


def test_same_text_without_whitespace_only_line_works() -> None:
    from ingest.chunker import ChunkingParams, chunk_text

    text = "报告标题在这一行文字\n\n具体目标\n\n实现更高质量发展\n\n正文。"
    sections = [c.section for c in chunk_text(text, "x.txt", ChunkingParams())]
    assert sections == ["具体目标", "具体目标 › 实现更高质量发展", "具体目标 › 实现更高质量发展"]


# --------------------------------------------------------------------------- the bundled reports


def test_plan_report_blocks(corpus_texts: dict[str, str]) -> None:
    text = corpus_texts["erqi-plan-2021-2026.txt"]
    blocks = parse_blocks(text)
    by_text = {b.span.text(text): b for b in blocks}
    assert title_text(text, blocks) == "今后五年,二七将重点打造“六个区”"
    assert by_text["今后五年,二七将重点打造“六个区”"].kind == "title"
    assert by_text["记者 景静/文 马健 李新华 丁友明/图"].kind == "caption"
    assert by_text["道路综合改造全面完成,营造整洁舒适的城市环境"].kind == "caption"
    assert by_text["经济社会发展环境不断优化"].kind == "caption"
    assert by_text["“官方带娃”模式赢得好评"].kind == "caption"
    for heading, rank in [
        ("总体要求", 5),
        ("具体目标", 5),
        ("加快打造「六个区」", 1),
        ("1 项目为王、产业为基 打造高质量发展示范区", 3),
        ("党建「五力」", 1),
        ("加强思想政治建设 全面提升政治引领力", 5),
    ]:
        assert by_text[heading].kind == "heading", heading
        assert by_text[heading].rank == rank, heading
    assert sum(b.kind == "title" for b in blocks) == 1


def test_review_report_blocks(corpus_texts: dict[str, str]) -> None:
    text = corpus_texts["erqi-review-2016-2021.txt"]
    blocks = parse_blocks(text)
    by_text = {b.span.text(text): b for b in blocks}
    assert (
        title_text(text, blocks)
        == "深耕“三个二七”出重彩 加速“打造六区”成高峰 二七的“民生答卷”中,藏着美好未来的“通关密码”"
    )
    assert by_text["秒懂五年 数字见证了发展高度"].kind == "heading"
    assert by_text["最后“一公里” 筑牢了发展韧性"].kind == "heading"
    assert by_text["道路综合改造全面完成,营造整洁有序、舒适愉悦的城市环境"].kind == "caption"
    assert by_text["“温暖二七”荣获民政部第十一届“中华慈善奖”"].kind == "caption"


@pytest.mark.parametrize("name", ["erqi-plan-2021-2026.txt", "erqi-review-2016-2021.txt"])
def test_every_sentence_of_the_reports_is_an_exact_stripped_span(corpus_texts: dict[str, str], name: str) -> None:
    text = corpus_texts[name]
    # Phantom blocks of whitespace-only lines are covered by the whitespace tests above.
    blocks = [b for b in parse_blocks(text) if b.span.end > b.span.start]
    previous_end = 0
    for block in blocks:
        assert block.span.start >= previous_end
        previous_end = block.span.end
        piece = block.span.text(text)
        assert piece and piece == piece.strip() and "\n" not in piece
        assert block.sentences, piece
        # Sentences tile the block, in order, without overlaps.
        assert block.sentences[0].start == block.span.start
        assert block.sentences[-1].end == block.span.end
        for a, b in zip(block.sentences, block.sentences[1:], strict=False):
            assert a.end <= b.start
            assert text[a.end : b.start].strip() == ""
    # Nothing but whitespace is outside the blocks.
    outside = list(text)
    for b in blocks:
        outside[b.span.start : b.span.end] = [" "] * (b.span.end - b.span.start)
    assert "".join(outside).strip() == ""
