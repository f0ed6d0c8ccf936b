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

from assistant.bridging import bridges
from assistant.conflicts import conflicting, official_first
from assistant.corpus import CorpusView
from assistant.evidence import Candidate, Quote, candidates, clauses, coverage, refine, term_present
from assistant.features import ANSWER_FEATURES, FEATURES, CandidateTable, answer_row, candidate_table, type_ok
from assistant.lists import enumerates, labelled_enumeration
from assistant.model import MODEL_PATH, AnswerModel, load_model
from assistant.question import Question
from assistant.settings import AnsweringSettings
from assistant.termstats import TermStats
from vectorstore.embedding.embeddings import CachedEmbeddings
from vectorstore.records import ScoredChunk
from vectorstore.retriever import jaccard
from zhtext.numerals import UP_TO_TEN
from zhtext.orientation import orientation_of

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


@dataclass(frozen=True)
class Draft:
    """The answer the best sentences would make, before the confidence decides whether to give it."""

    quotes: list[Quote]
    best: int | None  # candidate index the answer is built around
    is_list: bool = False
    structured: bool = False  # a list found through the document outline
    reason: str = ""
    list_cover: float = 0.0  # for a list: how much of the question its sections and items hold


def _overlap(a: Candidate, b: Candidate) -> bool:
    """Both hold some of the same text of one file: a sentence and its 「当日,…」 follow-up, or one sentence in two
    chunks."""
    return a.chunk.doc_id == b.chunk.doc_id and a.span.start < b.span.end and b.span.start < a.span.end


def _contains(a: Candidate, b: Candidate) -> bool:
    return a.chunk.doc_id == b.chunk.doc_id and a.span.start <= b.span.start and b.span.end <= a.span.end


def _required(question: Question, text: str, stats: TermStats) -> list:
    terms = [t for t in question.terms if term_present(t, text) and stats.idf(t.alternatives) > REQUIRED_IDF]
    pins = [p for p in question.years + question.dates + question.numbers if p in text]
    return terms + pins


def _covers(question: Question, piece: str, required: list) -> bool:
    for need in required:
        if isinstance(need, str):
            if need not in piece:
                return False
        elif not term_present(need, piece):
            return False
    return type_ok(question, piece)


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


def _list_cover(question: Question, items: list[Quote], stats: TermStats) -> float:
    sections = dict.fromkeys(q.chunk.section for q in items)
    return coverage(question, "\n".join([*sections, *(q.text for q in items)]), stats)


class ExtractiveAnswerer:
    """Scores the evidence's sentences with the answer model, composes the answer, and decides whether to give it."""

    def __init__(
        self, settings: AnsweringSettings, embeddings: CachedEmbeddings, model: AnswerModel | None = None
    ) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self._model = model

    @property
    def model(self) -> AnswerModel:
        """Read on first use: computing feature rows (``make train``) needs no model file."""
        if self._model is None:
            self._model = load_model(self.settings.model or MODEL_PATH, FEATURES, ANSWER_FEATURES)
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

    def table(
        self, question: Question, evidence: list[ScoredChunk], view: CorpusView, vector: np.ndarray
    ) -> CandidateTable:
        """The candidate sentences of ``evidence`` and their feature rows (see assistant.features)."""
        stats = view.stats
        question = refine(question, stats)
        cands = candidates(evidence)
        semantic = np.zeros(len(cands))
        if cands:
            units = self.embeddings.vectors([c.text for c in cands])
            semantic = units @ (vector / (np.linalg.norm(vector) or 1.0))
        found = bridges(
            question,
            stats,
            view.vocabulary,
            self.embeddings,
            self.settings.bridge_words,
            self.settings.bridge_min_similarity,
        )
        return candidate_table(question, evidence, cands, stats, semantic, found, view.segmenter)

    def extract(self, question: Question, evidence: list[ScoredChunk], view: CorpusView, vector: np.ndarray,
                list_items: list[Quote] | None = None) -> Extraction:
        """``list_items``: the items of a list found through the document outline (see assistant.lists)."""
        table = self.table(question, evidence, view, vector)
        probabilities = self.model.sentence_probabilities(table.matrix)
        draft = self.draft(table, probabilities, evidence, view.stats, list_items or [])
        confidence = self.model.confidence(
            answer_row(table, probabilities, draft.best, draft.structured, draft.list_cover)
        )
        if draft.quotes and confidence >= self.threshold:
            if conflicting(draft.quotes):
                return Extraction(
                    official_first(draft.quotes, view.origins),
                    is_list=draft.is_list,
                    confidence=confidence,
                    conflict=True,
                )
            return Extraction(draft.quotes, is_list=draft.is_list, confidence=confidence)
        reason = draft.reason or f"confidence {confidence:.2f} is below {self.threshold:.2f}"
        closest = draft.quotes[:1] if draft.quotes and confidence >= self.hint_threshold else []
        return Extraction(no_answer=True, reason=reason, confidence=confidence, closest=closest)

    def draft(self, table: CandidateTable, probabilities: np.ndarray, evidence: list[ScoredChunk], stats: TermStats,
              list_items: list[Quote]) -> Draft:
        """The answer the scored candidates make: a list, or the best sentences (trimmed)."""
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
        chosen = self._select(question, order, cands, probabilities)
        chosen += self._other_orientation(question, order, cands, probabilities, chosen)
        if question.kind == "list" and not any(enumerates(question, cands[i].text) for i in chosen):
            return Draft([], order[0], reason="the question asks for a list and no passage enumerates one")
        return Draft([trim(question, cands[i], stats) for i in chosen], chosen[0], question.kind == "list")

    @staticmethod
    def _best_within(order: list[int], cands: list[Candidate], chunk_ids: set[str]) -> int:
        return next((i for i in order if cands[i].chunk.chunk_id in chunk_ids), order[0])

    def _select(self, question: Question, order: list[int], cands: list[Candidate], p: np.ndarray) -> list[int]:
        """The best sentence, then others nearly as likely (``answer_extra_ratio``), without repeating text."""
        limit = self.settings.max_list_sentences if question.kind == "list" else self.settings.max_answer_sentences
        best = order[0]
        chosen = [best]
        for i in order[1:]:
            if len(chosen) >= limit or p[i] < self.settings.extra_ratio * p[best]:
                break
            shared = [k for k, c in enumerate(chosen) if _overlap(cands[i], cands[c])]
            if len(shared) == 1 and _contains(cands[i], cands[chosen[shared[0]]]):
                chosen[shared[0]] = i  # 「…桥梁。它位于…」 read together says more than its first sentence alone
            elif not shared and not any(jaccard(cands[i].text, cands[c].text) >= DUPLICATE_JACCARD for c in chosen):
                chosen.append(i)
        return chosen

    def _other_orientation(self, question: Question, order: list[int], cands: list[Candidate], p: np.ndarray,
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

