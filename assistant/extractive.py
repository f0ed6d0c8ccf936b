"""The default answerer: quotes the sentences that answer, or says the reports do not.

No model, no network. Each quote is a verbatim span of a source file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.evidence import (
    Candidate,
    Quote,
    anchored,
    candidates,
    clauses,
    coverage,
    has_date,
    has_unit,
    missing_terms,
    names_around,
    only_wording_missing,
    pair_overlap,
    pins_hold,
    question_pairs,
    refine,
    surroundings,
    term_present,
)
from assistant.lists import enumerates, enumeration_sizes, labelled_enumeration
from assistant.question import Question
from assistant.termstats import TermStats
from ingest.orientation import orientation_of
from vectorstore.records import ScoredChunk
from vectorstore.retriever import jaccard
from vectorstore.settings import Settings

TRIM_ABOVE_CHARS = 45
UNTYPED_TRIM_ABOVE_CHARS = 150  # a question that wants no number or date: its answer is any clause of the sentence
_DATE_DIGITS = re.compile(r"\d{4}年|\d{1,2}月\d{1,2}日|\d{1,2}月|\d{1,2}日")
_TIME_ONLY = re.compile(r"^(到|至|截至)?[\d一二三四五六七八九十]+[年月日][\d月日底前后初]*$")
CONTEXT_SHARE = 0.5  # how much the sentence's chunk and section count towards its coverage
SENTENCE_WEIGHT = 0.6  # the question's terms in the sentence, names counted when the text around it has them
CONTEXT_WEIGHT = 0.3  # the question's terms in the sentence's chunk
DOCUMENT_WEIGHT = 0.6  # …and in the retrieved text around it: 「他小时候…」 in 祭遵's article, not in another's
PAIR_WEIGHT = 0.3  # character pairs shared with the question: wording the terms miss (起了…作用, 效力于)
PIN_BONUS = 0.15  # the sentence itself holds the years, dates and numbers the question names
ANSWER_FORM_BONUS = 0.15  # the sentence says what the question's form asks for: 「两层」 for 几层, 「广东开平人。」 for 哪里人
ORIGIN = re.compile(r"[\u4e00-\u9fff)）](?<![的个多等些名位该此])人[。,，;；、(（]")  # a place, then 人: where someone is from
_COUNTED = r"(?:\d+|[一二两三四五六七八九十百千万]+)(?:多|余)?"
SAME_CHUNK_PENALTY = 0.1  # a further quote from a chunk already quoted shows less than one from another passage
NEW_CHARS_MIN = 6  # a sentence adding fewer characters than this to the question (a title, 「班杰（）」) answers nothing

@dataclass
class Extraction:
    quotes: list[Quote] = field(default_factory=list)
    no_answer: bool = False
    reason: str = ""
    is_list: bool = False


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    coverage: float
    score: float


def _counts_measure(question: Question, text: str) -> bool:
    """「两层」 for 「几层?」: a number followed by the measure word the question asks with."""
    return bool(question.measure) and re.search(_COUNTED + re.escape(question.measure), text) is not None


def _answer_form(question: Question, text: str) -> bool:
    return _counts_measure(question, text) or (question.wants_origin and ORIGIN.search(text) is not None)


def _type_ok(question: Question, text: str) -> bool:
    for given in question.dates + question.years:  # 「2021年…撤离了多少居民?」: the date asked from is not the number asked for
        text = text.replace(given, " ")
    if question.kind == "quantity":
        if question.unit_class is None:  # 「…撤离了多少居民?」: 7月20日 is a date, not the number asked for
            text = _DATE_DIGITS.sub(" ", text)
        return has_unit(text, question.unit_class) or _counts_measure(question, text)
    if question.kind == "time":
        return has_date(text)
    return True


def _overlap(a: Candidate, b: Candidate) -> bool:
    """Both hold some of the same text of one file: a sentence and its 「当日,…」 follow-up, or one sentence in two chunks."""
    return a.chunk.doc_id == b.chunk.doc_id and a.span.start < b.span.end and b.span.start < a.span.end


def _contains(a: Candidate, b: Candidate) -> bool:
    return a.chunk.doc_id == b.chunk.doc_id and a.span.start <= b.span.start and b.span.end <= a.span.end


def _new_chars(question: Question, text: str) -> int:
    asked = set(question.text)
    return sum(1 for ch in text if ch not in asked and (ch.isalnum() or "\u4e00" <= ch <= "\u9fff"))


def _score(question: Question, cand: Candidate, stats: TermStats, top: float, pairs: frozenset[str], around: tuple[str, list]) -> Scored:
    text_around, names = around
    in_sentence, in_context = anchored(question, cand.text, stats, names), coverage(question, cand.context, stats)
    cov = (1 - CONTEXT_SHARE) * in_sentence + CONTEXT_SHARE * in_context
    score = SENTENCE_WEIGHT * in_sentence + CONTEXT_WEIGHT * in_context
    score += DOCUMENT_WEIGHT * coverage(question, text_around, stats)
    score += 0.3 * (cand.retrieval / top if top else 0.0) + PAIR_WEIGHT * pair_overlap(pairs, cand.text)
    pins = question.years + question.dates + question.numbers
    if pins and all(p in cand.text for p in pins):  # 「1983年9月…获得了什么奖?」: the sentence that has the date
        score += PIN_BONUS
    if _answer_form(question, cand.text):
        score += ANSWER_FORM_BONUS
    elif _new_chars(question, cand.text) < NEW_CHARS_MIN:
        score -= 0.2
    if cand.chunk.kind == "caption":
        score -= 0.05
    if question.wants_plan:
        score += {"target": 0.08, "mixed": 0.04, "actual": -0.04}.get(orientation_of(cand.text), 0.0)
    if question.kind == "list":
        sizes = enumeration_sizes(cand.text)
        score += 0.3 if question.list_count in sizes else 0.1 if sizes and max(sizes) >= 3 else 0.0
    return Scored(cand, cov, score)


def _required(question: Question, text: str, stats: TermStats) -> list:
    terms = [t for t in question.terms if term_present(t, text) and stats.idf(t.alternatives) > 1.5]
    pins = [p for p in question.years + question.dates + question.numbers if p in text]
    return terms + pins


def _covers(question: Question, piece: str, required: list) -> bool:
    for need in required:
        if isinstance(need, str):
            if need not in piece:
                return False
        elif not term_present(need, piece):
            return False
    return _type_ok(question, piece)


def trim(question: Question, cand: Candidate, stats: TermStats) -> Quote:
    """The shortest run of whole clauses that still holds what the question asks about."""
    text = cand.text
    whole = Quote(cand.chunk, cand.span.start, cand.span.end, text)
    typed = question.kind in ("quantity", "time")
    if len(text) <= (TRIM_ABOVE_CHARS if typed else UNTYPED_TRIM_ABOVE_CHARS) or cand.chunk.kind == "heading":
        return whole
    required = _required(question, text, stats)
    parts = clauses(text)
    best: tuple[int, int] | None = None
    for i in range(len(parts)):
        for j in range(i, len(parts)):
            a, b = parts[i][0], parts[j][1]
            if best and b - a >= best[1] - best[0]:
                break
            if _covers(question, text[a:b], required):
                best = (a, b)
                break
    if not best or best == (0, len(text)):
        return whole
    a, b = best
    if not typed:  # the clauses naming the subject, and the one after them, which says something about it
        b = next((q for p, q in parts if p >= b), len(text))
    if a == parts[1][0] and _TIME_ONLY.match(text[parts[0][0] : parts[0][1]]):
        a = 0  # keep a leading 「2020年,」: the figure means little without its year
    if b < len(text) and text[b] in "。!?;!?;":
        b += 1
    return Quote(cand.chunk, cand.span.start + a, cand.span.start + b, text[a:b])


class ExtractiveAnswerer:
    """Selects answer sentences from the evidence, or decides there is no answer."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def extract(self, question: Question, evidence: list[ScoredChunk], stats: TermStats, list_items: list[Quote] | None = None) -> Extraction:
        """``list_items``: the items of a list found through the document outline (see assistant.lists)."""
        question = refine(question, stats)
        missing = missing_terms(question, stats)
        if missing and not only_wording_missing(question, missing, evidence, stats):
            return Extraction(no_answer=True, reason=f"not in the documents: {', '.join(missing)}")
        if list_items:
            return Extraction(list_items, is_list=True)
        if question.kind == "list":
            labelled = labelled_enumeration(question, evidence)
            if labelled:
                return Extraction([labelled], is_list=True)
        ranked = self._rank(question, evidence, stats)
        if not ranked:
            return Extraction(no_answer=True, reason="no passage has what the question asks for")
        eligible = [s for s in ranked if s.coverage >= self.settings.answer_min_coverage]
        if not eligible:
            return Extraction(no_answer=True, reason=f"best evidence covers {max(s.coverage for s in ranked):.2f} of the question")
        ranked = eligible
        chosen = self._select(question, ranked)
        chosen += self._other_orientation(question, ranked, chosen)
        if question.kind == "list" and not any(enumerates(question, s.candidate.text) for s in chosen):
            return Extraction(no_answer=True, reason="the question asks for a list and no passage enumerates one")
        return Extraction([trim(question, s.candidate, stats) for s in chosen], is_list=question.kind == "list")

    def _rank(self, question: Question, evidence: list[ScoredChunk], stats: TermStats) -> list[Scored]:
        top = evidence[0].score if evidence else 0.0
        near = {cid: (text, names_around(question, stats, text)) for cid, text in surroundings(evidence).items()}
        usable = [c for c in candidates(evidence) if pins_hold(question, f"{c.chunk.section}\n{c.chunk.text}") and _type_ok(question, c.text)]
        pairs = question_pairs(question)
        return sorted((_score(question, c, stats, top, pairs, near[c.chunk.chunk_id]) for c in usable), key=lambda s: -s.score)

    def _other_orientation(self, question: Question, ranked: list[Scored], chosen: list[Scored]) -> list[Scored]:
        """「二七区的GDP是多少?」 gets the 2020 result and the 2025 target, when the question names neither."""
        if question.years or question.dates or question.wants_plan or question.kind not in ("quantity", "other"):
            return []
        have = {orientation_of(s.candidate.text) for s in chosen}
        if have not in ({"actual"}, {"target"}):
            return []
        wanted = "target" if have == {"actual"} else "actual"
        for s in ranked:
            if orientation_of(s.candidate.text) == wanted and s.score >= 0.7 * chosen[0].score:
                return [s] if not any(jaccard(s.candidate.text, c.candidate.text) >= 0.5 for c in chosen) else []
        return []

    def _select(self, question: Question, ranked: list[Scored]) -> list[Scored]:
        limit = self.settings.max_list_sentences if question.kind == "list" else self.settings.max_answer_sentences
        best = ranked[0]
        chosen = [best]
        rest = [s for s in ranked[1:] if s.score >= 0.85 * best.score and s.coverage >= self.settings.answer_min_coverage]
        while rest and len(chosen) < limit:
            quoted = {c.candidate.chunk.chunk_id for c in chosen}
            s = max(rest, key=lambda s: s.score - (SAME_CHUNK_PENALTY if s.candidate.chunk.chunk_id in quoted else 0.0))
            rest.remove(s)
            shared = [i for i, c in enumerate(chosen) if _overlap(s.candidate, c.candidate)]
            if len(shared) == 1 and _contains(s.candidate, chosen[shared[0]].candidate):
                chosen[shared[0]] = s  # 「…桥梁。它位于…」 read together says more than its first sentence alone
            elif not shared and not any(jaccard(s.candidate.text, c.candidate.text) >= 0.5 for c in chosen):
                chosen.append(s)
        return chosen
