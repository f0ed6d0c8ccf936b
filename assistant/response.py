"""The one response type, used by the CLI, batch mode, the web page and the API."""
from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from vectorstore.records import Chunk, Origin, ScoredChunk
from zhtext.orientation import Orientation

Verdict = Literal["supported", "contradicted", "conflicting", "not_found"]


class Citation(BaseModel):
    """What a marker [ref] points at: ``text`` is exactly ``original[start:end]`` of ``source``."""

    ref: int
    doc_id: str
    source: str
    title: str
    section: str
    text: str = Field(description="the quoted passage, verbatim")
    start: int
    end: int
    chunk_id: str
    context: str = Field(description="the whole chunk the passage was taken from")
    context_start: int
    orientation: Orientation = "unknown"
    origin: Origin = Field(
        "unknown", description="where the document came from: bundled (the official reports), folder, cli, upload"
    )


class ShortAnswer(BaseModel):
    """The direct answer the reader found: ``text`` is exactly ``original[start:end]`` of document ``doc_id``,
    inside the first citation's passage."""

    text: str
    doc_id: str
    source: str
    start: int
    end: int

    @classmethod
    def of(cls, quote: Any) -> ShortAnswer:
        """From an :class:`assistant.evidence.Quote`."""
        return cls(text=quote.text, doc_id=quote.chunk.doc_id, source=quote.chunk.source, start=quote.start,
                   end=quote.end)


class RetrievedItem(BaseModel):
    chunk_id: str
    doc_id: str
    source: str
    title: str
    section: str
    text: str
    start: int
    end: int
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    suspicious: bool = Field(
        False, description="flagged at ingest as text addressed to a model; listed only when an admin asked for it"
    )

    @classmethod
    def of(cls, scored: ScoredChunk) -> RetrievedItem:
        c = scored.chunk
        return cls(
            chunk_id=c.chunk_id, doc_id=c.doc_id, source=c.source, title=c.title, section=c.section, text=c.text,
            start=c.start, end=c.end, score=round(scored.score, 4),
            dense_score=None if scored.dense is None else round(scored.dense, 4),
            bm25_score=None if scored.lexical is None else round(scored.lexical, 4), suspicious=c.suspicious,
        )


class SentenceCheck(BaseModel):
    """One sentence of a generated (LLM) answer and whether its citations support it."""

    text: str
    refs: list[int]
    verified: bool
    reason: str | None = None


def new_answer_id() -> str:
    """A fresh id for one answer (what feedback on it names)."""
    return "ans-" + uuid.uuid4().hex


class AssistantResponse(BaseModel):
    id: str | None = None
    answer_id: str = Field(
        default_factory=new_answer_id,
        description="this answer's own id, new for every answer: rate it with POST /api/feedback",
    )
    question: str
    standalone_question: str | None = Field(
        None, description="the follow-up rewritten as a standalone question, when it differs"
    )
    answer: str
    no_answer: bool = False
    confidence: float | None = Field(
        None,
        description=(
            "probability (0-1, calibrated on held-out data) that the answer "
            "is right; for a refusal, that of the closest answer"
        ),
    )
    conflict: bool = Field(
        False,
        description=(
            "the quoted documents give different figures for the same thing;"
            " the answer says so, official sources first"
        ),
    )
    tentative: bool = Field(
        False,
        description=(
            "no_answer is true, yet the closest passage is quoted (with citations) "
            "under a hint that the documents may not answer directly"
        ),
    )
    short_answer: ShortAnswer | None = Field(
        None, description="the direct answer (a span of the first citation's passage), when one was found"
    )
    citations: list[Citation] = Field(default_factory=list)
    related: list[RetrievedItem] = Field(
        default_factory=list, description="closest passages, given when no_answer is true"
    )
    retrieved: list[RetrievedItem] = Field(default_factory=list, description="ranked evidence before answer selection")
    timings_ms: dict[str, float] = Field(default_factory=dict)
    mode: Literal["extractive", "llm"] = "extractive"
    task: Literal["ask", "check"] = "ask"
    verdict: Verdict | None = None
    differences: list[str] = Field(default_factory=list, description="what the sources say differently from the claim")
    sentences: list[SentenceCheck] | None = None
    notice: str | None = Field(None, description="for the user: why the LLM answer was replaced or shortened (Chinese)")
    indexing: list[str] = Field(
        default_factory=list,
        description="listed documents still being indexed (file names): the answer may miss them and says so",
    )
    reason: str | None = Field(
        None, description="diagnostic for scripts: why the answerer refused or found nothing (English)"
    )
    error: str | None = None


def citation_for(ref: int, chunk: Chunk, start: int, end: int, text: str, origin: Origin = "unknown") -> Citation:
    return Citation(
        ref=ref, doc_id=chunk.doc_id, source=chunk.source, title=chunk.title, section=chunk.section, text=text,
        start=start, end=end, chunk_id=chunk.chunk_id, context=chunk.text, context_start=chunk.start,
        orientation=chunk.orientation, origin=origin,
    )
