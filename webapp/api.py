"""The JSON API under /api: ask, documents, health.  Errors are ``{"error": {"message", "type", "code"}}``."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, File, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant import texts
from assistant.response import AssistantResponse
from assistant.validation import InvalidRequest
from vectorstore.errors import StoreError
from webapp.backend import Backend, UnknownDocument, document_dict
from webapp.uploads import UploadError, human_size

log = logging.getLogger("webapp")

MULTIPART_OVERHEAD = 64 * 1024  # allowance for the multipart envelope around the file


class ApiError(Exception):
    def __init__(self, status: int, message: str, type: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status, self.message, self.type = status, message, type


class ErrorBody(BaseModel):
    message: str
    type: str
    code: int


class ErrorResponse(BaseModel):
    error: ErrorBody


class HistoryMessage(BaseModel):
    role: str = Field(description="user | assistant (system messages are ignored)")
    content: str


class AskRequest(BaseModel):
    question: Any = Field(description="the question, at most 2,000 characters", examples=["二七区2020年的地区生产总值是多少?"])
    history: list[HistoryMessage] | None = Field(None, description="earlier turns, oldest first, for follow-up questions")
    id: str | None = Field(None, description="echoed back in the response")


class CheckRequest(BaseModel):
    claim: Any = Field(description="the statement to check, at most 2,000 characters", examples=["二七区2020年地区生产总值达到800亿元"])
    id: str | None = Field(None, description="echoed back in the response")


class Document(BaseModel):
    doc_id: str
    source: str
    title: str
    chunks: int
    ingested_at: str


class DocumentList(BaseModel):
    documents: list[Document]
    total: int


class UploadResponse(BaseModel):
    status: str = Field(description="added | updated | unchanged")
    stored_as: str = Field(description="the sanitised file name in the corpus folder")
    document: Document


class DeleteResponse(BaseModel):
    deleted: Document


class ReindexResponse(BaseModel):
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    skipped: list[dict[str, str]]
    chunks_written: int
    seconds: float


class Health(BaseModel):
    status: str = Field(description="ok | index_missing | error")
    ready: bool
    documents: int
    chunks: int
    embedding_model: str | None
    answer_mode: str
    index_dir: str
    corpus_dir: str
    message: str | None


def error_json(status: int, message: str, type: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": type, "code": status}}, status_code=status)


_ERRORS = {400: {"model": ErrorResponse}, 503: {"model": ErrorResponse}}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_json(exc.status, exc.message, exc.type)

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
        reasons = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return error_json(400, texts.ERR_BAD_REQUEST.format(reason=reasons))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_json(exc.status_code, str(exc.detail), "http_error")

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_json(500, texts.ERR_INTERNAL, "internal_error")


def api_router(backend: Backend) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["api"])

    @router.post("/ask", response_model=AssistantResponse, responses=_ERRORS, summary="Answer a question with citations")
    def ask(body: AskRequest) -> AssistantResponse:
        history = [m.model_dump() for m in body.history] if body.history is not None else None
        return backend.ask(body.question, history, id=body.id)

    @router.post("/check", response_model=AssistantResponse, responses=_ERRORS, summary="Fact-check a claim: verdict with evidence")
    def check(body: CheckRequest) -> AssistantResponse:
        """``verdict`` is supported, contradicted or not_found; ``differences`` says what the sources say instead."""
        return backend.check(body.claim, id=body.id)

    @router.get("/documents", response_model=DocumentList, responses={503: {"model": ErrorResponse}}, summary="List the indexed documents")
    def documents() -> dict:
        docs = [document_dict(d) for d in backend.documents()]
        return {"documents": docs, "total": len(docs)}

    @router.post(
        "/documents", status_code=201, response_model=UploadResponse, summary="Upload a document (multipart field 'file') and index it",
        responses={400: {"model": ErrorResponse}, 413: {"model": ErrorResponse}, 415: {"model": ErrorResponse},
                   422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
    )
    async def upload(request: Request, file: UploadFile = File(..., description=".txt .md .html .docx .pdf")) -> dict:
        limit = backend.settings.max_upload_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
            raise UploadError(413, texts.ERR_UPLOAD_TOO_LARGE.format(limit=human_size(limit)))
        result = await run_in_threadpool(backend.upload, file.filename, file.file)
        return {"status": result.status, "stored_as": result.name, "document": document_dict(result.document)}

    @router.delete("/documents/{doc_id}", response_model=DeleteResponse, summary="Remove a document from the index and the corpus folder",
                   responses={404: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
    def delete(doc_id: str) -> dict:
        return {"deleted": document_dict(backend.delete(doc_id))}

    @router.post("/reindex", response_model=ReindexResponse, responses={503: {"model": ErrorResponse}},
                 summary="Bring the index in line with the corpus folder")
    def reindex() -> dict:
        report = backend.reindex()
        return {
            "added": report.added, "updated": report.updated, "unchanged": report.unchanged, "removed": report.removed,
            "skipped": [{"file": f.rsplit("/", 1)[-1], "reason": r} for f, r in report.skipped],
            "chunks_written": report.chunks_written, "seconds": round(report.seconds, 3),
        }

    @router.get("/health", response_model=Health, summary="Index size, embedding model, answer mode")
    def health() -> dict:
        return backend.health()

    return router
