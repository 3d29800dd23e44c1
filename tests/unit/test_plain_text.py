"""U+0000 is found wherever a client put it, however deep."""

from __future__ import annotations

import pytest

from doorstep.domain.plain_text import has_nul


@pytest.mark.parametrize(
    "value",
    ["\x00", "a\x00b", ["x", ["\x00"]], {"k": {"k": "\x00"}}, {"a\x00": 1}, ("x", "\x00")],
)
def test_nul_is_found_in_values_and_keys_at_any_depth(value: object) -> None:
    assert has_nul(value)


@pytest.mark.parametrize(
    "value", ["", "\\u0000", "\u2028", 0, 1.5, None, True, ["a", {"b": [1, "c"]}], b"\x00"]
)
def test_everything_else_is_plain(value: object) -> None:
    assert not has_nul(value)  # bytes are not text: no door passes them on as such


def test_deep_nesting_costs_no_recursion() -> None:
    value: object = "\x00"
    for _ in range(100_000):
        value = [value]
    assert has_nul(value)
