"""What the answer model sees: one row of numbers per candidate sentence, and one per question.

Candidate features describe how a sentence relates to the question: how much of the
question's (rarity-weighted) wording it and its surroundings hold, whether it holds the kind of
answer asked for, whether the years, places and offices it names agree with the question's, and
how retrieval ranked its passage.  Question features describe the question itself (its words the
corpus lacks, its kind).  The model (:mod:`assistant.model`) turns the rows into probabilities;
nothing here is a weight.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import get_args

import numpy as np

from assistant.evidence import (
    anchored,
    coverage,
    has_date,
    has_unit,
    names_around,
    pair_overlap,
    question_pairs,
    surroundings,
    term_present,
)
from assistant.termstats import TermStats
from assistant.types import MIN_TERM_CHARS, NAME_WEIGHT, AnalysedQuestion, Candidate, QuestionKind, Term
from vectorstore.records import ScoredChunk
from zhtext.asking import ASKED_NOUN, ASKING_OR_WHETHER, ASKS_PLACE
from zhtext.dates import DATE_DIGITS, YEAR
from zhtext.entities import entity_kind, names_in, rivals_of, suffixed_spans
from zhtext.numerals import LARGE
from zhtext.orientation import orientation_of
from zhtext.tags import NAME_TAGS, PLACE_TAG
from zhtext.units import UNIT_CLASSES
from zhtext.words import COMMON, Segmenter

KINDS = get_args(QuestionKind)  # quantity, time, who, list, other: one question feature each
_COUNTED = rf"(?:\d+|[{LARGE}]+)(?:多|余)?"
ORIGIN = re.compile(
    r"[\u4e00-\u9fff)）](?<![的个多等些名位该此])人[。,，;；、(（]"
)  # 「广东开平人。」: where someone is from

CANDIDATE_FEATURES = (
    "rank",
    "retrieval",
    "retrieval_gap",
    "dense",
    "lexical",
    "cover_sentence",
    "cover_strict",
    "cover_context",
    "cover_around",
    "cover_gap",
    "cover_before",
    "cover_after",
    "missing_idf",
    "missing_terms",
    "pairs",
    "common_run",
    "focus",
    "answer_type",
    "typed_miss",
    "answer_form",
    "new_name",
    "new_place",
    "asked_noun",
    "new_chars",
    "length",
    "pins_sentence",
    "pins_context",
    "year_conflict",
    "entity_conflict",
    "entity_agree",
    "plan_match",
    "caption",
    "heading",
)
QUESTION_FEATURES = (
    "has_pins",
    "unknown_share",
    "unknown_names",
    "terms",
    "wants_place",
    *(f"kind_{k}" for k in KINDS),
)
FEATURES = CANDIDATE_FEATURES + QUESTION_FEATURES
# What the answerability model sees of a composed answer: how sure the scorer is of its best
# sentence and how clearly it stands out, that sentence's own features, and the question's.
_BEST = ("cover_sentence", "cover_context", "cover_around", "answer_type", "typed_miss", "year_conflict",
         "entity_conflict", "pins_context", "retrieval", "dense", "rank", "common_run", "missing_idf", "missing_terms",
         "new_name", "focus", "asked_noun", "cover_before")
ANSWER_FEATURES = (
    "p_best",
    "logit_best",
    "p_second",
    "p_margin",
    "p_mass",
    "candidates",
    "top_dense",
    "structured",
    "list_cover",
    *(f"best_{name}" for name in _BEST),
    *QUESTION_FEATURES,
)


@dataclass
class CandidateTable:
    """The candidates of one question and their feature rows (``matrix[i]`` describes ``candidates[i]``)."""

    question: AnalysedQuestion  # as the corpus can match it (assistant.evidence.refine)
    candidates: list[Candidate]
    matrix: np.ndarray  # len(candidates) × len(FEATURES)
    question_row: np.ndarray  # len(QUESTION_FEATURES)

    def column(self, name: str) -> np.ndarray:
        return self.matrix[:, FEATURES.index(name)]


P_CLAMP = 1e-6  # a probability is kept this far from 0 and 1 before its logit is taken


def _logit(p: float) -> float:
    p = min(max(p, P_CLAMP), 1 - P_CLAMP)
    return math.log(p / (1 - p))


def answer_row(
    table: CandidateTable, probabilities: np.ndarray, best: int | None, structured: bool, list_cover: float = 0.0
) -> np.ndarray:
    """The answerability model's row for an answer built around candidate ``best`` (None: no candidate).

    ``structured``: the answer is a list found through the document outline; ``list_cover``: how much of
    the question its section and items hold (its items rarely repeat the question's words)."""
    ordered = np.sort(probabilities)[::-1]
    p_best = float(probabilities[best]) if best is not None else 0.0
    p_second = float(ordered[1]) if len(ordered) > 1 else 0.0
    dense = table.column("dense")
    head = [p_best, _logit(p_best), p_second, p_best - p_second, float(ordered[:3].sum()), float(len(ordered)),
            float(dense.max()) if len(dense) else 0.0, float(structured), list_cover]
    best_row = [float(table.matrix[best, FEATURES.index(name)]) if best is not None else 0.0 for name in _BEST]
    return np.array(head + best_row + table.question_row.tolist())


def type_ok(question: AnalysedQuestion, text: str) -> bool:
    for given in (
        question.dates + question.years
    ):  # 「2021年…撤离了多少居民?」: the date asked from is not the number asked for
        text = text.replace(given, " ")
    if question.kind == "quantity":
        if question.unit_class is None:
            text = DATE_DIGITS.sub(" ", text)
        return has_unit(text, question.unit_class) or counts_measure(question, text)
    if question.kind == "time":
        return has_date(text)
    return True


_UNIT_WORDS = frozenset(
    u for units in UNIT_CLASSES.values() for u in units
)  # 亿元 says how the answer is counted, not what it is about


NAMES_MEMO = 65536  # texts whose names are remembered per dictionary (every candidate sentence of recent questions)


def _names_and_places(text: str, segmenter: Segmenter) -> tuple[frozenset[str], frozenset[str]]:
    """(names, places) in ``text``: dictionary-tagged names, words the dictionary lacks, and 金水区-like words."""
    return segmenter.memo(_find_names_and_places, NAMES_MEMO)(text)


def _find_names_and_places(segmenter: Segmenter, text: str) -> tuple[frozenset[str], frozenset[str]]:
    names, places = set(), set()
    for word in segmenter.cut(text):
        if len(word) < MIN_TERM_CHARS or not re.fullmatch(r"[\u4e00-\u9fff]+", word):
            continue
        tag = segmenter.dictionary_tag(word)
        kind = entity_kind(word)
        if tag == PLACE_TAG or (kind is not None and kind != "office"):
            places.add(word)
        if tag is None or tag in NAME_TAGS:
            names.add(word)
    return frozenset(names), frozenset(places)


def asked_noun(question: str) -> str | None:
    m = ASKED_NOUN.search(question)
    return m.group(1) if m else None


def _focus(question: AnalysedQuestion) -> Term | None:
    """The question's own term nearest to its question word: 首都 in 「X的首都是哪里」."""
    m = ASKING_OR_WHETHER.search(question.text)
    if not m:
        return None
    placed = [
        (abs(question.text.find(t.surface) - m.start()), t)
        for t in question.terms
        if not t.carried and not t.generic and t.surface not in _UNIT_WORDS and question.text.find(t.surface) >= 0
    ]
    return min(placed, key=lambda x: x[0])[1] if placed else None


def _missing(own: list[tuple[Term, float]], text: str) -> tuple[float, int]:
    """(the largest rarity share of a question term ``text`` lacks, how many it lacks): what the passage does not
    say."""
    lacking = [w for t, w in own if not term_present(t, text)]
    return (max(lacking) if lacking else 0.0), len(lacking)


def _neighbours(cands: list[Candidate]) -> dict[int, tuple[str, str]]:
    """For each candidate, the text of the units just before and after it in its chunk."""
    out: dict[int, tuple[str, str]] = {}
    by_chunk: dict[str, list[int]] = {}
    for i, c in enumerate(cands):
        by_chunk.setdefault(c.chunk.chunk_id, []).append(i)
    for members in by_chunk.values():
        for k, i in enumerate(members):
            before = cands[members[k - 1]].text if k else ""
            after = cands[members[k + 1]].text if k + 1 < len(members) else ""
            out[i] = (before, after)
    return out


def counts_measure(question: AnalysedQuestion, text: str) -> bool:
    """「两层」 for 「几层?」: a number followed by the measure word the question asks with."""
    if not question.measure:
        return False
    return re.search(_COUNTED + re.escape(question.measure), text) is not None


def _answer_form(question: AnalysedQuestion, text: str) -> bool:
    return counts_measure(question, text) or (question.wants_origin and ORIGIN.search(text) is not None)


NEW_CHARS_CAP = 40  # characters a sentence adds to the question: beyond this many, more says nothing more


def _new_chars(question: AnalysedQuestion, text: str) -> int:
    asked = set(question.text)
    return sum(1 for ch in text if ch not in asked and (ch.isalnum() or "\u4e00" <= ch <= "\u9fff"))


def common_run(question: str, text: str) -> int:
    """Length of the longest stretch of the question (asking words removed) that the text holds verbatim."""
    best = 0
    for part in ASKING_OR_WHETHER.split(question):
        part = re.sub(r"[^\w\u4e00-\u9fff]", "", part)
        for i in range(len(part)):
            j = i + best + 1
            while j <= len(part) and part[i:j] in text:
                best = j - i
                j += 1
    return best


def _share(pins: list[str], text: str) -> float:
    return sum(1 for p in pins if p in text) / len(pins) if pins else 1.0


def _year_conflict(question: AnalysedQuestion, text: str) -> bool:
    """The question names a year; the text names years, none of them the question's."""
    if not question.years:
        return False
    named = {m.group(0) for m in YEAR.finditer(text)}  # as the question's years: 2020 for 2020年
    return bool(named) and not any(y in named for y in question.years)


def question_names(question: AnalysedQuestion, stats: TermStats, segmenter: Segmenter = COMMON) -> list[str]:
    """The places, bodies and offices a question names: names by their suffix (金水区, 副书记), and any two
    characters before a suffix that the corpus never uses (管城区, which jieba cuts 管 / 城区)."""
    found = set(names_in(question.text, segmenter))
    found |= {s for s in suffixed_spans(question.text) if entity_kind(s) is not None and not stats.df((s,))}
    return sorted(n for n in found if not any(n != m and n in m for m in found))


def _entity_agreement(names: list[str], context: str) -> tuple[bool, bool]:
    """(a name of the question is missing where the text names a rival of its kind, one of them is there)."""
    return any(n not in context and rivals_of(n, context) for n in names), any(n in context for n in names)


# How well a sentence's side answers a question asking for a plan: a target, both, a result (unknown: 0).
PLAN_MATCH = {"target": 1.0, "mixed": 0.5, "actual": -1.0}


def _plan_match(question: AnalysedQuestion, text: str) -> float:
    if not question.wants_plan:
        return 0.0
    return PLAN_MATCH.get(orientation_of(text), 0.0)


def question_row(question: AnalysedQuestion, stats: TermStats, segmenter: Segmenter = COMMON) -> np.ndarray:
    own = [t for t in question.terms if not t.carried and not t.guessed]
    weights = [t.weight * stats.idf(t.alternatives) for t in own]
    total = sum(weights) or 1.0
    unknown = [
        (t, w)
        for t, w in zip(own, weights, strict=True)
        if not t.generic and len(t.surface) >= MIN_TERM_CHARS and not stats.known(t)
    ]
    unknown_share = sum(w for _, w in unknown) / total
    names = question_names(question, stats, segmenter)
    unknown_names = len(
        {t.surface for t, _ in unknown if t.weight >= NAME_WEIGHT} | {n for n in names if not stats.df((n,))}
    )
    pins = question.years + question.dates + question.numbers
    kinds = [1.0 if question.kind == k else 0.0 for k in KINDS]
    wants_place = float(bool(ASKS_PLACE.search(question.text)))
    return np.array(
        [float(bool(pins)), unknown_share, float(unknown_names), float(len(own)), wants_place, *kinds]
    )


def candidate_table(
    question: AnalysedQuestion,
    evidence: list[ScoredChunk],
    candidates: list[Candidate],
    stats: TermStats,
    segmenter: Segmenter = COMMON,
) -> CandidateTable:
    """Feature rows of ``candidates`` (sentences of ``evidence``); ``segmenter``: the dictionary of the index the
    evidence comes from."""
    n = len(candidates)
    qrow = question_row(question, stats, segmenter)
    if not n:
        return CandidateTable(question, [], np.zeros((0, len(FEATURES))), qrow)
    top = evidence[0].score if evidence else 1.0
    top_lexical = max((s.lexical or 0.0 for s in evidence), default=0.0) or 1.0
    near = {cid: (text, names_around(question, stats, text)) for cid, text in surroundings(evidence).items()}
    pairs = question_pairs(question)
    pins = question.years + question.dates + question.numbers
    entities = question_names(question, stats, segmenter)
    neighbours = _neighbours(candidates)
    focus = _focus(question)
    noun = asked_noun(question.text)
    typed = question.kind in ("quantity", "time")
    asked_names, _ = _names_and_places(question.text, segmenter)
    own = [t for t in question.terms if not t.carried and not t.guessed and not t.generic and stats.known(t)]
    idf_max = max((stats.idf(t.alternatives) for t in own), default=1.0)
    own_idf = [(t, stats.idf(t.alternatives) / idf_max) for t in own]
    rows = []
    for i, cand in enumerate(candidates):
        scored = evidence[cand.rank]
        around, names = near[cand.chunk.chunk_id]
        context = cand.context
        conflict, agree = _entity_agreement(entities, context)
        before, after = neighbours[i]
        found_names, found_places = _names_and_places(cand.text, segmenter)
        typed_ok = type_ok(question, cand.text)
        rows.append(
            [
                float(cand.rank),
                cand.retrieval / top if top else 0.0,
                0.0,
                scored.dense or 0.0,
                (scored.lexical or 0.0) / top_lexical,
                anchored(question, cand.text, stats, names),
                coverage(question, cand.text, stats),
                coverage(question, context, stats),
                coverage(question, around, stats),
                0.0,
                coverage(question, before, stats) if before else 0.0,
                coverage(question, after, stats) if after else 0.0,
                *_missing(own_idf, f"{before}{cand.text}{after}"),
                pair_overlap(pairs, cand.text),
                float(common_run(question.text, cand.text)),
                float(focus is not None and term_present(focus, cand.text)),
                float(typed_ok),
                float(typed and not typed_ok),
                float(_answer_form(question, cand.text)),
                float(bool(found_names - asked_names)),
                float(bool(found_places - asked_names)),
                float(bool(noun and noun in cand.text)),
                min(_new_chars(question, cand.text), NEW_CHARS_CAP) / NEW_CHARS_CAP,
                math.log1p(len(cand.text)),
                _share(pins, cand.text),
                _share(pins, context),
                float(_year_conflict(question, cand.text)),
                float(conflict),
                float(agree),
                _plan_match(question, cand.text),
                float(cand.chunk.kind == "caption"),
                float(cand.chunk.kind == "heading"),
            ]
        )
    matrix = np.zeros((n, len(FEATURES)))
    matrix[:, : len(CANDIDATE_FEATURES)] = np.asarray(rows, dtype=np.float64)
    matrix[:, len(CANDIDATE_FEATURES) :] = qrow
    col = {name: i for i, name in enumerate(FEATURES)}
    matrix[:, col["retrieval_gap"]] = matrix[:, col["retrieval"]] - 1.0
    matrix[:, col["cover_gap"]] = matrix[:, col["cover_sentence"]] - matrix[:, col["cover_sentence"]].max()
    return CandidateTable(question, candidates, matrix, qrow)
