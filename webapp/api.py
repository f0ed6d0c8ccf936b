"""The JSON API under /api: ask, check, documents, health, and the page's admin session.  Errors are
``{"error": {"message", "type", "code"}}`` (:mod:`webapp.errors`).

Thin routes: the request models (:mod:`webapp.types`) validate the body, the services (:mod:`webapp.services`) do
the work, and the reply is one of the response models.  Reading is open; uploading, deleting and re-indexing need
the admin credential (:mod:`webapp.access`); re-indexing also needs ``{"confirm": true}``.  Callers who may write
get the admin views (who added a document, where the index is, the full error).
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
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
from webapp.errors import ApiError
from webapp.multipart import receive_upload
from webapp.services import Services
from webapp.types import (
    AdminHealth,
    AskRequest,
    CheckRequest,
    DeleteResponse,
    DocumentEntry,
    DocumentList,
    ErrorResponse,
    Health,
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
