"""The JSON API under /api: ask, check, documents, health.  Errors are ``{"error": {"message", "type", "code"}}``.

Reading is open; uploading, deleting and re-indexing need the admin credential
(:mod:`webapp.access`); re-indexing also needs ``{"confirm": true}``.
"""
from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.response import AssistantResponse
from assistant.settings import AnsweringSettings
from assistant.validation import InvalidRequest, has_surrogate
from vectorstore.errors import StoreError
from vectorstore.records import DocumentInfo
from webapp import texts
from webapp.access import AccessDenied, Caller, authorise_api, client_address
from webapp.backend import Backend, UnknownDocument, UploadResult, UploadStatus
from webapp.multipart import receive_upload
from webapp.uploads import UploadError, check_name

log = logging.getLogger("webapp")


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, type: str = "invalid_request_error", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.headers = status, message, type, headers


def _no_surrogates(value: str | None) -> str | None:
    if value is not None and has_surrogate(value):
        raise ValueError(texts.ERR_SURROGATE)
    return value


Text = Annotated[str, AfterValidator(_no_surrogates)]
OptionalText = Annotated[str | None, AfterValidator(_no_surrogates)]


class ErrorBody(BaseModel):
    message: str
    type: str
    code: int


class ErrorResponse(BaseModel):
    error: ErrorBody


class HistoryMessage(BaseModel):
    role: Text = Field(description="user | assistant (system messages are ignored)")
    content: Text


_BOUNDS = AnsweringSettings()  # the default bounds of a request, as the schema states them


class AskRequest(BaseModel):
    question: Any = Field(
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


class CheckRequest(BaseModel):
    claim: Any = Field(
        description=f"the statement to check, at most {_BOUNDS.max_question_chars:,} characters",
        examples=[texts.API_EXAMPLE_CLAIM],
    )
    id: OptionalText = Field(None, description="echoed back in the response")


class ReindexRequest(BaseModel):
    confirm: bool = Field(
        False, description="must be true: without it nothing changes and the answer (400) says what would change"
    )


class DocumentList(BaseModel):
    documents: list[DocumentInfo]
    total: int


class Suspicious(BaseModel):
    chunks: int
    example: str = Field(description="the first planted phrase found")


class UploadResponse(BaseModel):
    status: UploadStatus = Field(description="added | updated | unchanged")
    stored_as: str = Field(description="the sanitised file name in the corpus folder")
    document: DocumentInfo
    suspicious: list[Suspicious] = Field(
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
            document=result.document,
            suspicious=[Suspicious(chunks=n, example=phrase) for n, phrase in result.suspicious],
            warnings=result.warnings,
        )


class DeleteResponse(BaseModel):
    deleted: DocumentInfo


class ReindexResponse(BaseModel):
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    skipped: list[dict[str, str]]
    suspicious: list[dict[str, Any]]
    chunks_written: int
    seconds: float


class EmbeddingProgress(BaseModel):
    done: int
    total: int
    running: bool


class KeywordIndexProgress(BaseModel):
    done: int
    total: int
    detail: str


class KeywordIndex(BaseModel):
    state: str = Field(description="idle | building | updating | merging | error | missing")
    generation: int | None = Field(description="the kept keyword index's version this worker reads")
    chunks: int
    segments: int
    dead_rows: int
    revision: int | None = Field(description="the collection revision it is current with")
    progress: KeywordIndexProgress
    error: str | None


class Health(BaseModel):
    status: str = Field(description="ok | index_missing | damaged | error")
    ready: bool
    documents: int
    chunks: int
    embedding_model: str | None
    answer_mode: str
    index_dir: str
    corpus_dir: str
    message: str | None
    problems: list[str] = Field(
        description="what the index check found (segments readable, every chunk committed, metadata complete)"
    )
    embedding: EmbeddingProgress = Field(
        description="background embedding of new documents (meaning search follows keyword search)"
    )
    writes: str = Field(
        description="token: writes need ERQI_ADMIN_TOKEN; loopback: no token set, writes only from this machine"
    )
    keyword_index: KeywordIndex | None = Field(
        None, description="the kept keyword index (BM25, term statistics, outline) this worker reads, and its updates"
    )


def error_json(
    status: int, message: str, type: str = "invalid_request_error", headers: dict[str, str] | None = None
) -> JSONResponse:
    safe = message.encode("utf-8", "replace").decode("utf-8")  # never fail on a lone surrogate echoed back
    return JSONResponse({"error": {"message": safe, "type": type, "code": status}}, status_code=status, headers=headers)


Responses = dict[int | str, dict[str, Any]]  # OpenAPI's responses of a route, by status code


def _errors(*codes: int) -> Responses:
    """Routes answer these codes with an ErrorResponse body."""
    return {code: {"model": ErrorResponse} for code in codes}


_ERRORS = _errors(400, 503)
_WRITE_ERRORS = _errors(401, 403, 503)
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": ".txt .md .html .docx .pdf"}
                    },
                }
            }
        },
    }
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_json(exc.status, exc.message, exc.type, exc.headers)

    @app.exception_handler(InvalidRequest)
    async def _invalid(_: Request, exc: InvalidRequest) -> JSONResponse:
        return error_json(400, str(exc))

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        return error_json(503, str(exc), "index_unavailable")

    @app.exception_handler(UploadError)
    async def _upload(_: Request, exc: UploadError) -> JSONResponse:
        return error_json(exc.status, exc.message)

    @app.exception_handler(UnknownDocument)
    async def _unknown(_: Request, exc: UnknownDocument) -> JSONResponse:
        return error_json(404, exc.message, "not_found")

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        own = [
            str(e["ctx"]["error"]) for e in errors if e.get("type") == "value_error" and "error" in (e.get("ctx") or {})
        ]
        if own and len(own) == len(errors):  # our own validators' messages are bilingual already
            return error_json(400, own[0])
        reasons = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errors)
        return error_json(400, texts.ERR_BAD_REQUEST.format(reason=reasons))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_json(exc.status_code, str(exc.detail), "http_error")

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_json(500, texts.ERR_INTERNAL, "internal_error")


def admin(backend: Backend) -> Any:
    """A dependency: the actor allowed to write (recorded as the uploader), or 401/403."""

    def actor(request: Request) -> str:
        peer = request.client.host if request.client else None
        caller = Caller(
            client_address(backend.settings, peer, request.headers.get("x-forwarded-for")), request.headers.get("host")
        )
        try:
            return authorise_api(backend.settings, caller, request.headers.get("authorization"))
        except AccessDenied as exc:
            headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
            raise ApiError(
                exc.status, exc.message, "unauthorized" if exc.status == 401 else "forbidden", headers
            ) from None

    return Depends(actor)


def api_router(backend: Backend) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["api"])
    writer = admin(backend)

    @router.post(
        "/ask", response_model=AssistantResponse, responses=_ERRORS, summary="Answer a question with citations"
    )
    def ask(body: AskRequest) -> AssistantResponse:
        history = [m.model_dump() for m in body.history] if body.history is not None else None
        return backend.ask(body.question, history, id=body.id)

    @router.post(
        "/check",
        response_model=AssistantResponse,
        responses=_ERRORS,
        summary="Fact-check a claim: verdict with evidence",
    )
    def check(body: CheckRequest) -> AssistantResponse:
        """``verdict`` is supported, contradicted or not_found; ``differences`` says what the sources say instead."""
        return backend.check(body.claim, id=body.id)

    @router.get(
        "/documents",
        response_model=DocumentList,
        responses=_errors(503),
        summary="List the indexed documents",
    )
    def documents() -> DocumentList:
        docs = backend.documents()
        return DocumentList(documents=docs, total=len(docs))

    @router.post(
        "/documents", status_code=201, response_model=UploadResponse, openapi_extra=_UPLOAD_BODY,
        summary="Upload a document (multipart field 'file') and index it; needs the admin credential",
        responses=_errors(400, 413, 415, 422) | _WRITE_ERRORS,
    )
    async def upload(request: Request, actor: str = writer) -> UploadResponse:
        """Returns once the text is searchable by keywords; meaning search follows when the background embedding is
        done (see /api/health)."""
        backend.store  # noqa: B018 - 503 before reading the body when the index is unavailable
        received = await receive_upload(
            request, backend.corpus_dir, backend.settings.ingest.max_upload_bytes, check_name
        )
        result = await run_in_threadpool(backend.commit_upload, check_name(received.filename), received.path, actor)
        return UploadResponse.of(result)

    @router.delete(
        "/documents/{doc_id}",
        response_model=DeleteResponse,
        summary="Remove a document from the index and the corpus folder; needs the admin credential",
        responses=_errors(404) | _WRITE_ERRORS,
    )
    def delete(doc_id: str, actor: str = writer) -> DeleteResponse:
        return DeleteResponse(deleted=backend.delete(doc_id))

    @router.post(
        "/reindex",
        response_model=ReindexResponse,
        responses=_errors(400) | _WRITE_ERRORS,
        summary=(
            "Bring the index in line with the corpus folder (documents from "
            "elsewhere are kept); needs the admin credential and {\"confirm\": true}"
        ),
    )
    def reindex(body: ReindexRequest | None = None, actor: str = writer) -> dict:
        if body is None or not body.confirm:
            plan = backend.reindex_plan()
            raise ApiError(400, texts.ERR_REINDEX_CONFIRM.format(
                added=len(plan.added), updated=len(plan.updated), removed=len(plan.removed), folder=backend.corpus_dir))
        report = backend.reindex()
        return {
            "added": report.added, "updated": report.updated, "unchanged": report.unchanged, "removed": report.removed,
            "skipped": [{"file": f.rsplit("/", 1)[-1], "reason": r} for f, r in report.skipped],
            "suspicious": [{"file": f, "chunks": n, "example": phrase} for f, n, phrase in report.suspicious],
            "chunks_written": report.chunks_written, "seconds": round(report.seconds, 3),
        }

    @router.get("/health", response_model=Health, summary="Index size and check, embedding progress, answer mode")
    def health() -> dict:
        return backend.health(verify=True)

    return router
