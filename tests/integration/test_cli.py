"""The doorstep command: creating sites, operators and tokens, and its error messages."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from doorstep import cli
from doorstep.config import load_settings
from doorstep.services import operators, sites
from doorstep.services.context import Ctx, build_ctx


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Path:
    for name in ("DOORSTEP_PUBLIC_URL", "DOORSTEP_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", database_url)
    return tmp_path


def test_create_operator_site_and_token(data_dir: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("long enough password\n"))
    assert (
        cli.main(
            [
                "create-operator",
                "--email",
                "ann@example.com",
                "--name",
                "Ann",
                "--role",
                "admin",
                "--password-stdin",
            ]
        )
        == 0
    )
    assert (
        cli.main(
            ["create-site", "--name", "Shop", "--key", "shop-1", "--member", "ann@example.com"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert 'data-site="shop-1"' in out and "http://127.0.0.1:8000/widget.js" in out
    assert cli.QUEUE_STUB in out
    assert "doorstep show-site shop-1" in out and "Identity verification panel" in out
    assert cli.main(["create-token", "--email", "ann@example.com"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("ds_") and len(token) > 30


def test_refusals_name_the_problem_and_exit_1(data_dir: Path, capsys, monkeypatch) -> None:
    assert cli.main(["create-site", "--name", "Shop", "--timezone", "Nowhere/City"]) == 1
    assert "unknown time zone" in capsys.readouterr().err
    assert cli.main(["create-token", "--email", "ghost@example.com"]) == 1
    assert "no operator" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert (
        cli.main(["create-operator", "--email", "a@example.com", "--name", "A", "--password-stdin"])
        == 1
    )
    assert "at least 8" in capsys.readouterr().err


def test_every_command_has_help(capsys) -> None:
    for command in (
        "serve",
        "demo",
        "migrate",
        "create-operator",
        "create-site",
        "show-site",
        "create-token",
    ):
        with pytest.raises(SystemExit) as done:
            cli.main([command, "--help"])
        assert done.value.code == 0
        assert "usage: doorstep " + command in capsys.readouterr().out


def test_migrate_reports_an_up_to_date_schema(data_dir: Path, capsys) -> None:
    assert cli.main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out


def _with_ctx(work: Callable[[Ctx], Awaitable[Any]]) -> Any:
    """Run `work` against the database the command line uses, as the server would."""

    async def go() -> Any:
        ctx = build_ctx(load_settings())
        try:
            return await work(ctx)
        finally:
            await ctx.db.dispose()

    return asyncio.run(go())


def _create_admin_and_site(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("long enough password\n"))
    args = ["--email", "ann@example.com", "--name", "Ann", "--role", "admin", "--password-stdin"]
    assert cli.main(["create-operator", *args]) == 0
    site = ["--name", "Shop", "--key", "shop-1", "--member", "ann@example.com"]
    assert cli.main(["create-site", *site]) == 0
    capsys.readouterr()


async def _identity_as_admin(ctx: Ctx, *, rotate: bool = False) -> dict[str, Any]:
    admin = await operators.operator_by_email(ctx, "ann@example.com")
    assert admin is not None
    site = await sites.find_site_by_key(ctx, "shop-1")
    if rotate:
        return await sites.rotate_identity_secret(ctx, admin, site.id, grace_hours=24)
    return await sites.identity_settings(ctx, admin, site.id)


def test_show_site_prints_the_stored_secret_and_the_tag_for_the_url(
    data_dir: Path, capsys, monkeypatch
) -> None:
    _create_admin_and_site(monkeypatch, capsys)
    stored = _with_ctx(_identity_as_admin)

    assert cli.main(["show-site", "shop-1", "--url", "https://chat.example.com/"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "Site: Shop" in lines and "Key: shop-1" in lines
    assert f"Identity-verification secret: {stored['secret']}" in lines
    assert "previous secret" not in out
    assert cli.QUEUE_STUB in lines
    tag = '<script src="https://chat.example.com/widget.js" data-site="shop-1" async></script>'
    assert tag in lines and "not set" not in out

    monkeypatch.setenv("DOORSTEP_PUBLIC_URL", "https://help.example.org")
    assert cli.main(["show-site", "shop-1"]) == 0
    out = capsys.readouterr().out
    assert 'src="https://help.example.org/widget.js" data-site="shop-1"' in out
    assert "not set" not in out


def test_show_site_says_until_when_the_previous_secret_verifies(
    data_dir: Path, capsys, monkeypatch
) -> None:
    _create_admin_and_site(monkeypatch, capsys)
    old = _with_ctx(_identity_as_admin)["secret"]
    rotated = _with_ctx(lambda ctx: _identity_as_admin(ctx, rotate=True))

    assert cli.main(["show-site", "shop-1"]) == 0
    out = capsys.readouterr().out
    assert f"Identity-verification secret: {rotated['secret']}" in out and old not in out
    until = rotated["previous_secret_valid_until"]
    assert f"The previous secret still verifies until {until[:10]} {until[11:16]} UTC." in out


def test_show_site_says_plainly_when_no_public_url_is_set(
    data_dir: Path, capsys, monkeypatch
) -> None:
    _create_admin_and_site(monkeypatch, capsys)
    assert cli.main(["show-site", "shop-1"]) == 0
    out = capsys.readouterr().out
    assert "Neither DOORSTEP_PUBLIC_URL nor --url is set" in out
    assert 'src="http://127.0.0.1:8000/widget.js" data-site="shop-1"' in out


def test_show_site_refuses_an_unknown_key_or_a_bad_url(data_dir: Path, capsys) -> None:
    assert cli.main(["show-site", "no-such-site"]) == 1
    captured = capsys.readouterr()
    assert "unknown site key 'no-such-site'" in captured.err and captured.out == ""
    assert cli.main(["show-site", "no-such-site", "--url", "chat.example.com"]) == 1
    assert "--url must start with http:// or https://" in capsys.readouterr().err
