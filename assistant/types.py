"""The records the answer steps pass between them, in one place.

Rule: a record two or more modules of ``assistant/`` build or read as plain data lives here: the question as
analysed (:class:`AnalysedQuestion`, its :class:`Term`\\ s), a value of a text (:class:`Value`), a candidate
sentence (:class:`Candidate`), a quoted span (:class:`Quote`) and a fact-check's result (:class:`CheckResult`).
A record stays beside its code when it is private to one module (``factcheck._Match``) or carries that
module's own logic (``features.CandidateTable`` and its feature columns, ``lists.Outline``, ``verify.Verification``,
``llm.Passage``, ``corpus.CorpusView``); the public reply is :mod:`assistant.response`, the settings
:mod:`assistant.settings`, a batch line ``batch.BatchItem``.  The reader's, the decision's, the extractive
answerer's and the service's records (``reader``, ``decision``, ``extractive``, ``service``) stay in their modules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from assistant.response import Verdict
from vectorstore.records import Chunk
from zhtext.sentences import Span
from zhtext.units import UnitClass

QuestionKind = Literal["quantity", "time", "who", "list", "other"]
ValueKind = Literal["date", "year_month", "ordinal", "year", "people", "money", "area", "percent", "ratio", "count"]

# A term's weight by what it is (set by assistant.question, read wherever a term counts): names count most.
NAME_WEIGHT = 1.5  # a proper noun, a word in Latin letters or of LONG_WORD_CHARS or more, a quoted term
WORD_WEIGHT = 1.0  # a noun, a numeral, a set phrase, a colloquial word with the reports' wording, a rare pair
MINOR_WEIGHT = 0.4  # any other word, and a word naming the kind of answer wanted (地址, 特点)
MIN_TERM_CHARS = 2  # a term (a name) has two characters at least: one character names nothing on its own


@dataclass(frozen=True)
class Term:
    """A word of a question and the spellings of it that count in the evidence."""

    surface: str
    alternatives: tuple[str, ...]  # any of these in the evidence counts as the term
    weight: float  # by part of speech: NAME_WEIGHT, WORD_WEIGHT or MINOR_WEIGHT (a split compound shares its own)
    carried: bool = False  # brought in from an earlier turn of the conversation
    # a word only jieba's HMM found (常庄, or a mis-split like 院能): used only to spot wrong names
    guessed: bool = False
    generic: bool = False  # names the kind of answer wanted (地址, 特点): never proof that the corpus lacks the subject


@dataclass
class AnalysedQuestion:
    """What a question asks (``assistant.question.analyse``): its terms, the values it pins, the kind of answer."""

    text: str
    terms: list[Term] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # other numbers/ordinals the evidence must contain
    kind: QuestionKind = "other"
    unit_class: UnitClass | None = None
    list_count: int | None = None
    wants_plan: bool = False
    wants_origin: bool = False  # 「…是哪里人?」: the answer is where someone comes from (「广东开平人。」)
    measure: str | None = None  # the measure word counted (几层 → 层): the answer reads 「两层」
    name_runs: list[str] = field(
        default_factory=list
    )  # single characters the segmenter could not join (祭 遵): a rare name, maybe

    def retrieval_query(self) -> str:
        """The question plus report wording for colloquial words (GDP → 地区生产总值)."""
        extra = [alt for t in self.terms for alt in t.alternatives if alt not in self.text]
        return self.text + (" " + " ".join(dict.fromkeys(extra)) if extra else "")


@dataclass(frozen=True)
class Value:
    """A checkable value of a text (``assistant.values.parse_values``): an amount with its unit, a date, an ordinal."""

    kind: ValueKind  # a date or year, an ordinal, or what an amount measures (zhtext.units)
    amount: tuple  # comparable payload
    text: str  # as written
    start: int  # offset in the parsed text
    unit: str = ""  # for a count, what is counted (个, 项, 所…): three schools and three items differ

    @property
    def measure(self) -> str:
        """What two values must share to be compared: the kind, and for a count its unit ("count:个")."""
        return f"count:{self.unit}" if self.kind == "count" else self.kind


@dataclass(frozen=True)
class Quote:
    """A verbatim span of a source file that an answer cites."""

    chunk: Chunk
    start: int  # absolute offsets into the source file
    end: int
    text: str


@dataclass(frozen=True)
class Candidate:
    """A sentence of the retrieved evidence that may answer (``assistant.evidence.candidates``)."""

    chunk: Chunk
    rank: int  # rank of the chunk in retrieval
    retrieval: float  # fused retrieval score of the chunk
    span: Span  # absolute offsets in the source document
    text: str

    @property
    def context(self) -> str:
        """The sentence's surroundings: section path and whole chunk."""
        return f"{self.chunk.section}\n{self.chunk.text}"


@dataclass
class CheckResult:
    """A fact-check's verdict (``assistant.factcheck.FactChecker``), the quotes it rests on and what differs."""

    verdict: Verdict
    quotes: list[Quote] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    reason: str = ""
    conflict: bool = False  # the documents that speak to the claim disagree among themselves
    said: list[str] = field(default_factory=list)  # what the passage states instead of the claim (760亿元, 郭家咀水库)
