"""One mapping from domain errors to HTTP answers: `{"error": {"code", "message"}}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from doorstep.errors import DomainError

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str = Field(description="stable and machine-readable, e.g. conversation_not_found")
    message: str = Field(description="for people; its wording may change")


class ErrorBody(BaseModel):
    error: ErrorDetail


def _documented(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# The refusals any operation may answer, in the OpenAPI document of every operation (422 in
# place of FastAPI's own validation-error shape, which this API never sends). A 500 is not
# listed: it is a bug, whatever the request was.
RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _documented("a request the domain refuses without a more specific status"),
    401: _documented("missing or invalid credentials"),
    403: _documented("not allowed: `admin_only`, `csrf_failed`"),
    404: _documented("no such row, or one of a site the caller is not a member of"),
    409: _documented("a conflict with the stored state, e.g. `segment_in_use`"),
    422: _documented(
        "invalid input: a value of the wrong type or out of range (ids are 1 to 2^63-1), "
        "a missing field, or a value the domain refuses (`invalid_template`, …)"
    ),
}


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return error_response(exc.status, exc.code, exc.message)


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(part) for part in first["loc"] if part != "body") or "request"
    return error_response(422, "invalid_input", f"{where}: {first['msg']}")


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    return error_response(
        exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail)
    )


async def unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal", "something went wrong")


HANDLERS = {
    DomainError: domain_error,
    RequestValidationError: validation_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
