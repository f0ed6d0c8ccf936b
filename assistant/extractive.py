"""The default answerer: quotes the sentences that answer, or says the documents do not.

No LLM, no network. Every candidate sentence of the evidence gets a feature row
(:mod:`assistant.features`); the answer model (:mod:`assistant.model`) gives each the
probability that it holds the answer, and the answer composed from the best of them a
calibrated confidence.  Below the model's threshold the answer is refused.  Each quote is a
verbatim span of a source file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from assistant.conflicts import conflicting, official_first
from assistant.corpus import CorpusView
from assistant.decision import DECISION_FEATURES, NOT_READ, Read, decision_row
from assistant.evidence import candidates, clauses, coverage, refine, term_present
from assistant.features import FEATURES, CandidateTable, candidate_table, type_ok
from assistant.lists import enumerates, labelled_enumeration
from assistant.model import MODEL_PATH, AnswerModel, load_model
from assistant.reader import Reader, Sentence, header, question_side
from assistant.settings import AnsweringSettings
from assistant.termstats import TermStats
from assistant.types import AnalysedQuestion, Candidate, Quote
from vectorstore.records import ScoredChunk
from vectorstore.retriever import jaccard
from zhtext.numerals import UP_TO_TEN
from zhtext.orientation import asked_side, orientation_of

TRIM_ABOVE_CHARS = 45
UNTYPED_TRIM_ABOVE_CHARS = 150  # a question that wants no number or date: its answer is any clause of the sentence
REQUIRED_IDF = 1.5  # a trimmed quote keeps the question's terms at least this rare
_TIME_ONLY = re.compile(rf"^(到|至|截至)?[\d{UP_TO_TEN}]+[年月日][\d月日底前后初]*$")
DUPLICATE_JACCARD = 0.5  # a further quote this similar to one already chosen says nothing new


@dataclass
class Extraction:
    quotes: list[Quote] = field(default_factory=list)
    no_answer: bool = False
    reason: str = ""
    is_list: bool = False
    confidence: float = 0.0  # probability that the quotes answer the question (calibrated)
    conflict: bool = False  # quotes from different documents give different figures for the same thing
    closest: list[Quote] = field(default_factory=list)  # refused, but close enough to show with a hint
    short: Quote | None = None  # the reader's span: the direct answer, inside the first quote
    other_side: str = ""  # refused, and ``closest`` gives the other side ("actual" or "target") of what was asked


@dataclass(frozen=True)
class Draft:
    """The answer the best sentences would make, before the confidence decides whether to give it."""

    quotes: list[Quote]
    best: int | None  # candidate index the answer is built around
    is_list: bool = False
    structured: bool = False  # a list found through the document outline
    reason: str = ""
    list_cover: float = 0.0  # for a list: how much of the question its sections and items hold
    short: Quote | None = None  # the reader's span, when the answer is built around its sentence


def _overlap(a: Candidate, b: Candidate) -> bool:
    """Both hold some of the same text of one file: a sentence and its 「当日,…」 follow-up, or one sentence in two
    chunks."""
    return a.chunk.doc_id == b.chunk.doc_id and a.span.start < b.span.end and b.span.start < a.span.end


def _contains(a: Candidate, b: Candidate) -> bool:
    return a.chunk.doc_id == b.chunk.doc_id and a.span.start <= b.span.start and b.span.end <= a.span.end


def _required(question: AnalysedQuestion, text: str, stats: TermStats) -> list:
    terms = [t for t in question.terms if term_present(t, text) and stats.idf(t.alternatives) > REQUIRED_IDF]
    pins = [p for p in question.years + question.dates + question.numbers if p in text]
    return terms + pins


def _covers(question: AnalysedQuestion, piece: str, required: list) -> bool:
    for need in required:
        if isinstance(need, str):
            if need not in piece:
                return False
        elif not term_present(need, piece):
            return False
    return type_ok(question, piece)


def trim(question: AnalysedQuestion, cand: Candidate, stats: TermStats) -> Quote:
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


def ranked_sentences(cands: list[Candidate], probabilities: np.ndarray) -> list[Sentence]:
    """The candidates as the reader is offered them: best-ranked first, each under its document's heading."""
    order = np.argsort(-probabilities, kind="stable")
    return [Sentence(cands[i].text, header(cands[i].chunk.title, cands[i].chunk.section), int(i),
                     (cands[i].rank, cands[i].span.start), cands[i].chunk.source) for i in order]


def _other_side(side: str, draft: Draft) -> str:
    """The side the draft's best quote gives, when the question asked for the other one only (else "")."""
    if side not in ("actual", "target") or not draft.quotes or draft.is_list:
        return ""
    given = orientation_of(draft.quotes[0].text)
    return given if given in ("actual", "target") and given != side else ""


def _short(cand: Candidate, read: Read) -> Quote | None:
    r = read.reading
    if not r.text:
        return None
    start = cand.span.start + r.start
    return Quote(cand.chunk, start, start + len(r.text), r.text)


def _list_cover(question: AnalysedQuestion, items: list[Quote], stats: TermStats) -> float:
    sections = dict.fromkeys(q.chunk.section for q in items)
    return coverage(question, "\n".join([*sections, *(q.text for q in items)]), stats)


class ExtractiveAnswerer:
    """Ranks the evidence's sentences, has the reader read the best of them, composes the answer, and decides
    whether to give it."""

    def __init__(self, settings: AnsweringSettings, reader: Reader | None = None, model: AnswerModel | None = None
                 ) -> None:
        self.settings = settings
        self.reader = reader
        self._model = model

    @property
    def model(self) -> AnswerModel:
        """Read on first use: computing feature rows (``make train``) needs no model file."""
        if self._model is None:
            self._model = load_model(self.settings.model or MODEL_PATH, FEATURES, DECISION_FEATURES)
        return self._model

    @model.setter
    def model(self, model: AnswerModel) -> None:
        self._model = model

    @property
    def threshold(self) -> float:
        s = self.settings.min_confidence
        return self.model.threshold if s is None else s

    @property
    def hint_threshold(self) -> float:
        s = self.settings.hint_confidence
        return min(self.model.hint_threshold if s is None else s, self.threshold)

    def table(self, question: AnalysedQuestion, evidence: list[ScoredChunk], view: CorpusView) -> CandidateTable:
        """The candidate sentences of ``evidence`` and their feature rows (see assistant.features)."""
        question = refine(question, view.stats)
        return candidate_table(question, evidence, candidates(evidence), view.stats, view.segmenter)

    def read(self, asked: str, previous: str | None, table: CandidateTable, probabilities: np.ndarray) -> Read:
        """The reader's reading of the best-ranked candidates (as many as its window holds)."""
        if self.reader is None or not table.candidates:
            return NOT_READ
        win = self.reader.window(question_side(asked, previous), ranked_sentences(table.candidates, probabilities))
        return Read(win, self.reader.read([win])[0])

    def extract(self, question: AnalysedQuestion, evidence: list[ScoredChunk], view: CorpusView,
                list_items: list[Quote] | None = None, asked: str | None = None, previous: str | None = None
                ) -> Extraction:
        """``list_items``: the items of a list found through the document outline (see assistant.lists);
        ``asked``: the question as the user wrote it (default: ``question.text``); ``previous``: the user's
        question before it, for a follow-up."""
        table = self.table(question, evidence, view)
        probabilities = self.model.sentence_probabilities(table.matrix)
        read = self.read(asked or question.text, previous, table, probabilities)
        draft = self.draft(table, probabilities, evidence, view.stats, list_items or [], read)
        confidence = self.model.confidence(
            decision_row(table, probabilities, draft.best, read, draft.structured, draft.list_cover)
        )
        if draft.quotes and confidence >= self.threshold:
            if conflicting(draft.quotes):
                return Extraction(
                    official_first(draft.quotes, view.origins),
                    is_list=draft.is_list,
                    confidence=confidence,
                    conflict=True,  # no direct answer: which source's figure to trust is for the person asking
                )
            return Extraction(draft.quotes, is_list=draft.is_list, confidence=confidence, short=draft.short)
        reason = draft.reason or f"confidence {confidence:.2f} is below {self.threshold:.2f}"
        given = _other_side(asked_side(asked or question.text, previous), draft)
        if given:
            return Extraction(no_answer=True, reason=reason, confidence=confidence, closest=draft.quotes[:1],
                              other_side=given)
        closest = draft.quotes[:1] if draft.quotes and confidence >= self.hint_threshold else []
        return Extraction(no_answer=True, reason=reason, confidence=confidence, closest=closest)

    def draft(self, table: CandidateTable, probabilities: np.ndarray, evidence: list[ScoredChunk], stats: TermStats,
              list_items: list[Quote], read: Read = NOT_READ) -> Draft:
        """The answer the ranked candidates make: a list, or the sentence holding the reader's span and others
        nearly as likely (trimmed)."""
        question, cands = table.question, table.candidates
        if not cands:
            return Draft([], None, reason="no passage was retrieved")
        order = [int(i) for i in np.argsort(-probabilities, kind="stable")]
        if list_items:
            best = self._best_within(order, cands, {q.chunk.chunk_id for q in list_items})
            return Draft(list_items, best, True, True, list_cover=_list_cover(question, list_items, stats))
        if question.kind == "list":
            labelled = labelled_enumeration(question, evidence)
            if labelled:
                best = self._best_within(order, cands, {labelled.chunk.chunk_id})
                return Draft([labelled], best, True, list_cover=_list_cover(question, [labelled], stats))
        if read.best is not None:
            order = [read.best, *(i for i in order if i != read.best)]
        chosen = self._select(question, order, cands, probabilities)
        chosen += self._other_orientation(question, order, cands, probabilities, chosen)
        if question.kind == "list" and not any(enumerates(question, cands[i].text) for i in chosen):
            return Draft([], order[0], reason="the question asks for a list and no passage enumerates one")
        short = _short(cands[read.best], read) if read.best is not None and read.best == chosen[0] else None
        quotes = [trim(question, cands[i], stats) for i in chosen]
        if short is not None and not (quotes[0].start <= short.start and short.end <= quotes[0].end):
            quotes[0] = Quote(cands[chosen[0]].chunk, cands[chosen[0]].span.start, cands[chosen[0]].span.end,
                              cands[chosen[0]].text)  # the trimmed clause lost the span: quote the sentence
        return Draft(quotes, chosen[0], question.kind == "list", short=short)

    @staticmethod
    def _best_within(order: list[int], cands: list[Candidate], chunk_ids: set[str]) -> int:
        return next((i for i in order if cands[i].chunk.chunk_id in chunk_ids), order[0])

    def _select(self, question: AnalysedQuestion, order: list[int], cands: list[Candidate], p: np.ndarray) -> list[int]:
        """The best sentence, then others nearly as likely (``answer_extra_ratio``), without repeating text."""
        limit = self.settings.max_list_sentences if question.kind == "list" else self.settings.max_answer_sentences
        best = order[0]
        chosen = [best]
        top = max(p[best], p[order[1]] if len(order) > 1 else 0.0)
        for i in order[1:]:
            if len(chosen) >= limit or p[i] < self.settings.extra_ratio * top:
                break
            shared = [k for k, c in enumerate(chosen) if _overlap(cands[i], cands[c])]
            if len(shared) == 1 and _contains(cands[i], cands[chosen[shared[0]]]):
                chosen[shared[0]] = i  # 「…桥梁。它位于…」 read together says more than its first sentence alone
            elif not shared and not any(jaccard(cands[i].text, cands[c].text) >= DUPLICATE_JACCARD for c in chosen):
                chosen.append(i)
        return chosen

    def _other_orientation(self, question: AnalysedQuestion, order: list[int], cands: list[Candidate], p: np.ndarray,
                           chosen: list[int]) -> list[int]:
        """「二七区的GDP是多少?」 gets the 2020 result and the 2025 target, when the question names neither."""
        if question.years or question.dates or question.wants_plan or question.kind not in ("quantity", "other"):
            return []
        have = {orientation_of(cands[i].text) for i in chosen}
        if have not in ({"actual"}, {"target"}):
            return []
        wanted = "target" if have == {"actual"} else "actual"
        for i in order:
            if orientation_of(cands[i].text) == wanted and p[i] >= self.settings.other_orientation_ratio * p[chosen[0]]:
                return (
                    [i] if not any(jaccard(cands[i].text, cands[c].text) >= DUPLICATE_JACCARD for c in chosen) else []
                )
        return []

