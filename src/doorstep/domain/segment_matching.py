"""Whether one contact belongs to a segment: the Python twin of store/segments.py's SQL.

See domain/segments.py for the filter model and the rules both evaluators follow.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from doorstep.domain.models import Contact
from doorstep.domain.segments import (
    COMPARE,
    NEGATIONS,
    SOURCE_TEXT,
    Condition,
    ContactFacts,
    Group,
    Value,
    days_of,
    fold,
    number_of,
    values_of,
)


def matches(group: Group, facts: ContactFacts, now: datetime) -> bool:
    """Whether the contact belongs to the segment at `now`. An empty "all" group is everyone."""
    results = (
        matches(item, facts, now) if isinstance(item, Group) else _holds(item, facts, now)
        for item in group.conditions
    )
    if group.match == "all":
        return all(results)
    found = any(results)
    return found if group.match == "any" else not found


def _holds(condition: Condition, facts: ContactFacts, now: datetime) -> bool:
    positive = NEGATIONS.get(condition.op)
    if positive is not None:
        return not _positive(condition, positive, facts, now)
    return _positive(condition, condition.op, facts, now)


def _positive(condition: Condition, op: str, facts: ContactFacts, now: datetime) -> bool:
    kind = condition.kind
    contact = facts.contact
    if kind == "text":
        return _text_holds(condition, op, text_value(contact, condition.field))
    if kind == "tags":
        tags = {fold(tag) for tag in contact.tags}
        if op == "exists":
            return bool(tags)
        return bool(tags & {fold(str(v)) for v in values_of(condition.value)})
    if kind == "date":
        cutoff = now - timedelta(days=days_of(condition))
        moment: datetime = getattr(contact, condition.field)
        return moment >= cutoff if op == "within_days" else moment < cutoff
    if kind == "attribute":
        return _attribute_holds(condition, op, contact.attributes.get(condition.name or ""))
    if kind == "flag":
        return facts.has_conversation == condition.value
    since = None if condition.within_days is None else now - timedelta(days=condition.within_days)
    if kind == "url":
        urls = [url for url, at in facts.page_views if since is None or at >= since]
        return any(_text_holds(condition, op, url) for url in urls)
    times = facts.visits if kind == "visits" else _event_times(facts, condition.name)
    count = sum(1 for at in times if since is None or at >= since)
    return _count_holds(op, count, condition.value)


def _event_times(facts: ContactFacts, name: str | None) -> list[datetime]:
    return [at for event, at in facts.events if event == name]


def _count_holds(op: str, count: int, value: Value) -> bool:
    return count > 0 if op == "exists" else COMPARE[op](count, value)


def text_value(contact: Contact, field_name: str) -> str | None:
    if field_name in SOURCE_TEXT:
        column, key = SOURCE_TEXT[field_name]
        value = (getattr(contact, column) or {}).get(key)
    else:
        value = getattr(contact, field_name)
    return value if isinstance(value, str) else None


def _text_holds(condition: Condition, op: str, value: str | None) -> bool:
    if value is None:
        return False
    if op == "exists":
        return True
    if op == "regex":
        assert condition.regex is not None
        return condition.regex.search(value)
    folded = fold(value)
    wanted = [fold(str(v)) for v in values_of(condition.value)]
    if op in ("eq", "in"):
        return folded in wanted
    if op == "contains":
        return wanted[0] in folded
    if op == "starts_with":
        return folded.startswith(wanted[0])
    return folded.endswith(wanted[0])


def _attribute_holds(condition: Condition, op: str, raw: object) -> bool:
    if raw is None:
        return False
    if op == "exists":
        return True
    values = values_of(condition.value)
    if isinstance(values[0], bool):
        return isinstance(raw, bool) and raw is values[0]
    if isinstance(values[0], str):
        return isinstance(raw, str) and _text_holds(condition, op, raw)
    stored = number_of(raw)
    if stored is None:
        return False
    wanted = [number_of(value) for value in values]
    return stored in wanted if op == "in" else COMPARE[op](stored, wanted[0])
