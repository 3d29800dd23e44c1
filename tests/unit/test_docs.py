"""Public surfaces stay documented: every setting, command and socket frame type."""

from __future__ import annotations

import re
from pathlib import Path

from doorstep import cli, config
from doorstep.web.ws import protocol

DOCS = Path(__file__).parents[2] / "docs"


def test_every_setting_read_from_the_environment_is_documented() -> None:
    source = Path(config.__file__).read_text() + Path(cli.__file__).read_text()
    names = set(re.findall(r'"(DOORSTEP_[A-Z_]+)"', source))
    documented = (DOCS / "configuration.md").read_text()
    assert names, "no settings found: the pattern is out of date"
    assert sorted(n for n in names if f"`{n}`" not in documented) == []


def test_every_cli_command_is_documented() -> None:
    parser = cli._parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    documented = (DOCS / "cli.md").read_text()
    assert sorted(c for c in commands if f"doorstep {c}" not in documented) == []


def test_every_frame_type_the_sockets_accept_is_documented() -> None:
    documented = (DOCS / "websocket.md").read_text()
    kinds = set()
    for model in vars(protocol).values():
        fields = getattr(model, "model_fields", {})
        if "type" in fields:
            annotation = fields["type"].annotation
            kinds.update(getattr(annotation, "__args__", ()))
    assert kinds, "no frame models found"
    assert sorted(k for k in kinds if f"`{k}`" not in documented) == []
