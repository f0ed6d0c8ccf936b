"""The JSON API under /api: ask, check, documents (and a document's view), indicators, feedback, health, and the
page's admin session; the document view's page at /view.  Errors are ``{"error": {"message", "type", "code"}}``
(:mod:`webapp.errors`).

Thin routes: the request models (:mod:`webapp.types`) validate the body, the services (:mod:`webapp.services`) do
the work, and the reply is one of the response models.  Reading is open; uploading, deleting and re-indexing need
the admin credential (:mod:`webapp.access`); re-indexing also needs ``{"confirm": true}``.  Callers who may write
get the admin views (who added a document, where the index is, the full error); they alone read the feedback.
Rating an answer is open, and rate-limited as every other state-changing request (:mod:`webapp.guard`).
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from assistant.response import AssistantResponse
from webapp import texts
from webapp.access import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    AccessDenied,
    Caller,
    authorise_api,
    client_address,
    is_admin,
    issue_ticket,
)
from webapp.document_view import InvalidPassage
from webapp.errors import ApiError
from webapp.feedback import FeedbackUnavailable, UnknownAnswer, eval_lines
from webapp.indicators import IndicatorQuery, IndicatorSort
from webapp.multipart import receive_upload
from webapp.services import Services
from webapp.types import (
    AdminHealth,
    AskRequest,
    CheckRequest,
    DeleteResponse,
    DocumentEntry,
    DocumentList,
    DocumentView,
    ErrorResponse,
    FeedbackEntry,
    FeedbackList,
    FeedbackReceipt,
    FeedbackRequest,
    Health,
    IndicatorList,
    ReindexRequest,
    ReindexResponse,
    SessionResponse,
    SkippedFile,
    SuspiciousFile,
    UploadResponse,
)
from webapp.uploads import check_name

Responses = dict[int | str, dict[str, Any]]  # OpenAPI's responses of a route, by status code


def _errors(*codes: int) -> Responses:
    """Routes answer these codes with an ErrorResponse body."""
    return {code: {"model": ErrorResponse} for code in codes}


_ERRORS = _errors(400, 503)
_CSV_REPLY: Responses = {200: {"content": {"text/csv": {}}}}
_NDJSON_REPLY: Responses = {200: {"content": {"application/x-ndjson": {}}}}
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


def caller_of(services: Services, request: Request) -> Caller:
    peer = request.client.host if request.client else None
    return Caller(
        client_address(services.settings, peer, request.headers.get("x-forwarded-for")), request.headers.get("host")
    )


def authorise(services: Services, request: Request) -> str:
    """The actor allowed to write (recorded as the uploader); ApiError 401/403 otherwise."""
    try:
        return authorise_api(services.settings, caller_of(services, request), request.headers.get("authorization"))
    except AccessDenied as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        raise ApiError(exc.status, exc.message, "unauthorized" if exc.status == 401 else "forbidden", headers) from None


def admin(services: Services) -> Any:
    """A dependency: the actor allowed to write (recorded as the uploader), or 401/403."""

    def actor(request: Request) -> str:
        return authorise(services, request)

    return Depends(actor)


def flagged_wanted(services: Services, request: Request, wanted: bool) -> bool:
    """``include_flagged``: honoured for the admin only (401/403 for anyone else who asks)."""
    if wanted:
        authorise(services, request)
    return wanted


def viewer(services: Services) -> Any:
    """A dependency: whether the caller gets the admin views (it may write)."""

    def may_write(request: Request) -> bool:
        return is_admin(services.settings, caller_of(services, request), request.headers.get("authorization"))

    return Depends(may_write)


def indicator_query(
    q: Annotated[str, Query(max_length=200, description="words the subject, the clause or the section all hold")] = "",
    doc_id: Annotated[str | None, Query(description="one document's")] = None,
    orientation: Annotated[Literal["actual", "target"] | None, Query(description="actual or target only")] = None,
    section: Annotated[str | None, Query(max_length=400, description="a section path, or its beginning")] = None,
    sort: Annotated[IndicatorSort, Query(description="document | subject | value | period | orientation")] = "document",
) -> IndicatorQuery:
    return IndicatorQuery(q=q, doc_id=doc_id, orientation=orientation, section=section, sort=sort)


def _feedback_entries(services: Services) -> list[FeedbackEntry]:
    try:
        return services.feedback.entries()
    except FeedbackUnavailable:
        raise ApiError(503, texts.ERR_FEEDBACK_UNAVAILABLE, "feedback_unavailable") from None


def view_router(services: Services) -> APIRouter:
    """/view/{doc_id}?start=…&end=…: the document view's page (HTML), the stable link of a passage."""
    router = APIRouter(include_in_schema=False)

    @router.get("/view/{doc_id}", response_class=HTMLResponse)
    def view(doc_id: str, start: int | None = None, end: int | None = None) -> HTMLResponse:
        status, page = services.views.page(doc_id, start, end)
        return HTMLResponse(page, status_code=status)

    return router


def features_router(services: Services) -> APIRouter:
    """/api: a document's view, the indicators (JSON, CSV), the feedback (rate: open; read, export: admin)."""
    router = APIRouter(prefix="/api", tags=["api"])
    writer = admin(services)

    @router.get(
        "/documents/{doc_id}/view",
        response_model=DocumentView,
        responses=_errors(400, 404, 503),
        summary="A document as indexed, section by section, with the passage start..end (a citation's offsets)",
    )
    def document_view(doc_id: str, start: int | None = None, end: int | None = None) -> DocumentView:
        try:
            return services.views.view(doc_id, start, end)
        except InvalidPassage as exc:
            raise ApiError(400, exc.message) from None

    @router.get(
        "/indicators",
        response_model=IndicatorList,
        responses=_errors(400, 503),
        summary="Every quantitative statement of the indexed documents (subject, value, unit, period, actual/target, "
        "the verbatim clause with doc_id/start/end), filtered and sorted, with achievement/target pairs",
    )
    def indicators(query: Annotated[IndicatorQuery, Depends(indicator_query)]) -> IndicatorList:
        return services.indicators.listing(query)

    @router.get(
        "/indicators.csv",
        response_class=Response,
        responses=_CSV_REPLY | _errors(400, 503),
        summary="The same indicators as CSV (UTF-8 with BOM)",
    )
    def indicators_csv(query: Annotated[IndicatorQuery, Depends(indicator_query)]) -> Response:
        return Response(services.indicators.csv(query), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="indicators.csv"'})

    @router.post(
        "/feedback",
        status_code=201,
        response_model=FeedbackReceipt,
        responses=_errors(400, 404, 429, 503),
        summary="Rate an answer: {answer_id, helpful, comment?}; stored append-only, never changes an answer",
    )
    def feedback(body: FeedbackRequest) -> FeedbackReceipt:
        limit = services.settings.web.feedback_max_comment_chars
        if body.comment is not None and len(body.comment) > limit:
            raise ApiError(400, texts.ERR_FEEDBACK_COMMENT_TOO_LONG.format(limit=limit, n=len(body.comment)))
        try:
            return services.feedback.add(body.answer_id, body.helpful, body.comment)
        except UnknownAnswer:
            message = texts.ERR_FEEDBACK_UNKNOWN_ANSWER.format(answer_id=body.answer_id)
            raise ApiError(404, message, "not_found") from None
        except FeedbackUnavailable:
            raise ApiError(503, texts.ERR_FEEDBACK_UNAVAILABLE, "feedback_unavailable") from None

    @router.get(
        "/feedback",
        response_model=FeedbackList,
        responses=_WRITE_ERRORS,
        summary="Every rating with the answer it rates, the newest first; needs the admin credential",
    )
    def list_feedback(actor: str = writer) -> FeedbackList:
        entries = _feedback_entries(services)
        return FeedbackList(feedback=entries, total=len(entries))

    @router.get(
        "/feedback/export",
        response_class=Response,
        responses=_NDJSON_REPLY | _WRITE_ERRORS,
        summary="The ratings as an evaluation set (JSON Lines; `python -m assistant eval FILE`); needs the admin "
        "credential",
    )
    def export_feedback(actor: str = writer) -> Response:
        return Response(eval_lines(_feedback_entries(services)), media_type="application/x-ndjson; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="feedback-eval.jsonl"'})

    return router


def api_router(services: Services) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["api"])
    answers, documents, health = services.answers, services.documents, services.health
    writer, admin_view = admin(services), viewer(services)

    @router.post(
        "/ask", response_model=AssistantResponse, responses=_ERRORS, summary="Answer a question with citations"
    )
    def ask(body: AskRequest, request: Request) -> AssistantResponse:
        flagged = flagged_wanted(services, request, body.include_flagged)
        return answers.ask(answers.query(body.question, body.turns(), body.id, flagged=flagged))

    @router.post(
        "/check",
        response_model=AssistantResponse,
        responses=_ERRORS,
        summary="Fact-check a claim: verdict with evidence",
    )
    def check(body: CheckRequest, request: Request) -> AssistantResponse:
        """``verdict`` is supported, contradicted, conflicting (one source supports the claim, another denies it) or
        not_found; ``conflict`` is true whenever the sources disagree (official ones cited first); ``differences``
        says what each source says instead."""
        flagged = flagged_wanted(services, request, body.include_flagged)
        return answers.check(answers.query(body.claim, None, body.id, claim=True, flagged=flagged))

    @router.get(
        "/documents",
        response_model=DocumentList,
        responses=_errors(503),
        summary="List the indexed documents (who added each: only to callers who may write)",
    )
    def list_documents(admin: bool = admin_view) -> DocumentList:
        entries = [DocumentEntry.of(d, admin) for d in documents.all_documents()]
        return DocumentList(documents=entries, total=len(entries))

    @router.post(
        "/documents", status_code=201, response_model=UploadResponse, openapi_extra=_UPLOAD_BODY,
        summary="Upload a document (multipart field 'file') and index it; needs the admin credential",
        responses=_errors(400, 413, 415, 422) | _WRITE_ERRORS,
    )
    async def upload(request: Request, actor: str = writer) -> UploadResponse:
        """Returns once the text is searchable by keywords; meaning search follows when the background embedding is
        done (see /api/health)."""
        services.index.store  # noqa: B018 - 503 before reading the body when the index is unavailable
        received = await receive_upload(
            request, documents.corpus_dir, services.settings.ingest.max_upload_bytes, check_name
        )
        result = await run_in_threadpool(documents.commit_upload, check_name(received.filename), received.path, actor)
        return UploadResponse.of(result)

    @router.delete(
        "/documents/{doc_id}",
        response_model=DeleteResponse,
        summary="Remove a document from the index and the corpus folder; needs the admin credential",
        responses=_errors(404) | _WRITE_ERRORS,
    )
    def delete(doc_id: str, actor: str = writer) -> DeleteResponse:
        return DeleteResponse(deleted=DocumentEntry.of(documents.delete(doc_id), admin=True))

    @router.post(
        "/reindex",
        response_model=ReindexResponse,
        responses=_errors(400) | _WRITE_ERRORS,
        summary=(
            "Bring the index in line with the corpus folder (documents from "
            "elsewhere are kept); needs the admin credential and {\"confirm\": true}"
        ),
    )
    def reindex(body: ReindexRequest | None = None, actor: str = writer) -> ReindexResponse:
        if body is None or body.confirm is not True:
            plan = documents.reindex_plan()
            raise ApiError(400, texts.ERR_REINDEX_CONFIRM.format(
                added=len(plan.added), updated=len(plan.updated), removed=len(plan.removed),
                folder=documents.corpus_dir))
        report = documents.reindex()
        return ReindexResponse(
            added=report.added, updated=report.updated, unchanged=report.unchanged, removed=report.removed,
            skipped=[SkippedFile(file=f.rsplit("/", 1)[-1], reason=r) for f, r in report.skipped],
            suspicious=[SuspiciousFile(file=f, chunks=n, example=phrase) for f, n, phrase in report.suspicious],
            chunks_written=report.chunks_written, seconds=round(report.seconds, 3),
        )

    @router.get(
        "/health",
        response_model=AdminHealth | Health,
        summary="Index size and check, embedding progress, answer mode (folders and full errors: admin view only)",
    )
    def get_health(admin: bool = admin_view) -> AdminHealth | Health:
        return health.report(admin=admin, verify=True)

    @router.post(
        "/session",
        response_model=SessionResponse,
        responses=_WRITE_ERRORS,
        summary="The page's admin login: sets the session cookie its upload widget needs (Authorization: Bearer)",
    )
    def session(request: Request, response: Response, actor: str = writer) -> SessionResponse:
        if services.settings.web.admin_token:
            secure = request.url.scheme == "https" or (
                services.settings.web.trust_forwarded_for and request.headers.get("x-forwarded-proto") == "https"
            )
            response.set_cookie(
                SESSION_COOKIE, issue_ticket(services.settings), max_age=SESSION_SECONDS, path="/",
                httponly=True, samesite="strict", secure=secure,
            )
        return SessionResponse(expires_in=SESSION_SECONDS)

    return router
