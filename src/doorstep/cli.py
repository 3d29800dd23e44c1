"""The `doorstep` command (docs/cli.md)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import uvicorn

from doorstep import __version__
from doorstep.app import build_app
from doorstep.config import Settings, load_settings
from doorstep.demo.seed import DEMO_EMAIL, DEMO_SITE_KEY, seed_demo
from doorstep.errors import DomainError, InvalidInput
from doorstep.private_files import write_private_text
from doorstep.services import operators, sites
from doorstep.services.context import Ctx, build_ctx
from doorstep.store.migrate import upgrade

WS_MAX_BYTES = 1024 * 1024  # frames above this close the socket; the app answers those > 64 KiB
# The first line of the install snippet (docs/widget.md, "Install"): `Doorstep(...)` works
# before the widget has loaded.
QUEUE_STUB = (
    "<script>window.Doorstep=window.Doorstep||function(){"
    "(Doorstep.q=Doorstep.q||[]).push(arguments)};</script>"
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        settings = load_settings(host=getattr(args, "host", None), port=getattr(args, "port", None))
        return args.run(settings, args)
    except DomainError as exc:
        print(f"doorstep: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="doorstep",
        description="Self-hosted customer messaging for websites. "
        "Settings come from DOORSTEP_* environment variables (docs/configuration.md).",
    )
    parser.add_argument("--version", action="version", version=f"doorstep {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str, run: Callable[..., int]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        return sub

    for name, help_text, run in (
        ("serve", "Run the server (migrates the database first).", _serve),
        (
            "demo",
            "Seed the Demo Shop and an admin operator, print where to go, run the server.",
            _demo,
        ),
    ):
        sub = command(name, help_text, run)
        sub.add_argument("--host", help="address to listen on (default DOORSTEP_HOST or 127.0.0.1)")
        sub.add_argument("--port", type=int, help="port (default DOORSTEP_PORT or 8000)")
    command("migrate", "Bring the database schema up to date and exit.", _migrate)
    sub = command(
        "create-operator", "Create an operator who can sign in to the console.", _create_operator
    )
    sub.add_argument("--email", required=True)
    sub.add_argument("--name", required=True)
    sub.add_argument("--role", choices=("admin", "agent"), default="agent")
    sub.add_argument(
        "--site",
        action="append",
        default=[],
        metavar="SITE_KEY",
        help="a site the operator answers for (repeatable)",
    )
    sub.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )
    sub = command("create-site", "Create a site and print its widget snippet.", _create_site)
    sub.add_argument("--name", required=True)
    sub.add_argument("--key", help="public site key (default: random)")
    sub.add_argument("--timezone", default="UTC", help="IANA time zone, e.g. Europe/Berlin")
    sub.add_argument("--locale", help="widget language, e.g. en, ja, ru (default: the browser's)")
    sub.add_argument(
        "--member",
        action="append",
        default=[],
        metavar="EMAIL",
        help="an operator who answers for the site (repeatable)",
    )
    sub = command(
        "show-site",
        "Print a site's identity-verification secret and its widget snippet.",
        _show_site,
    )
    sub.add_argument("key", metavar="SITE_KEY", help="the site's public key")
    sub.add_argument(
        "--url",
        help="Doorstep's address as browsers reach it, e.g. https://chat.example.com "
        "(default DOORSTEP_PUBLIC_URL)",
    )
    sub = command("create-token", "Create a REST API token acting as an operator.", _create_token)
    sub.add_argument("--email", required=True, help="the operator the token acts as")
    sub.add_argument("--name", default="API token", help="a label for the token")
    return parser


def _run(settings: Settings, work: Callable[[Ctx], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        ctx = build_ctx(settings)
        try:
            await upgrade(ctx.db)
            return await work(ctx)
        finally:
            await ctx.db.dispose()

    return asyncio.run(go())


def _serve_app(settings: Settings, demo_site_key: str | None = None) -> int:
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = build_app(settings, demo_site_key=demo_site_key)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_max_size=WS_MAX_BYTES,
        log_level=settings.log_level,
        proxy_headers=False,
        lifespan="on",
    )
    return 0


def _serve(settings: Settings, _args: argparse.Namespace) -> int:
    return _serve_app(settings)


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    async def work(_ctx: Ctx) -> int:
        print("Database is up to date.")
        return 0

    return _run(settings, work)


def _demo(settings: Settings, _args: argparse.Namespace) -> int:
    password_file = settings.data_dir / "demo_password"
    known = password_file.read_text().strip() if password_file.exists() else None

    async def seed(ctx: Ctx) -> str:
        return await seed_demo(ctx, known)

    password = _run(settings, seed)
    if password != known:
        write_private_text(password_file, password)
    print(f"Console: {settings.public_url}/console/")
    print(f"Demo site: {settings.public_url}/demo/")
    print(f"Email: {DEMO_EMAIL}")
    print(f"Password: {password}", flush=True)
    return _serve_app(settings, demo_site_key=DEMO_SITE_KEY)


def _create_operator(settings: Settings, args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = os.environ.get("DOORSTEP_OPERATOR_PASSWORD") or getpass.getpass("Password: ")

    async def work(ctx: Ctx) -> int:
        site_ids = tuple([(await sites.find_site_by_key(ctx, key)).id for key in args.site])
        operator = await operators.create_operator(
            ctx,
            email=args.email,
            name=args.name,
            password=password,
            role=args.role,
            site_ids=site_ids,
        )
        print(f"Created operator {operator.email} (id {operator.id}, {operator.role}).")
        return 0

    return _run(settings, work)


def _create_site(settings: Settings, args: argparse.Namespace) -> int:
    async def work(ctx: Ctx) -> int:
        members = []
        for email in args.member:
            operator = await operators.operator_by_email(ctx, email)
            if operator is None:
                raise DomainError(f"no operator with email {email}")
            members.append(operator.id)
        site = await sites.create_site(
            ctx,
            name=args.name,
            key=args.key,
            timezone=args.timezone,
            locale=args.locale,
            members=tuple(members),
        )
        print(f"Created site {site.name!r} with key {site.key}.")
        _print_snippet(site.key, _public_url(settings), settings.public_url)
        print(
            "The site's identity-verification secret, and this snippet, at any time: "
            f"doorstep show-site {site.key}, or (admins) the console's Identity verification "
            "panel."
        )
        return 0

    return _run(settings, work)


def _show_site(settings: Settings, args: argparse.Namespace) -> int:
    public_url = _public_url(settings, args.url)

    async def work(ctx: Ctx) -> int:
        shown = await sites.show_site(ctx, args.key)
        print(f"Site: {shown['name']}")
        print(f"Key: {shown['key']}")
        print(f"Identity-verification secret: {shown['secret']}")
        print("Your server signs each user_hash with it: keep it there, never in a page.")
        until = shown["previous_valid_until"]
        if until is not None:
            print(f"The previous secret still verifies until {until:%Y-%m-%d %H:%M} UTC.")
        _print_snippet(shown["key"], public_url, settings.public_url)
        return 0

    return _run(settings, work)


def _public_url(settings: Settings, given: str | None = None) -> str | None:
    """Doorstep's address as browsers reach it: --url, else DOORSTEP_PUBLIC_URL; None when
    neither is set (Settings then holds a local default that other machines cannot reach)."""
    if given:
        if not given.startswith(("http://", "https://")):
            raise InvalidInput(f"--url must start with http:// or https://, got {given!r}")
        return given.rstrip("/")
    return settings.public_url if os.environ.get("DOORSTEP_PUBLIC_URL") else None


def _print_snippet(site_key: str, public_url: str | None, local_url: str) -> None:
    """The install snippet of docs/widget.md: the queue stub, then the script tag."""
    if public_url is None:
        print(
            "Neither DOORSTEP_PUBLIC_URL nor --url is set: the tag below uses the local "
            f"default {local_url}. For the address visitors' browsers reach, set "
            f"DOORSTEP_PUBLIC_URL or run doorstep show-site {site_key} --url URL."
        )
    print("Put these two lines before </body> on every page:")
    print(QUEUE_STUB)
    url = public_url or local_url
    print(f'<script src="{url}/widget.js" data-site="{site_key}" async></script>')


def _create_token(settings: Settings, args: argparse.Namespace) -> int:
    async def work(ctx: Ctx) -> int:
        operator = await operators.operator_by_email(ctx, args.email)
        if operator is None:
            raise DomainError(f"no operator with email {args.email}")
        print(await operators.create_api_token(ctx, operator, name=args.name))
        return 0

    return _run(settings, work)


if __name__ == "__main__":
    raise SystemExit(main())
