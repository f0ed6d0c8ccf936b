"""Indicators: every quantitative statement of a document, found at ingest (「地区生产总值达到760亿元」 → subject
地区生产总值, 760 亿元, 2020, actual).

A document is read as its chunks lay it out (:class:`vectorstore.layout.DocumentLayout`: offsets are the original's),
paragraph by paragraph, sentence by sentence, clause by clause.  In each clause the quantities are found
(:func:`zhtext.quantities.quantities`: digits with a magnitude or measure word; dates, spans of time, ordinals and
numbers inside names are not quantities), then for each:

* **subject**: the noun phrase the number counts when one follows it (「运作770个重大项目」 → 重大项目, with the verb
  before the number: 运作重大项目); else the words before it, without the period, the place that opens the clause
  and the linking verb (「二七区地区生产总值达到760亿元」 → 地区生产总值); a clause with only a verb or nothing before
  its number continues the sentence's previous subject (「……达到760亿元,是2015年的1.64倍」 → 地区生产总值(与2015年相比);
  「年均增长8%以上」 → 地区生产总值年均增长); people counted by what they did take that (「13.1万人次参与抢险救灾」);
* **orientation**: the plan or result cue nearest the number (:func:`zhtext.orientation.cue_spans`: 到2025年, 确保,
  五年来, 是2015年的, 打造了 …), looked for in the sentence, then the paragraph, then the document's majority;
  a document without any cue states results (actual);
* **period**: the year or span the clause, the sentence or the paragraph before it names (2020, 到2025年 → 2025,
  五年来, 今后五年); a year the figure is compared with (是2015年的) is not its period.

Text addressed to a model (chunks flagged ``suspicious``) and headings are not read.  The quote of a record is its
clause (from the clause its subject comes from), ``original[start:end]``.
"""
from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from vectorstore.layout import DocumentLayout, Paragraph, section_parts
from vectorstore.records import Chunk, Indicator, IndicatorSide
from zhtext.orientation import cue_spans, heading_side, orientation_of
from zhtext.quantities import CHANGE, Quantity, bound_before, clauses, compared_with, periods, quantities
from zhtext.sentences import Span, split_sentences
from zhtext.words import COMMON, Segmenter

# Words that open a clause before its subject: plan and tally words, time adverbs, the whole place (确保到2025年实现
# 新开工项目, 全区共有各类市场主体 …).
LEAD_WORDS = frozenset({
    "确保", "力争", "争取", "努力", "实现", "预计", "计划", "累计", "共计", "合计", "总计", "其中", "同时", "此外",
    "另外", "目前", "已", "已经", "将", "要", "全年", "当年", "连夜", "到", "至", "截至", "截止", "共", "共有", "拥有",
    "全区", "全市", "全县", "全省", "全镇", "全国", "全乡", "全街道",
})
# A place that opens a clause (二七区地区生产总值…, 郑州市…): a proper place name of an administrative kind.
PLACE_ENDINGS = ("区", "市", "县", "省", "州", "镇", "乡", "街道")

# Words between a subject and its number (地区生产总值突破1200亿元, 市场主体达到14.7万户).
LINK_WORDS = frozenset({
    "达到", "达", "为", "是", "突破", "超过", "超", "逾", "约", "约为", "近", "有", "增至", "达到了", "共", "共计",
    "累计", "合计", "总计", "至", "到", "了", "的", "等", "将近", "接近", "多达", "不少于", "不低于", "至少", "已达",
    "控制", "控制在", "保持", "保持在", "稳定在", "维持在", "在",
})
# Words that end the noun phrase after a number (1161个事项全部实现 → 事项).
PHRASE_STOP = frozenset({"全部", "全面", "全", "均", "都", "已", "等", "以上", "左右", "之一", "分别", "各", "共"})
OPENING_TAGS = frozenset({"x", "p", "c", "d", "t", "f", "m", "u", "uj", "ul", "r", "y"})  # never open a subject
CLOSING_TAGS = frozenset({"x", "u", "uj", "ul", "p", "c", "d", "f", "y"})  # never end one
PHRASE_TAGS = frozenset({"vn", "j", "a", "b", "an", "l", "zg", "nz", "i", "eng"})  # nouns' company in a noun phrase
PEOPLE_MEASURES = ("人", "人次", "名", "位", "")  # 13.1万人次参与…: people counted by what they did (15万: no measure)
QUOTES = {"“": "”", "「": "」", "‘": "’", "『": "』"}
DEFAULT_SIDE: IndicatorSide = "actual"  # a statement with no plan cue anywhere reports a fact
INDICATORS_VERSION = "2"  # part of a document's fingerprint: bump when extraction changes, so the next ingest redoes it


@dataclass
class _Record:
    quantity: Quantity  # offsets absolute
    subject: str
    quote_start: int
    quote_end: int
    clause: int = 0  # which clause of its sentence it stands in


def extract_indicators(
    chunks: Sequence[Chunk], segmenter: Segmenter = COMMON, limit: int | None = None
) -> list[Indicator]:
    """The indicators of one document's chunks (at most ``limit``, in document order)."""
    if not chunks:
        return []
    return extract_from_layout(DocumentLayout.of(chunks), segmenter, limit)


def extract_from_layout(layout: DocumentLayout, segmenter: Segmenter = COMMON, limit: int | None = None
                        ) -> list[Indicator]:
    paragraphs = [p for p in layout.paragraphs() if p.kind != "heading" and not p.suspicious]
    fallback = _document_side(layout.text, paragraphs)
    found: list[Indicator] = []
    for paragraph in paragraphs:
        for record in _paragraph_records(layout.text, paragraph, segmenter):
            found.append(_indicator(layout, paragraph, record, fallback))
            if limit is not None and len(found) >= limit:
                return found
    return found


# --- the records of one paragraph ---------------------------------------------------------------------------------
def _paragraph_records(text: str, paragraph: Paragraph, segmenter: Segmenter) -> list[_Record]:
    records: list[_Record] = []
    for sentence in split_sentences(text, Span(paragraph.start, paragraph.end)):
        if not quantities(sentence.text(text)):
            continue
        previous: _Record | None = None
        for n, (a, b) in enumerate(clauses(text, sentence.start, sentence.end)):
            clause = text[a:b]
            found = [Quantity(q.start + a, q.end + a, q.value, q.unit, q.qualifier) for q in quantities(clause)]
            cursor = a
            if previous is not None and previous.clause < n - 1:
                previous = None  # a subject carries over to the next clause only (…达到760亿元,是2015年的1.64倍)
            for i, q in enumerate(found):
                next_start = found[i + 1].start if i + 1 < len(found) else b
                record, cursor = _record(text, q, cursor, next_start, (a, b), previous, segmenter)
                if record is not None:
                    record.clause = n
                    records.append(record)
                    previous = record
    return records


def _record(text: str, q: Quantity, cursor: int, next_start: int, clause: tuple[int, int], previous: _Record | None,
            segmenter: Segmenter) -> tuple[_Record | None, int]:
    """The record of quantity ``q`` (None when nothing says what it counts) and where the next one's words begin."""
    bound = bound_before(text, q.start)
    pre = text[cursor:q.start - len(bound)]
    post = text[q.end:next_start]
    if bound:
        q = Quantity(q.start, q.end, q.value, q.unit, bound + q.qualifier)
    phrase, used = _noun_phrase(post, segmenter)
    if phrase:
        verb = _verb_before(pre, segmenter)
        return _Record(q, verb + phrase, clause[0], clause[1]), q.end + used
    core, one_verb = _clean_before(pre, segmenter)
    rest = post.strip(" 、")
    if core and one_verb and rest and q.measure in PEOPLE_MEASURES and not q.unit.endswith(("%", "倍")):
        return _Record(q, _clean_after(rest), clause[0], clause[1]), q.end  # 组织13.1万人次参与抢险救灾
    if previous is not None and (not core or CHANGE.fullmatch(core)):
        compared = compared_with(pre)
        subject = previous.subject + (f"(与{compared}相比)" if compared else core)
        return _Record(q, subject, previous.quote_start, clause[1]), q.end
    if core:
        return _Record(q, core, clause[0], clause[1]), q.end
    if rest:
        return _Record(q, _clean_after(rest), clause[0], clause[1]), q.end
    return None, q.end


def _tag(text: str, segmenter: Segmenter) -> list[tuple[str, str]]:
    return segmenter.tag(text) if text.strip() else []


def _is_noun(tag: str) -> bool:
    return tag.startswith("n") or tag == "vn"


def _noun_phrase(post: str, segmenter: Segmenter) -> tuple[str, int]:
    """The noun phrase that opens ``post`` (「重大项目」 of 「重大项目、完成投资」; 「社区养老“便利店”」 of
    「多功能、小型化的社区养老“便利店”」) and how many characters of ``post`` it used; ("", 0) when none does."""
    words = _tag(post, segmenter)
    taken: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        word, tag = words[i]
        if word in QUOTES and (taken or i == 0):
            close = next((j for j in range(i + 1, len(words)) if words[j][0] == QUOTES[word]), None)
            if close is None:
                break
            taken += words[i:close + 1]
            i = close + 1
            continue
        if word in PHRASE_STOP:
            break
        inner = word in ("、", "的", " ") and bool(taken)
        numeral_name = tag == "m" and not any(ch.isdigit() for ch in word) and i + 1 < len(words) and _is_noun(
            words[i + 1][1])  # 二七人
        if not (_is_noun(tag) or tag in PHRASE_TAGS or inner or numeral_name):
            break
        taken.append((word, tag))
        i += 1
    while taken and taken[-1][0] in ("、", "的", " "):
        taken.pop()
    if not any(_is_noun(tag) or tag in ("j", "nz", "zg") for _, tag in taken):
        return "", 0
    used = sum(len(w) for w, _ in taken)
    phrase = "".join(w for w, _ in taken)
    if "的" in phrase:
        phrase = phrase.rsplit("的", 1)[1] or phrase
    return phrase.strip(), used


def _verb_before(pre: str, segmenter: Segmenter) -> str:
    """The verb right before a number that counts what follows it (运作770个…, 引进60个…, 打造了19个…), or ""."""
    words = _tag(pre.rstrip(), segmenter)
    while words and words[-1][0] in ("了", "等"):
        words.pop()
    if words and words[-1][1] in ("v", "vn") and words[-1][0] not in LINK_WORDS | LEAD_WORDS:
        return words[-1][0]
    return ""


def _clean_before(pre: str, segmenter: Segmenter) -> tuple[str, bool]:
    """The subject the words before a number give (without periods, dates, the opening place, plan and linking
    words), and whether it is one verb alone (组织13.1万人次…)."""
    spans = [(a, b) for a, b, _ in periods(pre)]
    for a, b in sorted(spans, reverse=True):
        pre = pre[:a] + pre[b:]
    compared = compared_with(pre)
    if compared:
        pre = pre.replace(compared, "")
        for word in ("是", "比", "较", "相当于", "同比"):
            if pre.rstrip("的").endswith(word):
                pre = pre.rstrip("的")[: -len(word)]
    words = _tag(pre, segmenter)
    changed = True
    while words and changed:
        changed = False
        while words and (words[0][1] in OPENING_TAGS or words[0][0] in LEAD_WORDS):
            words.pop(0)
            changed = True
        if len(words) > 1 and _is_place(words[0], words[1]):
            words.pop(0)
            changed = True
    while words and (words[-1][1] in CLOSING_TAGS or words[-1][0] in LINK_WORDS):
        words.pop()
    core = "".join(w for w, _ in words).strip()
    return core, len(words) == 1 and words[0][1] == "v"


def _is_place(word: tuple[str, str], following: tuple[str, str]) -> bool:
    """A place of an administrative kind that opens a clause: 二七区 (a place name), 金水区 before 实现, 马寨镇 before
    a verb (马寨镇完成…; 建成区面积 is not one: a noun follows)."""
    name, tag = word
    return len(name) >= 3 and name.endswith(PLACE_ENDINGS) and (
        tag == "ns" or following[0] in LEAD_WORDS or following[1] == "v"
    )


def _clean_after(rest: str) -> str:
    """What people counted did, as a subject (「参与抢险救灾和恢复重建」), without closing particles."""
    return rest.strip(" 、").rstrip("中里上的")


# --- orientation, period, the record -----------------------------------------------------------------------------
def _nearest(cues: Iterable[tuple[int, int, str]], at: int) -> str | None:
    """The cue nearest before ``at`` (by where it starts), else the first after it."""
    cues = list(cues)
    before = [c for c in cues if c[0] < at]
    if before:
        return before[-1][2]
    return cues[0][2] if cues else None


def _side(text: str, paragraph: Paragraph, at: int, fallback: IndicatorSide) -> IndicatorSide:
    """The cue nearest the number in its sentence, else its paragraph, else its headings (innermost first), else
    the document's."""
    for a, b in _enclosing_sentence(text, paragraph, at), (paragraph.start, paragraph.end):
        side = _decided(_nearest(_cues(text, a, b), at))
        if side:
            return side
    for heading in reversed(section_parts(paragraph.section)):
        side = _decided(heading_side(heading))
        if side:
            return side
    return fallback


def _decided(side: str | None) -> IndicatorSide | None:
    return "actual" if side == "actual" else "target" if side == "target" else None


# A paragraph's sentences, cues and opening clause are found once, not once per number in it: a long paragraph
# (a 500,000-character upload) would otherwise cost time quadratic in its length.  ``text`` is the same string
# object for every paragraph of a document, so a key hashes it once.
@lru_cache(maxsize=16)
def _sentences(text: str, start: int, end: int) -> tuple[tuple[int, ...], tuple[Span, ...]]:
    spans = tuple(split_sentences(text, Span(start, end)))
    return tuple(s.start for s in spans), spans


@lru_cache(maxsize=16)
def _cues(text: str, a: int, b: int) -> tuple[tuple[int, int, str], ...]:
    return tuple((s + a, e + a, o) for s, e, o in cue_spans(text[a:b], near_figures=True))


@lru_cache(maxsize=16)
def _opening(text: str, start: int, end: int) -> tuple[int, int]:
    first = clauses(text, start, end)[:1]
    return first[0] if first else (start, start)


def _enclosing_sentence(text: str, paragraph: Paragraph, at: int) -> tuple[int, int]:
    starts, spans = _sentences(text, paragraph.start, paragraph.end)
    i = bisect.bisect_right(starts, at) - 1
    if i >= 0 and spans[i].start <= at < spans[i].end:
        return spans[i].start, spans[i].end
    return paragraph.start, paragraph.end


def _document_side(text: str, paragraphs: list[Paragraph]) -> IndicatorSide:
    """What most sentences with a cue state: a plan's directives without one (抓好…建设) are its targets."""
    votes: Counter[str] = Counter()
    for p in paragraphs:
        for s in split_sentences(text, Span(p.start, p.end)):
            votes[orientation_of(s.text(text))] += 1
        votes[heading_side(section_parts(p.section)[-1] if p.section else "")] += 1
    return "target" if votes["target"] > votes["actual"] else DEFAULT_SIDE


def _period(text: str, paragraph: Paragraph, record: _Record) -> str:
    """The period the clause names before the number, else the sentence (before, then after it), else the
    paragraph's opening clause (「2020年,二七区……」 dates what follows it)."""
    at = record.quantity.start
    sentence = _enclosing_sentence(text, paragraph, at)
    opening = _opening(text, paragraph.start, paragraph.end)
    for (a, b), following in (((record.quote_start, at), False), (sentence, True), (opening, False)):
        found = [(s + a, p) for s, _, p in periods(text[a:b])]
        before = [p for s, p in found if s < at]
        if before:
            return before[-1]
        after = [p for s, p in found if s >= at]
        if following and after:
            return after[0]
    for heading in reversed(section_parts(paragraph.section)):  # 一、2023年工作回顾
        named = periods(heading)
        if named:
            return named[0][2]
    return ""


def _indicator(layout: DocumentLayout, paragraph: Paragraph, record: _Record, fallback: IndicatorSide) -> Indicator:
    text, q = layout.text, record.quantity
    return Indicator(
        subject=record.subject,
        value=q.value,
        unit=q.unit,
        period=_period(text, paragraph, record),
        orientation=_side(text, paragraph, q.start, fallback),
        text=text[record.quote_start:record.quote_end],
        doc_id=layout.doc_id,
        source=layout.source,
        start=record.quote_start,
        end=record.quote_end,
        section=paragraph.section,
        value_start=q.start,
        value_end=q.end,
        qualifier=q.qualifier,
    )
