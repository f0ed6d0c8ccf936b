"""Errors at the HTTP edge: one JSON shape (``{"error": {"message", "type", "code"}}``), and public messages.

A store error's own text names the index folder, the Chroma server's host and port and the library's message:
that goes to the log (and to the admin view of /api/health).  Replies say what happened and what to do, in
Chinese and English, from :func:`public_message`.
"""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.validation import InvalidRequest
from vectorstore.errors import (
    IndexBusyError,
    IndexDamagedError,
    IndexMissingError,
    IndexPreparingError,
    ModelMismatchError,
    StoreError,
    StoreUnavailableError,
)
from webapp import texts
from webapp.types import ErrorResponse
from webapp.uploads import UploadError

log = logging.getLogger("webapp")


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, type: str = "invalid_request_error", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.headers = status, message, type, headers


class UnknownDocument(KeyError):
    def __init__(self, doc_id: str) -> None:
        super().__init__(doc_id)
        self.message = texts.ERR_UNKNOWN_DOCUMENT.format(doc_id=doc_id)


_PUBLIC: tuple[tuple[type[StoreError], str], ...] = (
    (IndexMissingError, texts.ERR_PUBLIC_INDEX_MISSING),
    (IndexDamagedError, texts.ERR_PUBLIC_INDEX_DAMAGED),
    (StoreUnavailableError, texts.ERR_PUBLIC_STORE_UNAVAILABLE),
    (IndexBusyError, texts.ERR_PUBLIC_INDEX_BUSY),
    (ModelMismatchError, texts.ERR_PUBLIC_MODEL_MISMATCH),
)


def public_message(exc: StoreError) -> str:
    """What a store error means to someone who cannot see the server: no paths, hosts, ports or library text."""
    if isinstance(exc, IndexPreparingError):
        return str(exc)  # its detail is a count of documents or chunks
    for kind, message in _PUBLIC:
        if isinstance(exc, kind):
            return message
    return texts.ERR_PUBLIC_STORE_ERROR


def error_json(
    status: int, message: str, type: str = "invalid_request_error", headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(ErrorResponse.of(status, message, type).model_dump(), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_json(exc.status, exc.message, exc.type, exc.headers)

    @app.exception_handler(InvalidRequest)
    async def _invalid(_: Request, exc: InvalidRequest) -> JSONResponse:
        return error_json(400, str(exc))

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        log.warning("503 on %s %s: %s", request.method, request.url.path, exc)
        return error_json(503, public_message(exc), "index_unavailable")

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
