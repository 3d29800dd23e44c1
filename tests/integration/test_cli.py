"""The doorstep command: creating sites, operators and tokens, and its error messages."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from doorstep import cli


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
    for command in ("serve", "demo", "migrate", "create-operator", "create-site", "create-token"):
        with pytest.raises(SystemExit) as done:
            cli.main([command, "--help"])
        assert done.value.code == 0
        assert "usage: doorstep " + command in capsys.readouterr().out


def test_migrate_reports_an_up_to_date_schema(data_dir: Path, capsys) -> None:
    assert cli.main(["migrate"]) == 0
    assert "up to date" in capsys.readouterr().out
