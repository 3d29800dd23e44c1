"""What a contact looks like after another contact is merged into it (docs/contacts.md)."""

from __future__ import annotations

from typing import Any

from doorstep.domain.models import Contact

KEPT_FIELDS = ("name", "phone", "avatar_url")
# A value and whether it was proven travel together: the survivor's, else the merged one's.
PROVEN_FIELDS = (("email", "email_verified"), ("external_id", "external_id_verified"))
LATEST_FIELDS = (
    "last_source",
    "country",
    "city",
    "timezone",
    "language",
    "device_type",
    "os",
    "browser",
)


def merged_fields(survivor: Contact, merged: Contact) -> dict[str, Any]:
    """Field values for the survivor: nothing either contact knew is lost.

    Identity fields keep the survivor's value and fill its blanks from the merged contact;
    attributes take the more recently seen contact's value on a clash; tags are united; the
    first touch is the earlier contact's, the latest facts the later one's.
    """
    newer, older = (
        (merged, survivor) if merged.last_seen_at >= survivor.last_seen_at else (survivor, merged)
    )
    values: dict[str, Any] = {}
    for name in KEPT_FIELDS:
        values[name] = getattr(survivor, name) or getattr(merged, name)
    for name, flag in PROVEN_FIELDS:
        source = survivor if getattr(survivor, name) else merged
        values[name], values[flag] = getattr(source, name), getattr(source, flag)
    values["attributes"] = {**older.attributes, **newer.attributes}
    values["tags"] = sorted(set(survivor.tags) | set(merged.tags))
    first = min((survivor, merged), key=lambda c: (c.created_at, c.id))
    values["first_source"] = first.first_source or (newer if first is older else older).first_source
    for name in LATEST_FIELDS:
        values[name] = getattr(newer, name) or getattr(older, name)
    values["created_at"] = min(survivor.created_at, merged.created_at)
    values["last_seen_at"] = max(survivor.last_seen_at, merged.last_seen_at)
    return values
