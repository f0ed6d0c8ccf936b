"""Check a generated answer against the passages it cites, sentence by sentence.

A sentence is verified when

* it carries at least one [n] and every [n] is the number of a passage given to the model;
* every value in it — amounts with units, percentages, dates, years, ordinals
  (:func:`assistant.values.parse_values`, compared with :func:`assistant.values.same`)
  and any other number — occurs in the passages it cites;
* every name in it — terms in quotes (“…”, 「…」) and proper nouns (jieba nr/ns/nt/nz,
  two characters or more, and place names ending in 区/县/市/省/镇/乡/村/街道) — occurs in
  the passages it cites.  A name the *question* uses, or the subject of the reports
  (a name found five times or more in them, like 「二七区」), may instead occur anywhere in a
  cited passage's document: 「二七区」 is the subject of every paragraph even where a
  paragraph does not repeat it.  A name the question invents (金水区) occurs in no
  document and stays unverified.

The fixed refusal sentence (texts.LLM_REFUSAL) needs no citation.  Unverified
sentences are dropped from the answer and kept in ``sentences`` with the reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant import texts
from assistant.llm import Passage
from assistant.response import Citation, SentenceCheck, citation_for
from assistant.types import Value
from assistant.values import parse_values, same
from zhtext.chars import pairs, quoted
from zhtext.dates import LEADING_YEAR
from zhtext.entities import ADMINISTRATIVE_SUFFIXES
from zhtext.sentences import Span, split_sentences
from zhtext.tags import PROPER_NOUN_TAGS
from zhtext.words import COMMON, Segmenter

_MARKER = re.compile(r"[ \t]*[\[【〔]\s*(\d{1,3}(?:\s*[,\uff0c、;\uff1b]\s*\d{1,3})*)\s*[\]】〕]")
_ENDS = "。!?!?"
_CLOSERS = "”」』’)\"'"
_ENUMERATOR = re.compile(r"^\s*(?:[-•*·]|\d{1,2}[.、)]|[(\uff08]\d{1,2}[)\uff09])\s*")
_NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?")
_QUOTED = quoted(1, 40, one_line=True)
# 金水区: jieba tags it a plain noun
_PLACE = re.compile(rf"^[\u4e00-\u9fff]{{2,6}}({'|'.join(ADMINISTRATIVE_SUFFIXES)})$")
NAME_MIN_CHARS = 2  # a proper noun of one character (省, 区) is no name to check
VALUE_SUPPORT = 2.0  # a cited sentence holding one of the answer's values outweighs any overlap of wording (0–1)
SUBJECT_MIN_COUNT = 5  # a name this frequent in the reports is their subject (二七区), not a fact of one passage
_PUNCT = re.compile(r"[\s,\uff0c。.!\uff01?\uff1f:\uff1a;\uff1b、\"“”'‘’()\uff08\uff09]")


@dataclass
class Verification:
    """The reply split into sentences, each checked; ``pieces`` are the sentences as written (markers normalised)."""

    sentences: list[SentenceCheck] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)
    refusal: list[bool] = field(default_factory=list)

    @property
    def answer(self) -> str:
        """The verified sentences, refusals left out, in the model's wording and layout."""
        kept = [p for p, s, r in zip(self.pieces, self.sentences, self.refusal, strict=True) if s.verified and not r]
        return "".join(kept).strip()

    @property
    def answered(self) -> list[SentenceCheck]:
        return [s for s, r in zip(self.sentences, self.refusal, strict=True) if s.verified and not r]

    @property
    def refused(self) -> bool:
        """The model said the passages do not answer, and said nothing verified besides."""
        return any(self.refusal) and not self.answered

    @property
    def dropped(self) -> int:
        return sum(1 for s in self.sentences if not s.verified)


def _normalise_markers(text: str) -> str:
    """[1,2] / 【1】 / [1、3] → [1][2] / [1] / [1][3]."""
    return _MARKER.sub(lambda m: "".join(f"[{n}]" for n in re.findall(r"\d+", m.group(1))), text)


def split_reply(reply: str) -> list[str]:
    """Sentences as written, each with the [n] markers, closing quotes and line break that follow it."""
    text = _normalise_markers(reply.replace("\r\n", "\n"))
    pieces: list[str] = []
    i, start, n = 0, 0, len(text)
    while i < n:
        if text[i] in _ENDS or text[i] == "\n":
            j = i + 1
            if text[i] != "\n":
                while j < n and (text[j] in _ENDS or text[j] in _CLOSERS):
                    j += 1
            while True:  # markers written after the full stop belong to the sentence before it
                m = _MARKER.match(text, j)
                if not m:
                    break
                j = m.end()
            while j < n and text[j] in " \t\n":
                j += 1
            pieces.append(text[start:j])
            start = i = j
        else:
            i += 1
    if start < n:
        pieces.append(text[start:])
    merged: list[str] = []
    for piece in pieces:
        if merged and not _content(piece):  # a line of markers or blanks only
            merged[-1] += piece
        else:
            merged.append(piece)
    return merged


def refs_of(sentence: str) -> list[int]:
    return list(dict.fromkeys(int(n) for m in _MARKER.finditer(sentence) for n in re.findall(r"\d+", m.group(1))))


def _content(sentence: str) -> str:
    """The sentence without markers and list bullets."""
    return _ENUMERATOR.sub("", _MARKER.sub("", sentence)).strip()


def is_refusal(sentence: str) -> bool:
    core = _PUNCT.sub("", texts.LLM_REFUSAL).removeprefix("抱歉")
    return bool(core) and core in _PUNCT.sub("", _content(sentence))


def _literal_in(text: str, haystack: str) -> bool:
    """``text`` occurs in ``haystack`` as a whole number: 「60亿元」 is not in 「760亿元」, nor 「2.5」 in 「2.55%」."""
    return re.search(r"(?<![\d.])" + re.escape(text) + r"(?!\.?\d)", haystack) is not None


def _value_found(value: Value, cited: str, cited_values: list[Value]) -> bool:
    return any(same(value, other) for other in cited_values) or _literal_in(value.text, cited)


def missing_values(sentence: str, cited: str) -> list[str]:
    """Values of ``sentence`` that ``cited`` does not hold: parsed values first, then any other number."""
    values = parse_values(sentence)
    cited_values = parse_values(cited)
    missing = [v.text for v in values if not _value_found(v, cited, cited_values)]
    for v in values:  # values.same compares a date's month and day only; a year written out must be cited too
        year = LEADING_YEAR.match(v.text)
        if v.kind == "date" and year and not _literal_in(year.group(0), cited) and v.text not in missing:
            missing.append(v.text)
    rest = sentence
    for v in values:
        rest = rest[: v.start] + " " * len(v.text) + rest[v.start + len(v.text) :]
    missing += [m.group(0) for m in _NUMBER.finditer(rest) if not _literal_in(m.group(0), cited)]
    return list(dict.fromkeys(missing))


def names_to_verify(sentence: str, segmenter: Segmenter = COMMON) -> list[str]:
    """Quoted terms and proper nouns (jieba nr/ns/nt/nz, at least two characters)."""
    names = [q.strip() for q in _QUOTED.findall(sentence) if q.strip()]
    masked = _QUOTED.sub(" ", sentence)
    for value in parse_values(masked):  # 「7月20日」 must not yield a name
        masked = masked[: value.start] + " " * len(value.text) + masked[value.start + len(value.text) :]
    names += [
        w
        for w, flag in segmenter.tag(masked)
        if (flag in PROPER_NOUN_TAGS and len(w.strip()) >= NAME_MIN_CHARS) or _PLACE.match(w)
    ]
    return list(dict.fromkeys(names))


class Verifier:
    """Checks replies against the passages of one question."""

    def __init__(self, passages: list[Passage], question: str = "", documents: dict[str, str] | None = None,
                 segmenter: Segmenter = COMMON) -> None:
        """``documents``: source → indexed text; ``segmenter``: the index's dictionary."""
        self.passages = {p.ref: p for p in passages}
        self.question = question
        self.documents = documents or {}
        self.segmenter = segmenter

    def _name_ok(self, name: str, cited: str, sources: list[str]) -> bool:
        """In the cited passages; or, when the question names it or it is the subject of the
        reports, anywhere in a cited passage's document."""
        if name in cited:
            return True
        if not any(name in self.documents.get(s, "") for s in sources):
            return False
        return name in self.question or sum(text.count(name) for text in self.documents.values()) >= SUBJECT_MIN_COUNT

    def check_sentence(self, sentence: str) -> SentenceCheck:
        text = sentence.strip()
        refs = refs_of(text)
        body = _content(text)
        if not refs:
            return SentenceCheck(text=text, refs=[], verified=False, reason=texts.LLM_UNVERIFIED_NO_REF)
        unknown = [r for r in refs if r not in self.passages]
        if unknown:
            listed = "、".join(f"[{r}]" for r in unknown)
            return SentenceCheck(
                text=text, refs=refs, verified=False, reason=texts.LLM_UNVERIFIED_BAD_REF.format(refs=listed)
            )
        cited = "\n".join(self.passages[r].check_text for r in refs)
        sources = [self.passages[r].chunk.source for r in refs]
        reasons = [texts.LLM_UNVERIFIED_VALUE.format(value=v) for v in missing_values(body, cited)]
        reasons += [
            texts.LLM_UNVERIFIED_NAME.format(name=n)
            for n in names_to_verify(body, self.segmenter)
            if not self._name_ok(n, cited, sources)
        ]
        if reasons:
            return SentenceCheck(text=text, refs=refs, verified=False, reason=texts.LLM_UNVERIFIED_SEP.join(reasons))
        return SentenceCheck(text=text, refs=refs, verified=True)

    def verify(self, reply: str) -> Verification:
        result = Verification()
        for piece in split_reply(reply):
            if not _content(piece):
                continue
            refusal = is_refusal(piece)
            check = (
                SentenceCheck(text=piece.strip(), refs=refs_of(piece), verified=True)
                if refusal
                else self.check_sentence(piece)
            )
            result.pieces.append(piece)
            result.sentences.append(check)
            result.refusal.append(refusal)
        return result


# --- citations of a verified answer ----------------------------------------------------------
def _bigrams(text: str) -> set[str]:
    return set(pairs(_PUNCT.sub("", text)))


def _support(sentence: str, chunk_text: str) -> tuple[int, int]:
    """The span of ``chunk_text`` (whole source sentences) that supports ``sentence``:
    the sentence sharing most of its values and wording, plus any sentence needed for a value it lacks."""
    spans = split_sentences(chunk_text, Span(0, len(chunk_text))) or [Span(0, len(chunk_text))]
    values = parse_values(sentence)
    words = _bigrams(sentence)

    def holds(span: Span, value: Value) -> bool:
        part = chunk_text[span.start : span.end]
        return _value_found(value, part, parse_values(part))

    def score(span: Span) -> float:
        part = chunk_text[span.start : span.end]
        overlap = len(words & _bigrams(part)) / len(words) if words else 0.0
        return sum(VALUE_SUPPORT for v in values if holds(span, v)) + overlap

    best = max(spans, key=score)
    chosen = [best]
    for value in values:
        if not any(holds(s, value) for s in chosen):
            extra = next((s for s in spans if holds(s, value)), None)
            if extra is not None:
                chosen.append(extra)
    return min(s.start for s in chosen), max(s.end for s in chosen)


def citations_for(checks: list[SentenceCheck], passages: list[Passage]) -> list[Citation]:
    """One citation per passage the verified sentences cite (ref = the passage number), quoting
    the sentence(s) of the passage that support them — a verbatim span of the source file."""
    by_ref = {p.ref: p for p in passages}
    spans: dict[int, list[tuple[int, int]]] = {}
    for check in checks:
        for ref in check.refs:
            if ref in by_ref:
                spans.setdefault(ref, []).append(_support(_content(check.text), by_ref[ref].chunk.text))
    citations = []
    for ref in sorted(spans):
        chunk = by_ref[ref].chunk
        a, b = min(s[0] for s in spans[ref]), max(s[1] for s in spans[ref])
        citations.append(citation_for(ref, chunk, chunk.start + a, chunk.start + b, chunk.text[a:b]))
    return citations
