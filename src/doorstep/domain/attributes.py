"""Validation of the data a visitor's browser sends about itself (identify, set, track)."""

from __future__ import annotations

import math
import re
from typing import Any

import orjson

from doorstep.errors import InvalidInput

MAX_ATTRIBUTES = 100
MAX_VALUE_CHARS = 1000
MAX_EVENT_BYTES = 8 * 1024
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
# `user_hash` is the proof of `user_id` or `email` (domain/identity.py), never an attribute.
IDENTITY_FIELDS = {"email", "name", "phone", "user_id", "avatar_url", "user_hash"}

Scalar = str | int | float | bool | None


def check_name(name: object, what: str = "attribute") -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"{what} names have 1 to 64 letters, digits, '_', '.' or '-' and start with a letter",
            code="invalid_name",
        )
    return name


MAX_SAFE_INTEGER = 2**53  # beyond it JavaScript and JSON readers lose digits


def check_scalar(name: str, value: object) -> Scalar:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidInput(f"{name}: numbers are at most 2^53 in size", code="invalid_value")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):  # NaN and infinities have no JSON form
            raise InvalidInput(f"{name}: not a finite number", code="invalid_value")
        # PostgreSQL's jsonb gives 1e308 back as a 309-digit integer, which no JSON writer
        # of 64-bit numbers (orjson, JavaScript) can send on.
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidInput(f"{name}: numbers are at most 2^53 in size", code="invalid_value")
        return value
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            raise InvalidInput(
                f"{name}: at most {MAX_VALUE_CHARS} characters", code="value_too_long"
            )
        return value
    raise InvalidInput(
        f"{name}: a value is a string, number, boolean or null", code="invalid_value"
    )


def check_attributes(attributes: object, existing: int = 0) -> dict[str, Scalar]:
    if not isinstance(attributes, dict):
        raise InvalidInput("attributes must be an object", code="invalid_value")
    checked = {check_name(k): check_scalar(k, v) for k, v in attributes.items()}
    if existing + len(checked) > MAX_ATTRIBUTES:
        raise InvalidInput(
            f"a contact has at most {MAX_ATTRIBUTES} attributes", code="too_many_attributes"
        )
    return checked


def check_event(name: object, properties: object) -> tuple[str, dict[str, Any]]:
    name = check_name(name, "event")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        raise InvalidInput("event properties must be an object", code="invalid_value")
    if len(orjson.dumps(properties)) > MAX_EVENT_BYTES:
        raise InvalidInput(
            f"an event has at most {MAX_EVENT_BYTES} bytes of properties", code="event_too_large"
        )
    return name, {check_name(k, "property"): check_scalar(k, v) for k, v in properties.items()}


def split_traits(traits: object) -> tuple[dict[str, Scalar], dict[str, Scalar]]:
    """identify() traits: the known identity fields, and the rest as custom attributes."""
    checked = check_attributes(traits)
    identity = {k: v for k, v in checked.items() if k in IDENTITY_FIELDS}
    custom = {k: v for k, v in checked.items() if k not in IDENTITY_FIELDS}
    return identity, custom
