"""Every record of the web layer, in one place: what the HTTP edge accepts, what the services hand back, and what
the routes reply with.

Requests are validated here, once, at the edge: types and shapes by pydantic (with the project's own bilingual
messages where the old free-form checks had them), the bounds that depend on the settings by
:meth:`webapp.answers.AnswerService.query`.  Replies are built from the models below, never from dicts.  The names
are unique across the layers (the kept keyword index has its own ``Progress``; these are ``EmbedderProgress`` and
``KeywordIndexStatus``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    model_serializer,
)

from assistant.response import AssistantResponse, Citation, RetrievedItem, ShortAnswer
from assistant.settings import AnsweringSettings
from assistant.validation import has_surrogate
from vectorstore.records import DocumentInfo, Indicator, IndicatorSide
from webapp import texts


# --- text fields --------------------------------------------------------------------------------------
def _no_surrogates(value: str | None) -> str | None:
    if value is not None and has_surrogate(value):
        raise ValueError(texts.ERR_SURROGATE)
    return value


def _text_or(message: str) -> Any:
    """A validator that refuses anything but a string with ``message`` (a number is "empty", as it always was)."""

    def check(value: object) -> object:
        if not isinstance(value, str):
            raise ValueError(message)
        return value

    return BeforeValidator(check)


Text = Annotated[str, AfterValidator(_no_surrogates)]
OptionalText = Annotated[str | None, AfterValidator(_no_surrogates)]
QuestionText = Annotated[str, _text_or(texts.ERR_EMPTY_QUESTION)]
ClaimText = Annotated[str, _text_or(texts.ERR_EMPTY_CLAIM)]

_BOUNDS = AnsweringSettings()  # the default bounds of a request, as the schema states them
ANSWER_ID = re.compile(r"ans-[0-9a-f]{32}")  # what assistant.response.new_answer_id makes


def _answer_id(value: object) -> object:
    if not isinstance(value, str) or not ANSWER_ID.fullmatch(value):
        raise ValueError(texts.ERR_FEEDBACK_ANSWER_ID)
    return value


def _helpful(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError(texts.ERR_FEEDBACK_HELPFUL)
    return value


def _comment(value: object) -> object:
    if value is not None and not isinstance(value, str):
        raise ValueError(texts.ERR_FEEDBACK_COMMENT)
    return value


# --- requests ------------------------------------------------------------------------------------------
class HistoryMessage(BaseModel):
    role: Text = Field(description="user | assistant (system messages are ignored)")
    content: Text


class AskRequest(BaseModel):
    question: QuestionText = Field(
        description=f"the question, at most {_BOUNDS.max_question_chars:,} characters",
        examples=[texts.API_EXAMPLE_QUESTION],
    )
    history: list[HistoryMessage] | None = Field(
        None,
        description=(
            f"earlier turns, oldest first, for follow-up questions (at most {_BOUNDS.max_history_messages} messages, "
            f"{_BOUNDS.max_history_message_chars:,} characters each, {_BOUNDS.max_history_chars:,} together)"
        ),
    )
    id: OptionalText = Field(None, description="echoed back in the response")
    include_flagged: StrictBool = Field(
        False,
        description="list passages flagged as text addressed to a model in `retrieved` (marked `suspicious`; never "
        "quoted); needs the admin credential",
    )

    def turns(self) -> list[dict[str, str]] | None:
        return None if self.history is None else [m.model_dump() for m in self.history]


class CheckRequest(BaseModel):
    claim: ClaimText = Field(
        description=f"the statement to check, at most {_BOUNDS.max_question_chars:,} characters",
        examples=[texts.API_EXAMPLE_CLAIM],
    )
    id: OptionalText = Field(None, description="echoed back in the response")
    include_flagged: StrictBool = Field(
        False,
        description="list passages flagged as text addressed to a model in `retrieved` (marked `suspicious`; never "
        "quoted); needs the admin credential",
    )


class ReindexRequest(BaseModel):
    confirm: StrictBool = Field(
        False,
        description="must be JSON true (not \"yes\", 1 or \"true\"): without it nothing changes and the answer "
        "(400) says what would change",
    )


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: Any = None


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, … are accepted and ignored
    model: OptionalText = Field(None, examples=["erqi-qa"])
    messages: list[ChatMessageIn] = Field(examples=[[{"role": "user", "content": texts.API_EXAMPLE_QUESTION}]])
    stream: bool = False


@dataclass(frozen=True)
class AnswerQuery:
    """A question (or claim) and its history within this server's bounds: what every interface hands the answers
    service once it has validated the request."""

    text: str
    history: list[dict[str, str]] = field(default_factory=list)
    id: str | None = None
    flagged: bool = False  # an admin asked to see the passages flagged as planted text in ``retrieved``


class FeedbackRequest(BaseModel):
    """A rating of one answer.  Nothing else may be sent: a rating never changes an answer."""

    model_config = ConfigDict(extra="forbid")
    answer_id: Annotated[str, BeforeValidator(_answer_id)] = Field(
        description="the answer_id of an answer this server gave (/api/ask, the page, /v1)",
        examples=["ans-0123456789abcdef0123456789abcdef"],
    )
    helpful: Annotated[bool, BeforeValidator(_helpful)] = Field(description="JSON true or false")
    comment: Annotated[OptionalText, BeforeValidator(_comment)] = Field(
        None, description="what was wrong or right (at most ERQI_FEEDBACK_MAX_COMMENT_CHARS characters)"
    )


# --- errors ----------------------------------------------------------------------------------------------
class ErrorBody(BaseModel):
    message: str
    type: str
    code: int


class ErrorResponse(BaseModel):
    error: ErrorBody

    @classmethod
    def of(cls, status: int, message: str, type_: str) -> ErrorResponse:
        safe = message.encode("utf-8", "replace").decode("utf-8")  # never fail on a lone surrogate echoed back
        return cls(error=ErrorBody(message=safe, type=type_, code=status))


# --- documents -------------------------------------------------------------------------------------------
UploadStatus = Literal["added", "updated", "unchanged"]


@dataclass
class UploadResult:
    name: str  # the sanitised file name in the corpus folder
    status: UploadStatus
    document: DocumentInfo
    suspicious: list[tuple[int, str]] = field(default_factory=list)  # (flagged chunks, first planted phrase)
    warnings: list[str] = field(default_factory=list)


class DocumentEntry(BaseModel):
    doc_id: str
    source: str
    title: str
    chunks: int
    ingested_at: str
    origin: str = Field(description="bundled | upload | cli | folder | unknown: where the document came from")
    added_by: str | None = Field(
        description="who added it (api-token, page-login, loopback <address>, user@host for the CLI); shown only to "
        "callers who may write, null for everyone else"
    )
    suspicious_chunks: int = Field(
        description="chunks holding text addressed to a model (「忽略以上指令」, [SYSTEM]…); never quoted"
    )

    @classmethod
    def of(cls, d: DocumentInfo, admin: bool) -> DocumentEntry:
        return cls(
            doc_id=d.doc_id, source=d.source, title=d.title, chunks=d.chunks, ingested_at=d.ingested_at,
            origin=d.provenance.origin, added_by=d.provenance.by if admin else None, suspicious_chunks=d.suspicious,
        )


class DocumentList(BaseModel):
    documents: list[DocumentEntry]
    total: int


class SuspiciousPassage(BaseModel):
    chunks: int
    example: str = Field(description="the first planted phrase found")


class UploadResponse(BaseModel):
    status: UploadStatus = Field(description="added | updated | unchanged")
    stored_as: str = Field(description="the sanitised file name in the corpus folder")
    document: DocumentEntry
    suspicious: list[SuspiciousPassage] = Field(
        description="text addressed to a model found in the file: flagged, never quoted"
    )
    warnings: list[str] = Field(
        description="read, but worth knowing (replacement characters, content type differing from the name)"
    )

    @classmethod
    def of(cls, result: UploadResult) -> UploadResponse:
        return cls(
            status=result.status,
            stored_as=result.name,
            document=DocumentEntry.of(result.document, admin=True),
            suspicious=[SuspiciousPassage(chunks=n, example=phrase) for n, phrase in result.suspicious],
            warnings=result.warnings,
        )


class DeleteResponse(BaseModel):
    deleted: DocumentEntry


class SkippedFile(BaseModel):
    file: str
    reason: str


class SuspiciousFile(BaseModel):
    file: str
    chunks: int
    example: str


class ReindexResponse(BaseModel):
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    skipped: list[SkippedFile]
    suspicious: list[SuspiciousFile]
    chunks_written: int
    seconds: float


class SessionResponse(BaseModel):
    expires_in: int = Field(description="seconds the page's admin session (its upload cookie) stays valid")


# --- indicators ------------------------------------------------------------------------------------------
class IndicatorEntry(BaseModel):
    subject: str = Field(description="what is measured, in the document's words (地区生产总值)")
    value: int | float = Field(description="the number as printed (760 of 760亿元)")
    unit: str = Field(description="magnitude and measure word as printed (亿元, 万人, 个, %)")
    period: str = Field(description="a year (2020), the text's words for a span (五年来, 今后五年), or empty")
    orientation: IndicatorSide = Field(description="actual (achieved, reported) or target (planned)")
    text: str = Field(description="the clause that states it, verbatim: original[start:end]")
    doc_id: str
    source: str
    start: int
    end: int
    section: str = Field(description="the section path (headings joined by ' › ')")
    value_start: int = Field(description="where the number and its unit begin (inside start..end)")
    value_end: int
    qualifier: str = Field(description="以上, 多, 余, 近, 超 … as printed around the number")
    link: str = Field(description="the page's view of the document with this clause marked")

    @classmethod
    def of(cls, i: Indicator, link: str) -> IndicatorEntry:
        return cls(subject=i.subject, value=i.value, unit=i.unit, period=i.period, orientation=i.orientation,
                   text=i.text, doc_id=i.doc_id, source=i.source, start=i.start, end=i.end, section=i.section,
                   value_start=i.value_start, value_end=i.value_end, qualifier=i.qualifier, link=link)


class IndicatorPairEntry(BaseModel):
    subject: str = Field(description="the achievement's subject")
    actual: IndicatorEntry
    target: IndicatorEntry
    similarity: float = Field(description="how alike the two subjects read (Dice of character pairs, 0-1)")


class IndicatorList(BaseModel):
    indicators: list[IndicatorEntry]
    total: int
    pairs: list[IndicatorPairEntry] = Field(
        description="achievement and target of the same subject, among the indicators listed"
    )


# --- the document view --------------------------------------------------------------------------------------
class ViewBlock(BaseModel):
    kind: Literal["text", "heading", "caption"]
    section: str
    start: int
    end: int
    text: str = Field(description="original[start:end], as it is")


class ViewPassage(BaseModel):
    start: int
    end: int
    text: str = Field(description="the passage asked for, original[start:end]")
    section: str = Field(description="the section path it stands in")


class DocumentView(BaseModel):
    doc_id: str
    source: str
    title: str
    blocks: list[ViewBlock]
    passage: ViewPassage | None = Field(None, description="the passage the link names, when it names one")


# --- feedback ---------------------------------------------------------------------------------------------
class FeedbackReceipt(BaseModel):
    feedback_id: int
    answer_id: str
    helpful: bool
    created: str


class FeedbackEntry(BaseModel):
    feedback_id: int
    answer_id: str
    helpful: bool
    comment: str
    created: str
    task: str
    question: str
    history: list[dict[str, Any]]
    answer: str
    no_answer: bool
    verdict: str | None
    short_answer: str | None
    citations: list[dict[str, Any]] = Field(description="ref, doc_id, source, text, start, end of each citation")


class FeedbackList(BaseModel):
    feedback: list[FeedbackEntry]
    total: int


class EvalItem(BaseModel):
    """A line of the evaluation's input (data/eval/gold.jsonl's fields; ``python -m assistant eval`` reads it)."""

    id: str
    type: str
    task: Literal["ask", "check"]
    question: str
    history: list[dict[str, Any]] | None = None
    answerable: bool
    expect: list[str]
    evidence: list[str]
    source: str
    verdict: str | None = None
    review: bool = Field(False, description="rated unhelpful: staff write what a right answer holds (expect)")
    feedback: dict[str, Any]


# --- health ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EmbedderProgress:
    """The background embedder's progress (phase 2 of indexing)."""

    done: int = 0
    total: int = 0
    running: bool = False
    error: str | None = None


class EmbeddingStatus(BaseModel):
    done: int
    total: int
    running: bool


class KeywordIndexWork(BaseModel):
    done: int
    total: int
    detail: str


class KeywordIndexStatus(BaseModel):
    state: str = Field(description="idle | building | updating | merging | error | missing")
    generation: int | None = Field(description="the kept keyword index's version this worker reads")
    chunks: int
    segments: int
    dead_rows: int
    revision: int | None = Field(description="the collection revision it is current with")
    progress: KeywordIndexWork
    error: str | None = Field(None, description="the last error (admin view only; see the server log)")

    @classmethod
    def of(cls, status: dict[str, Any], admin: bool) -> KeywordIndexStatus:
        reply = cls.model_validate(status)
        return reply if admin else reply.model_copy(update={"error": None})


HealthStatus = Literal["ok", "index_missing", "damaged", "error"]


class Health(BaseModel):
    """What anyone may read: no folders, host names, ports or library error text."""

    status: HealthStatus = Field(description="ok | index_missing | damaged | error")
    ready: bool
    documents: int
    chunks: int
    embedding_model: str | None
    answer_mode: str
    message: str | None = Field(description="what is wrong and what to do (中文 / English)")
    embedding: EmbeddingStatus = Field(
        description="background embedding of new documents (meaning search follows keyword search)"
    )
    writes: str = Field(
        description="token: writes need ERQI_ADMIN_TOKEN; loopback: no token set, writes only from this machine"
    )
    keyword_index: KeywordIndexStatus | None = Field(
        None, description="the kept keyword index (BM25, term statistics, outline) this worker reads, and its updates"
    )


class AdminHealth(Health):
    """The view of callers who may write (the admin token, or loopback when none is set): where things are and
    what exactly failed."""

    index_dir: str
    corpus_dir: str
    detail: str | None = Field(description="the full error: paths, server addresses, library messages")
    problems: list[str] = Field(
        description="what the index check found (segments readable, every chunk committed, metadata complete)"
    )


# --- the OpenAI-compatible route -------------------------------------------------------------------------
class AnswerExtras(BaseModel):
    """The assistant's own fields, added at the top level of a completion (and of the final stream chunk)."""

    answer_id: str | None = Field(None, description="the answer's id: rate it with POST /api/feedback")
    citations: list[Citation] | None = None
    short_answer: ShortAnswer | None = None
    no_answer: bool | None = None
    confidence: float | None = None
    tentative: bool | None = None
    conflict: bool | None = None
    related: list[RetrievedItem] | None = None

    @staticmethod
    def fields_of(response: AssistantResponse) -> dict[str, Any]:
        return {
            "answer_id": response.answer_id, "citations": response.citations, "short_answer": response.short_answer,
            "no_answer": response.no_answer, "confidence": response.confidence,
            "tentative": response.tentative, "conflict": response.conflict, "related": response.related,
        }


class ChatMessageOut(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatMessageOut
    logprobs: None = None
    finish_reason: str = "stop"


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(AnswerExtras):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    system_fingerprint: str
    choices: list[ChatChoice]
    usage: Usage


class ChunkDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None

    @model_serializer(mode="wrap")
    def _given_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {k: v for k, v in handler(self).items() if v is not None}  # {"content": "…"}, {} at the end


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChunkDelta
    logprobs: None = None
    finish_reason: str | None = None


class ChatCompletionChunk(AnswerExtras):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    answer: str | None = Field(None, description="final chunk: the authoritative answer text")

    @model_serializer(mode="wrap")
    def _extras_when_given(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The answer and its extras only in the final chunk (where they are given)."""
        optional = set(AnswerExtras.model_fields) | {"answer"}
        return {k: v for k, v in handler(self).items() if k not in optional or k in self.model_fields_set}


class StreamError(BaseModel):
    error: ErrorBody


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]
