"""Typed FastAPI dependencies shared by the REST routers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

from annotated_types import Interval
from fastapi import Depends, Request
from pydantic import AfterValidator, AwareDatetime

from doorstep.domain.models import EARLIEST_MOMENT, LATEST_MOMENT, MAX_ID, MAX_SEQ, Operator
from doorstep.domain.plain_text import NUL_MESSAGE, has_nul
from doorstep.errors import Forbidden, InvalidInput, Unauthorized
from doorstep.services import operators
from doorstep.services.context import Ctx
from doorstep.web.console.auth import CSRF_HEADER, SESSION_COOKIE, csrf_ok, current_operator

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

# Every id a request names, in the path, the query or the body: a number outside the range is
# refused with 422 before any query sees it, and the OpenAPI document states the range.
# (`Interval` rather than `Path`/`Query`/`Field`, so the one alias works in each place.)
Id = Annotated[int, Interval(ge=1, le=MAX_ID)]
Seq = Annotated[int, Interval(ge=0, le=MAX_SEQ)]


def _on_the_calendar(moment: datetime) -> datetime:
    """A moment whose conversions (to UTC, a year of schedules ahead) stay representable;
    one without an offset is compared as if in UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if not EARLIEST_MOMENT <= aware <= LATEST_MOMENT:
        raise ValueError(
            f"a time from {EARLIEST_MOMENT.year} to {LATEST_MOMENT.year - 1}, e.g. "
            "2026-01-05T10:00:00Z"
        )
    return moment


# A moment with its offset (`…Z`, `…+09:00`), such as a page cursor.
Moment = Annotated[AwareDatetime, AfterValidator(_on_the_calendar)]
# A moment that may leave its offset out, to be read in a site's time zone.
LocalMoment = Annotated[datetime, AfterValidator(_on_the_calendar)]


async def plain_text(request: Request) -> None:
    """No U+0000 in the query or the JSON body (domain/plain_text.py); a dependency of the
    whole API. FastAPI has read and parsed the body already: `body()` is its cached copy,
    parsed again only in the rare case that it holds the escape at all."""
    if any(has_nul(pair) for pair in request.query_params.multi_items()):
        raise InvalidInput(f"query: {NUL_MESSAGE}", code="invalid_text")
    body = await request.body()
    if b"\\u0000" in body:
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):  # the operation refuses it or does not read it
            return
        if has_nul(parsed):
            raise InvalidInput(f"body: {NUL_MESSAGE}", code="invalid_text")


def get_ctx(request: Request) -> Ctx:
    return request.state.ctx


CtxDep = Annotated[Ctx, Depends(get_ctx)]


async def get_operator(request: Request, ctx: CtxDep) -> Operator:
    """A bearer token, or the console's session cookie plus its CSRF header for writes."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        operator = await operators.operator_for_api_token(ctx, token.strip())
        if scheme.lower() != "bearer" or operator is None:
            raise Unauthorized("invalid bearer token", code="invalid_token")
        return operator
    operator = await current_operator(ctx, request)
    if operator is None:
        raise Unauthorized("send 'Authorization: Bearer <token>'", code="unauthorized")
    if request.method not in SAFE_METHODS and not csrf_ok(
        ctx, request.cookies.get(SESSION_COOKIE), request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden("missing or wrong CSRF token", code="csrf_failed")
    return operator


CurrentOperator = Annotated[Operator, Depends(get_operator)]
