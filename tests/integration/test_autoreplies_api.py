"""/api/v1/schedules, /autoreply-rules and /autoreplies: editing, refusals at save, preview."""

from __future__ import annotations

import httpx
import pytest

from doorstep.services import operators
from tests.factories import Factory

WORKDAYS = [{"day": d, "start": "09:00", "end": "18:00"} for d in ("mon", "tue", "wed")]


@pytest.fixture
async def api(factory: Factory, ctx, server):
    site = await factory.site(name="Shop", timezone="Europe/Berlin")
    admin = await factory.operator(site, role="admin")
    agent = await factory.operator(site, role="agent")
    clients = {}
    for name, operator in (("admin", admin), ("agent", agent)):
        token = await operators.create_api_token(ctx, operator, name="test")
        clients[name] = httpx.AsyncClient(
            base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )
    yield {"site": site, **clients}
    for client in clients.values():
        await client.aclose()


async def test_schedules_are_listed_with_their_state_and_edited_by_admins(api) -> None:
    admin, agent, site = api["admin"], api["agent"], api["site"]
    listed = (await agent.get("/schedules", params={"site_id": site.id})).json()["data"]
    assert [s["name"] for s in listed] == ["Working hours", "Lunch", "Night", "Weekend"]
    assert listed[0]["timezone"] == "Europe/Berlin"
    assert listed[0]["open_now"] is True  # Monday 11:00 in Berlin
    assert listed[0]["next_change"] == "2026-01-05T17:00:00.000000Z"

    body = {"site_id": site.id, "name": "Late shift", "weekly": WORKDAYS, "staffed": True}
    refused = await agent.post("/schedules", json=body)
    assert refused.status_code == 403
    created = await admin.post("/schedules", json=body)
    assert created.status_code == 201
    schedule = created.json()["data"]
    assert schedule["weekly"] == WORKDAYS and schedule["exceptions"] == []

    changed = await admin.patch(
        f"/schedules/{schedule['id']}",
        json={
            "exceptions": [{"date": "2026-12-24", "ranges": [{"start": "09:00", "end": "13:00"}]}],
            "holiday_country": "de",
        },
    )
    assert changed.status_code == 200
    assert changed.json()["data"]["holiday_country"] == "DE"
    assert (await admin.delete(f"/schedules/{schedule['id']}")).status_code == 204


@pytest.mark.parametrize(
    ("weekly", "code", "words"),
    [
        (
            [
                {"day": "mon", "start": "09:00", "end": "18:00"},
                {"day": "mon", "start": "12:00", "end": "13:00"},
            ],
            "overlapping_ranges",
            "Mon 09:00-18:00 and Mon 12:00-13:00",
        ),
        ([{"day": "tue", "start": "10:00", "end": "10:00"}], "empty_range", "empty"),
        ([{"day": "tue", "start": "25:00", "end": "26:00"}], "invalid_time", "25:00"),
        (
            [
                {"day": "sun", "start": "22:00", "end": "06:00"},
                {"day": "mon", "start": "05:00", "end": "09:00"},
            ],
            "overlapping_ranges",
            "Sun 22:00-06:00",
        ),
    ],
)
async def test_bad_hours_are_refused_at_save_time_with_a_clear_message(
    api, weekly, code, words
) -> None:
    response = await api["admin"].post(
        "/schedules", json={"site_id": api["site"].id, "name": "Bad", "weekly": weekly}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"]


async def test_a_night_range_across_midnight_is_valid(api) -> None:
    night = [{"day": "fri", "start": "22:00", "end": "06:00"}]
    response = await api["admin"].post(
        "/schedules", json={"site_id": api["site"].id, "name": "Night 2", "weekly": night}
    )
    assert response.status_code == 201


async def test_unknown_time_zones_and_countries_are_refused(api) -> None:
    site_id = api["site"].id
    response = await api["admin"].patch(f"/sites/{site_id}", json={"timezone": "Mars/Olympus"})
    assert response.status_code == 422
    response = await api["admin"].post(
        "/schedules", json={"site_id": site_id, "name": "X", "holiday_country": "ZZ"}
    )
    assert response.json()["error"]["code"] == "invalid_country"


async def test_rules_are_checked_when_saved(api) -> None:
    admin, site_id = api["admin"], api["site"].id
    base = {
        "site_id": site_id,
        "name": "Evening",
        "condition": "nobody_online",
        "timeout_seconds": 10,
    }
    for text in ("Hello {{ contcat.name }}", "{{ ''.__class__ }}", "Hi {% if %}"):
        response = await admin.post("/autoreply-rules", json={**base, "text": text})
        assert response.status_code == 422, text
        assert response.json()["error"]["code"] == "invalid_template"
    response = await admin.post(
        "/autoreply-rules", json={**base, "text": "Hi", "schedule_id": 10**9}
    )
    assert response.json()["error"]["code"] == "invalid_schedule_id"
    response = await admin.post(
        "/autoreply-rules",
        json={**base, "text": "Hi {{ contact.first_name }}", "translations": {"ja": "こんにちは"}},
    )
    assert response.status_code == 201
    rule = response.json()["data"]
    assert rule["priority"] == 50  # after the four defaults
    response = await admin.patch(f"/autoreply-rules/{rule['id']}", json={"timeout_seconds": -1})
    assert response.status_code == 422


async def test_a_schedule_in_use_cannot_be_deleted(api) -> None:
    admin, site_id = api["admin"], api["site"].id
    schedules = (await admin.get("/schedules", params={"site_id": site_id})).json()["data"]
    response = await admin.delete(f"/schedules/{schedules[0]['id']}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "schedule_in_use"
    assert "Working hours" in response.json()["error"]["message"]


async def test_preview_tells_what_a_visitor_writing_then_would_see(api) -> None:
    admin, site_id = api["admin"], api["site"].id
    saturday_night = {"site_id": site_id, "at": "2026-01-10T23:00:00", "language": "de"}
    preview = (await admin.post("/autoreply-rules/preview", json=saturday_night)).json()["data"]
    assert preview["rule"]["name"] == "Weekend"
    assert preview["after_seconds"] == 0 and preview["ask_email"] is True
    assert "am Montag um 9:00" in preview["text"]
    assert preview["team_available"] is False
    assert preview["next_available"] == "2026-01-12T08:00:00.000000Z"

    weekday = {"site_id": site_id, "at": "2026-01-07T10:30:00", "operators_online": True}
    preview = (await admin.post("/autoreply-rules/preview", json=weekday)).json()["data"]
    assert preview["rule"]["name"] == "Working hours" and preview["after_seconds"] == 60

    draft = {**weekday, "draft": {"id": preview["rule"]["id"], "timeout_seconds": 5}}
    draft["draft"] = {**preview["rule"], **draft["draft"]}
    for key in ("site_id", "created_at", "updated_at"):
        draft["draft"].pop(key)
    preview = (await admin.post("/autoreply-rules/preview", json=draft)).json()["data"]
    assert preview["after_seconds"] == 5

    known = {**weekday, "email_known": True}
    preview = (await admin.post("/autoreply-rules/preview", json=known)).json()["data"]
    assert preview["ask_email"] is False and preview["email_hint"]


async def test_another_sites_rules_are_not_found(api, factory: Factory) -> None:
    other = await factory.site(name="Other")
    response = await api["admin"].get("/autoreply-rules", params={"site_id": other.id})
    assert response.status_code == 404
