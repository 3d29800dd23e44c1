"""Segments: saved filters over contacts' profile, visits and events (docs/segments.md).

Pure rules. `parse_filter` turns the JSON an operator saved into a validated `Group`;
`segment_matching.matches` decides whether one contact belongs, from its `ContactFacts` and a
given `now`. The store compiles the same `Group` to SQL for counts and member lists
(store/segments.py); the property tests keep both evaluators in agreement on SQLite and
PostgreSQL, so every rule here is written to be expressible exactly in SQL: text compares ignore
case for A-Z only, numbers compare by value and only with numbers, and a negative op is the
exact opposite of its positive.
"""

from __future__ import annotations

import math
import operator
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from doorstep.domain import attributes as attr_rules
from doorstep.domain.linear_regex import MAX_PATTERN, Regex, RegexError, compile_regex
from doorstep.domain.models import Contact, iso
from doorstep.errors import InvalidInput

MAX_CONDITIONS = 50  # conditions and groups, counted together
MAX_DEPTH = 3  # the top group is level 1
MAX_TEXT = 1000
MAX_LIST = 100
MAX_DAYS = 3650
MAX_COUNT = 1_000_000
MAX_NUMBER = 10**15
MAX_NAME = 200

ASCII_UPPER = string.ascii_uppercase
ASCII_LOWER = string.ascii_lowercase
_FOLD = str.maketrans(ASCII_UPPER, ASCII_LOWER)

MATCHES = ("all", "any", "none")
NEGATIONS = {"neq": "eq", "not_in": "in", "not_contains": "contains", "not_exists": "exists"}
PRESENCE = ("exists", "not_exists")
TEXT_OPS = ("eq", "neq", "in", "not_in", "contains", "not_contains", "starts_with", "ends_with")
ORDER_OPS = ("gt", "gte", "lt", "lte")
COUNT_OPS = ("eq", "neq", *ORDER_OPS, *PRESENCE)
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}

PROFILE_TEXT = (
    "email",
    "name",
    "phone",
    "external_id",
    "country",
    "city",
    "language",
    "timezone",
    "device_type",
    "os",
    "browser",
)
# Source fields read a key of the contact's first-touch or latest source (docs/tracking.md).
SOURCE_TEXT = {
    f"{when}_{key}": (f"{when}_source", key)
    for when in ("first", "last")
    for key in ("channel", "source", "medium", "campaign")
}
FIELDS = {
    **dict.fromkeys(PROFILE_TEXT, "text"),
    **dict.fromkeys(SOURCE_TEXT, "text"),
    "tags": "tags",
    "created_at": "date",
    "last_seen_at": "date",
    "attribute": "attribute",
    "visits": "visits",
    "visited_url": "url",
    "event": "event",
    "has_conversation": "flag",
}
OPS = {
    "text": (*TEXT_OPS, "regex", *PRESENCE),
    "tags": ("contains", "not_contains", "in", "not_in", *PRESENCE),
    "date": ("within_days", "before_days"),
    "attribute": (*TEXT_OPS, "regex", *ORDER_OPS, *PRESENCE),
    "visits": COUNT_OPS,
    "event": COUNT_OPS,
    "url": (
        "eq",
        "neq",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "regex",
        *PRESENCE,
    ),
    "flag": ("eq", "neq"),
}
EXTRA_KEYS = {
    "attribute": {"name"},
    "visits": {"within_days"},
    "event": {"name", "within_days"},
    "url": {"within_days"},
}

Scalar = str | int | float | bool
Value = Scalar | tuple[Scalar, ...] | None


def fold(text: str) -> str:
    """Case folding for A-Z only: what SQLite's lower() does, so SQL and Python agree."""
    return text.translate(_FOLD)


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: str
    value: Value = None
    name: str | None = None  # the attribute or event name
    within_days: int | None = None
    regex: Regex | None = field(default=None, compare=False, repr=False)

    @property
    def kind(self) -> str:
        return FIELDS[self.field]


@dataclass(frozen=True, slots=True)
class Group:
    match: str
    conditions: tuple[Group | Condition, ...]


Filter = Group


@dataclass(frozen=True, slots=True)
class ContactFacts:
    """Everything `matches` reads about one contact; see `needs` for what a filter uses."""

    contact: Contact
    visits: tuple[datetime, ...] = ()  # when each visit started
    page_views: tuple[tuple[str, datetime], ...] = ()  # (url, when); the latest per URL suffices
    events: tuple[tuple[str, datetime], ...] = ()  # (name, when)
    has_conversation: bool = False


@dataclass(frozen=True, slots=True)
class Needs:
    """The facts a filter reads beyond the contact row, so a loader can skip the rest."""

    visits: bool = False
    page_views: bool = False
    event_names: frozenset[str] | None = frozenset()  # None: every event
    conversations: bool = False


EVERYTHING = Needs(True, True, None, True)


@dataclass(frozen=True, slots=True)
class Segment:
    id: int
    site_id: int
    name: str
    filter: Group
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site_id": self.site_id,
            "name": self.name,
            "filter": filter_to_json(self.filter),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


def check_segment_name(name: object) -> str:
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
        raise InvalidInput(f"a segment name has 1 to {MAX_NAME} characters", code="invalid_name")
    return name.strip()


# Parsing ----------------------------------------------------------------------------------


def _fail(where: str, message: str) -> InvalidInput:
    return InvalidInput(f"{where}: {message}", code="invalid_filter")


def parse_filter(data: object) -> Group:
    """Validate a filter from JSON; InvalidInput (code invalid_filter) names the bad part."""
    return _Parser().group(data, "filter", 1)


class _Parser:
    def __init__(self) -> None:
        self.count = 0

    def group(self, data: object, where: str, depth: int) -> Group:
        if not isinstance(data, dict):
            raise _fail(where, 'a group is {"match": "all", "conditions": [...]}')
        if unknown := sorted(set(data) - {"match", "conditions"}):
            raise _fail(where, f"unknown key {unknown[0]!r} in a group")
        match = data.get("match", "all")
        if match not in MATCHES:
            raise _fail(f"{where}.match", "match is one of all, any, none")
        items = data.get("conditions")
        if not isinstance(items, list):
            raise _fail(f"{where}.conditions", "conditions is a list")
        parsed: list[Group | Condition] = []
        for index, item in enumerate(items):
            path = f"{where}.conditions[{index}]"
            self.count += 1
            if self.count > MAX_CONDITIONS:
                raise _fail(path, f"a filter has at most {MAX_CONDITIONS} conditions and groups")
            if (
                isinstance(item, dict)
                and "field" not in item
                and ("conditions" in item or "match" in item)
            ):
                if depth >= MAX_DEPTH:
                    raise _fail(path, f"groups nest at most {MAX_DEPTH} levels deep")
                parsed.append(self.group(item, path, depth + 1))
            else:
                parsed.append(self.condition(item, path))
        return Group(match, tuple(parsed))

    def condition(self, data: object, where: str) -> Condition:
        if not isinstance(data, dict):
            raise _fail(where, 'a condition is {"field": ..., "op": ..., "value": ...}')
        name = data.get("field")
        kind = FIELDS.get(name) if isinstance(name, str) else None
        if kind is None:
            raise _fail(f"{where}.field", f"unknown field {name!r}; see docs/segments.md")
        assert isinstance(name, str)
        allowed = {"field", "op", "value"} | EXTRA_KEYS.get(kind, set())
        if unknown := sorted(set(data) - allowed):
            raise _fail(where, f"unknown key {unknown[0]!r} for the field {name}")
        op = data.get("op")
        if op not in OPS[kind]:
            raise _fail(f"{where}.op", f"{name} takes the ops {', '.join(OPS[kind])}")
        value, regex = _value(kind, op, data.get("value"), f"{where}.value")
        return Condition(
            name,
            op,
            value,
            _event_or_attribute_name(kind, data.get("name"), f"{where}.name"),
            _within(data.get("within_days"), f"{where}.within_days"),
            regex,
        )


def _event_or_attribute_name(kind: str, name: object, where: str) -> str | None:
    if kind not in ("attribute", "event"):
        return None
    try:
        return attr_rules.check_name(name, kind)
    except InvalidInput as error:
        raise _fail(where, error.message) from None


def _within(days: object, where: str) -> int | None:
    return None if days is None else _int(days, 1, MAX_DAYS, where)


def _int(value: object, low: int, high: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(where, f"a whole number from {low} to {high}")
    return value


def _value(kind: str, op: str, raw: object, where: str) -> tuple[Value, Regex | None]:
    if op in PRESENCE:
        if raw is not None:
            raise _fail(where, f"{op} takes no value")
        return None, None
    if kind == "date":
        return _int(raw, 1, MAX_DAYS, where), None
    if kind in ("visits", "event"):
        return _int(raw, 0, MAX_COUNT, where), None
    if kind == "flag":
        if not isinstance(raw, bool):
            raise _fail(where, "true or false")
        return raw, None
    if op == "regex":
        return _pattern(raw, where)
    if op in ("in", "not_in"):
        return _list(raw, numbers=kind == "attribute", where=where), None
    if op in ORDER_OPS:
        return _number(raw, where), None
    if kind == "attribute" and op in ("eq", "neq") and not isinstance(raw, str):
        if isinstance(raw, bool) or _is_number(raw):
            return (raw if isinstance(raw, bool) else _number(raw, where)), None
        raise _fail(where, "a text, a number, true or false")
    return _text(raw, where), None


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TEXT:
        raise _fail(where, f"a text of 1 to {MAX_TEXT} characters")
    if "\x00" in value or not _encodable(value):
        raise _fail(where, "the text has a character no database can store")
    return value


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_of(value: object) -> Decimal | None:
    """The value a JSON number stands for (ints exactly, floats by their shortest form), or
    None for anything that is not a finite number. PostgreSQL compares the same decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    return Decimal(value)


def _number(value: object, where: str) -> int | float:
    number = number_of(value)
    if number is None or abs(number) > MAX_NUMBER:
        raise _fail(where, "a number from -10^15 to 10^15")
    return cast(int | float, value)


def _list(value: object, *, numbers: bool, where: str) -> tuple[Scalar, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_LIST:
        raise _fail(where, f"a list of 1 to {MAX_LIST} values")
    if numbers and all(_is_number(item) for item in value):
        return tuple(_number(item, where) for item in value)
    if not all(isinstance(item, str) for item in value):
        raise _fail(where, "a list of texts" + (" or a list of numbers" if numbers else ""))
    return tuple(_text(item, where) for item in value)


def _pattern(value: object, where: str) -> tuple[str, Regex]:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_PATTERN:
        raise _fail(where, f"a pattern of 1 to {MAX_PATTERN} characters")
    _text(value, where)
    try:
        return value, compile_regex(value)
    except RegexError as error:
        raise _fail(where, f"regex: {error}") from None


def filter_to_json(group: Group) -> dict[str, Any]:
    """The canonical JSON form: what is stored and shown, and parses back to the same filter."""
    return {"match": group.match, "conditions": [_node_json(item) for item in group.conditions]}


def _node_json(node: Group | Condition) -> dict[str, Any]:
    if isinstance(node, Group):
        return filter_to_json(node)
    out: dict[str, Any] = {"field": node.field}
    if node.name is not None:
        out["name"] = node.name
    out["op"] = node.op
    if node.value is not None:
        out["value"] = list(node.value) if isinstance(node.value, tuple) else node.value
    if node.within_days is not None:
        out["within_days"] = node.within_days
    return out


def needs(group: Group) -> Needs:
    visits = page_views = conversations = False
    events: set[str] = set()
    for condition in conditions_of(group):
        visits |= condition.kind == "visits"
        page_views |= condition.kind == "url"
        conversations |= condition.kind == "flag"
        if condition.kind == "event" and condition.name:
            events.add(condition.name)
    return Needs(visits, page_views, frozenset(events), conversations)


def conditions_of(group: Group) -> list[Condition]:
    found: list[Condition] = []
    for item in group.conditions:
        found.extend(conditions_of(item) if isinstance(item, Group) else [item])
    return found


def days_of(condition: Condition) -> int:
    """The number of days of a `within_days` or `before_days` date condition."""
    assert isinstance(condition.value, int)
    return condition.value


def values_of(value: Value) -> tuple[Scalar, ...]:
    """A condition's value as a tuple: the list of `in`, or the one value of other ops."""
    if isinstance(value, tuple):
        return value
    return () if value is None else (value,)
