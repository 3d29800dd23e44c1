"""Typed FastAPI dependencies shared by the REST routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from doorstep.domain.models import Operator
from doorstep.errors import Forbidden, Unauthorized
from doorstep.services import operators
from doorstep.services.context import Ctx
from doorstep.web.console.auth import CSRF_HEADER, SESSION_COOKIE, csrf_ok, current_operator

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


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
