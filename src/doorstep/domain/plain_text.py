"""No U+0000 in anything a client sends (docs/security.md, "Bad input").

PostgreSQL can store the character in neither `text` nor `jsonb` (the driver fails, and the
request would end in a 500), while SQLite keeps it. Every door refuses it up front, so that
both databases accept the same input and the refusal is a 4xx naming the problem.
"""

from __future__ import annotations

NUL = "\x00"
NUL_MESSAGE = "text may not contain the character U+0000 (NUL)"


def has_nul(value: object) -> bool:
    """Whether a JSON-like value (strings, numbers, lists, objects and their keys) holds U+0000.

    Iterative, so that however deep the nesting a client sends, it costs no recursion.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False
