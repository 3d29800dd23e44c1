"""Liveness and readiness probes for load balancers and orchestrators (docs/operations.md)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    ctx = request.state.ctx
    checks = {"database": await ctx.db.ping(), "bus": await ctx.bus.ping()}
    ready = all(checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
