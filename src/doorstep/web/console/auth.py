"""Console sessions: the HttpOnly cookie, CSRF tokens and same-origin checks (docs/console.md)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from doorstep.domain.models import Operator
from doorstep.services import operators
from doorstep.services.context import Ctx
from doorstep.signing import sign, unsign

SESSION_COOKIE = "doorstep_session"
KNOWN_COOKIE = "doorstep_known"
CSRF_HEADER = "x-csrf-token"


def csrf_token(ctx: Ctx, session_token: str) -> str:
    """Bound to the session, so a token read from one session is useless in another."""
    return sign(ctx.settings.secret_key, "csrf", session_token[:16])


def csrf_ok(ctx: Ctx, session_token: str | None, presented: str | None) -> bool:
    if not session_token or not presented:
        return False
    return unsign(ctx.settings.secret_key, "csrf", presented) == session_token[:16]


async def current_operator(ctx: Ctx, conn: HTTPConnection) -> Operator | None:
    return await operators.operator_for_session(ctx, conn.cookies.get(SESSION_COOKIE))


async def current_session(ctx: Ctx, conn: HTTPConnection) -> operators.ConsoleSession | None:
    return await operators.console_session(ctx, conn.cookies.get(SESSION_COOKIE))


def known_browser_token(ctx: Ctx, operator_id: int) -> str:
    """Set after a right password: this browser is the operator's, so the per-email delay of
    domain/throttling.py spares it. It lets nobody in; it only keeps the usual way open."""
    return sign(ctx.settings.secret_key, "known-browser", str(operator_id))


def known_operator_id(ctx: Ctx, conn: HTTPConnection) -> int | None:
    value = unsign(ctx.settings.secret_key, "known-browser", conn.cookies.get(KNOWN_COOKIE, ""))
    return int(value) if value and value.isascii() and value.isdigit() else None


def same_origin(ctx: Ctx, conn: HTTPConnection) -> bool:
    """Browsers send Origin on WebSocket handshakes and cross-site posts; it must be ours."""
    origin = conn.headers.get("origin")
    if origin is None:
        return True  # not a browser, or a same-origin GET; CSRF tokens cover the rest
    allowed = {_origin(ctx.settings.public_url), *ctx.settings.allowed_origins}
    host = conn.headers.get("host")
    if host:
        allowed.update({f"http://{host}", f"https://{host}"})
    return origin.rstrip("/") in allowed


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
