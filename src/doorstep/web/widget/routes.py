"""Widget endpoints: the script itself and the session start (docs/widget.md).

These answer pages on any origin, so they send CORS headers; they carry no cookies, the
visitor's token travels in the body, so a wildcard origin is safe. A site that lists its
origins has sessions from other pages refused here (403 `origin_not_allowed`), and new
visitors are counted per client address (429 `rate_limited`, docs/security.md).
"""

from __future__ import annotations

from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from doorstep.domain.plain_text import NUL_MESSAGE, has_nul
from doorstep.errors import DomainError, InvalidInput
from doorstep.services import abuse, sites, visitors
from doorstep.services.context import Ctx
from doorstep.web.client_ip import client_ip

WIDGET_JS = Path(__file__).with_name("static") / "widget.js"
MAX_BODY = 8 * 1024
CORS = {
    "access-control-allow-origin": "*",
    "access-control-allow-methods": "POST, OPTIONS",
    "access-control-allow-headers": "content-type",
    "access-control-max-age": "86400",
    # So that the widget can read how long a 429 asks it to wait.
    "access-control-expose-headers": "retry-after",
}


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(data),
        status_code=status,
        media_type="application/json",
        headers={**CORS, **(headers or {})},
    )


def _error(exc: DomainError) -> Response:
    error: dict[str, object] = {"code": exc.code, "message": exc.message}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is None:
        return _json({"error": error}, exc.status)
    error["retry_after"] = retry_after
    return _json({"error": error}, exc.status, {"retry-after": str(retry_after)})


async def widget_script(_request: Request) -> Response:
    return FileResponse(
        WIDGET_JS, media_type="text/javascript", headers={"cache-control": "public, max-age=300"}
    )


async def session_preflight(_request: Request) -> Response:
    return Response(status_code=204, headers=CORS)


async def start_session(request: Request) -> Response:
    ctx: Ctx = request.state.ctx
    try:
        body = await _small_json_body(request)
        site = await sites.find_site_by_key(ctx, _string(body.get("site"), "site", 64) or "")
        sites.check_widget_origin(site, request.headers.get("origin"))
        visitor, token = await visitors.start_visitor_session(
            ctx,
            site,
            token=_string(body.get("token"), "token", 512),
            locale=_string(body.get("locale"), "locale", 35),
            address=abuse.address_of(client_ip(request, ctx.settings.trusted_proxies)),
        )
    except DomainError as exc:
        return _error(exc)
    return _json(
        {
            "token": token,
            "visitor_id": visitor.id,
            "site": {
                "name": site.name,
                "color": site.color,
                "locale": site.locale,
                "strings": site.widget_strings,
            },
            "ws_url": "/widget/v1/ws",
        }
    )


async def _small_json_body(request: Request) -> dict[str, object]:
    declared = request.headers.get("content-length")
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise InvalidInput("request body too large", code="body_too_large")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise InvalidInput("request body too large", code="body_too_large")
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidInput("the body is not valid JSON", code="invalid_json") from None
    if not isinstance(body, dict):
        raise InvalidInput("the body is a JSON object", code="invalid_json")
    if b"\\u0000" in raw and has_nul(body):
        raise InvalidInput(NUL_MESSAGE, code="invalid_text")
    return body


def _string(value: object, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidInput(f"{name} is a string of at most {limit} characters")
    return value
