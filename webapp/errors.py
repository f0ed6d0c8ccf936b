"""Errors at the HTTP edge: one JSON shape (``{"error": {"message", "type", "code"}}``)."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.validation import InvalidRequest
from vectorstore.errors import StoreError
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
