"""Value types' wire forms."""

from __future__ import annotations

from datetime import UTC, datetime

from doorstep.domain.models import InboxContact, iso


def test_a_timestamp_on_the_wire_is_rfc3339_in_utc_with_microseconds_and_a_z() -> None:
    assert iso(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"
    assert iso(datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=UTC)) == "2026-01-02T03:04:05.000007Z"
    # SQLite hands back naive UTC stamps: the same text.
    assert iso(datetime(2026, 12, 31, 23, 59, 59, 999999)) == "2026-12-31T23:59:59.999999Z"
    assert iso(None) is None


def test_an_inbox_row_names_a_contact_by_name_then_email_then_number() -> None:
    assert InboxContact(7, "Ann", "ann@example.com").display_name == "Ann"
    assert InboxContact(7, None, "ann@example.com").display_name == "ann@example.com"
    assert InboxContact(7, None, None).display_name == "Visitor #7"
