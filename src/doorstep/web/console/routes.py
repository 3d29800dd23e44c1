"""Console pages: sign-in, sign-out and the app shell (docs/console.md).

The pages are server-rendered; the inbox is driven by small ES modules in static/ that talk
to the REST API (session cookie + CSRF header) and to the operator socket.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from doorstep import __version__
from doorstep.errors import TooManyAttempts, Unauthorized
from doorstep.services import operators, sites
from doorstep.services.context import Ctx
from doorstep.web.client_ip import client_ip
from doorstep.web.console.auth import (
    KNOWN_COOKIE,
    SESSION_COOKIE,
    csrf_ok,
    csrf_token,
    current_operator,
    known_browser_token,
    known_operator_id,
    same_origin,
)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
MAX_FORM_FIELD = 1024
KNOWN_BROWSER_DAYS = 365


async def login_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "login.html", {"error": None, "email": ""})


async def login(request: Request) -> Response:
    ctx: Ctx = request.state.ctx
    if not same_origin(ctx, request):
        return Response("Cross-origin sign-in refused", status_code=403)
    form = await request.form(max_files=0, max_fields=10, max_part_size=MAX_FORM_FIELD)
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    try:
        operator, token = await operators.sign_in(
            ctx,
            email=email,
            password=password,
            address=client_ip(request, ctx.settings.trusted_proxies),
            known_operator_id=known_operator_id(ctx, request),
        )
    except (Unauthorized, TooManyAttempts) as exc:
        response = templates.TemplateResponse(
            request,
            "login.html",
            {"error": exc.message, "email": email[:254]},
            status_code=exc.status,
        )
        if isinstance(exc, TooManyAttempts):
            response.headers["retry-after"] = str(exc.retry_after)
        return response
    response = RedirectResponse(_next(request), status_code=303)
    response.set_cookie(
        KNOWN_COOKIE,
        known_browser_token(ctx, operator.id),
        max_age=KNOWN_BROWSER_DAYS * 86400,
        httponly=True,
        secure=ctx.settings.cookies_secure,
        samesite="strict",
        path="/console/login",
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(operators.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=ctx.settings.cookies_secure,
        samesite="lax",
        path="/",
    )
    return response


def _next(request: Request) -> str:
    target = request.query_params.get("next", "/console/")
    # Only paths on this server: an open redirect would make sign-in a phishing tool.
    return target if target.startswith("/console/") and "//" not in target else "/console/"


async def logout(request: Request) -> Response:
    ctx: Ctx = request.state.ctx
    token = request.cookies.get(SESSION_COOKIE)
    form = await request.form(max_files=0, max_fields=5, max_part_size=MAX_FORM_FIELD)
    if token and csrf_ok(ctx, token, str(form.get("csrf_token", ""))):
        await operators.sign_out(ctx, token)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def app_shell(request: Request) -> Response:
    ctx: Ctx = request.state.ctx
    operator = await current_operator(ctx, request)
    if operator is None:
        return RedirectResponse(f"/console/login?next={request.url.path}", status_code=303)
    token = request.cookies[SESSION_COOKIE]
    site_list = await sites.list_sites(ctx, operator)
    boot = {
        "operator": {**operator.public(), "email": operator.email, "role": operator.role},
        "sites": [site.public() for site in site_list],
        "csrf_token": csrf_token(ctx, token),
        "conversation_id": request.path_params.get("conversation_id"),
        "version": __version__,
    }
    return templates.TemplateResponse(
        request, "app.html", {"boot": boot, "operator": operator, "csrf_token": boot["csrf_token"]}
    )


def console_routes() -> list[Route | Mount]:
    return [
        Route("/console/login", login_page, methods=["GET"]),
        Route("/console/login", login, methods=["POST"]),
        Route("/console/logout", logout, methods=["POST"]),
        Route("/console/", app_shell, methods=["GET"]),
        Route("/console/conversations/{conversation_id:int}", app_shell, methods=["GET"]),
        Route("/console/live", app_shell, methods=["GET"]),
        Route("/console/contacts", app_shell, methods=["GET"]),
        Route("/console/contacts/{contact_id:int}", app_shell, methods=["GET"]),
        Route("/console/autoreplies", app_shell, methods=["GET"]),
        Route("/console/leads", app_shell, methods=["GET"]),
        Mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static"),
    ]
