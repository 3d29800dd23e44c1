"""Segments on real databases: the SQL evaluator and the Python evaluator select the same
contacts; the services keep the site boundary; the REST API saves, counts and lists."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import String, literal, select

from doorstep.domain import segment_matching
from doorstep.domain import segments as rules
from doorstep.domain.linear_regex import compile_regex
from doorstep.errors import NotFound
from doorstep.services import conversations, operators, segments, tracking, visitors
from doorstep.services.context import Ctx
from doorstep.store import conversations as conversation_store
from doorstep.store import merge as merge_store
from doorstep.store import segments as store
from doorstep.store import sites as site_store
from doorstep.store import tracking as tracking_store
from doorstep.store import visitors as visitor_store
from tests.factories import Factory, proven
from tests.unit.test_segments import ALPHABET, PATTERNS

# Small pools, so that random filters and random contacts meet often, with the awkward cases
# in them: case variants inside and outside ASCII, LIKE wildcards and the escape character,
# numbers that are equal in value but not in type, times exactly on a window's edge.
NAMES = ["Jane", "jane", "JANE", "Émile", "émile", "a%b", "a_b", "a/b", "ß", "100"]
PARTS = ["j", "J", "an", "É", "é", "%", "_", "/", "a%", "a_", "ß", "100", "E"]
COUNTRIES = ["JP", "KR", "US", "jp"]
EMAILS = ["ann@acme.com", "BOB@Acme.COM", "émile@ex.example"]
DEVICES = ["mobile", "desktop", "tablet"]
CHANNELS = ["direct", "email", "paid", "Paid"]
TAGS = ["vip", "VIP", "b2b", "Trial", "ß"]
ATTRIBUTE_NAMES = ["plan", "cart_value", "vip", "a.b", "Score"]
NUMBERS = [-1, 0, 1, 100, 101, 0.1, 99.5, 100.0, 100.5, 0.30000000000000004, 1e-07, 12345678.9]
STRINGS = ["100", "pro", "Pro", "PRO", "", "a%b", "é"]
URLS = [
    "https://shop.example/pricing",
    "https://shop.example/Pricing?plan=pro",
    "https://shop.example/cart",
    "https://shop.example/a%20b",
    "https://shop.example/a_b/c",
    "https://blog.example/pricing-2024",
]
URL_PARTS = ["/pricing", "PRICING", "%20", "_b", "https://shop", "cart", "2024", "?plan=pro"]
EVENTS = ["signup", "added_to_cart", "Purchase"]
WINDOWS = [1, 7, 30]
AGES = [0, 0.5, 1, 6.99, 7, 7.01, 29, 30, 31, 40]  # days before now
REGEXES = [
    "^https://shop",
    "pricing$",
    r"/p[a-z]+g",
    "(cart|pricing)",
    r"\d",
    "^J",
    "é",
    "a%b",
    "^[A-Z]",
    r"\?plan=",
    r"^(https://shop\.example/pricing)$",
    "x|ß",
]


def ages(max_size: int) -> st.SearchStrategy[list[float]]:
    return st.lists(st.sampled_from(AGES), max_size=max_size)


SCALARS = st.one_of(st.sampled_from(NUMBERS), st.sampled_from(STRINGS), st.booleans())
SOURCES = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "channel": st.sampled_from(CHANNELS),
            "source": st.sampled_from([None, "google", "Newsletter"]),
            "medium": st.sampled_from([None, "cpc", "email"]),
            "campaign": st.sampled_from([None, "spring", "Spring"]),
        }
    ),
)
PEOPLE = st.fixed_dictionaries(
    {
        "name": st.one_of(st.none(), st.sampled_from(NAMES)),
        "email": st.one_of(st.none(), st.sampled_from(EMAILS)),
        "country": st.one_of(st.none(), st.sampled_from(COUNTRIES)),
        "device_type": st.one_of(st.none(), st.sampled_from(DEVICES)),
        "tags": st.lists(st.sampled_from(TAGS), max_size=3, unique=True),
        "first_source": SOURCES,
        "last_source": SOURCES,
        "created": st.sampled_from(AGES),
        "seen": st.sampled_from(AGES),
        "attributes": st.dictionaries(st.sampled_from(ATTRIBUTE_NAMES), SCALARS, max_size=3),
        "visits": ages(3),
        "pages": st.lists(st.tuples(st.sampled_from(URLS), st.sampled_from(AGES)), max_size=3),
        "events": st.lists(st.tuples(st.sampled_from(EVENTS), st.sampled_from(AGES)), max_size=4),
        "talked": st.booleans(),
        "merged": st.sampled_from([False, False, False, True]),
    }
)


def _text_condition(field: str, values: list[str], parts: list[str]) -> st.SearchStrategy:
    return st.one_of(
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["eq", "neq"]),
            st.sampled_from(values),
        ),
        st.builds(
            lambda op, vs: {"field": field, "op": op, "value": vs},
            st.sampled_from(["in", "not_in"]),
            st.lists(st.sampled_from(values), min_size=1, max_size=3),
        ),
        st.builds(
            lambda op, v: {"field": field, "op": op, "value": v},
            st.sampled_from(["contains", "not_contains", "starts_with", "ends_with"]),
            st.sampled_from(parts),
        ),
        st.builds(lambda p: {"field": field, "op": "regex", "value": p}, st.sampled_from(REGEXES)),
        st.builds(lambda op: {"field": field, "op": op}, st.sampled_from(rules.PRESENCE)),
    )


def _attribute_condition() -> st.SearchStrategy:
    named = st.sampled_from(ATTRIBUTE_NAMES)
    return st.one_of(
        st.builds(
            lambda n, op, v: {"field": "attribute", "name": n, "op": op, "value": v},
            named,
            st.sampled_from(["eq", "neq", "gt", "gte", "lt", "lte"]),
            st.sampled_from(NUMBERS),
        ),
        st.builds(
            lambda n, op, v: {"field": "attribute", "name": n, "op": op, "value": v},
            named,
            st.sampled_from(["eq", "neq"]),
            st.one_of(st.booleans(), st.sampled_from([s for s in STRINGS if s])),
        ),
        st.builds(
            lambda n, op, vs: {"field": "attribute", "name": n, "op": op, "value": vs},
            named,
            st.sampled_from(["in", "not_in"]),
            st.one_of(
                st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=3),
                st.lists(st.sampled_from([s for s in STRINGS if s]), min_size=1, max_size=3),
            ),
        ),
        st.builds(
            lambda n, op, v: {"field": "attribute", "name": n, "op": op, "value": v},
            named,
            st.sampled_from(["contains", "starts_with", "regex"]),
            st.sampled_from(["1", "p", "%", "^P"]),
        ),
        st.builds(
            lambda n, op: {"field": "attribute", "name": n, "op": op},
            named,
            st.sampled_from(rules.PRESENCE),
        ),
    )


def _windowed(condition: dict[str, Any], window: int | None) -> dict[str, Any]:
    return condition if window is None else {**condition, "within_days": window}


WINDOW = st.one_of(st.none(), st.sampled_from(WINDOWS))
COUNT_OPS = st.sampled_from(rules.COUNT_OPS)
CONDITIONS = st.one_of(
    _text_condition("name", NAMES, PARTS),
    _text_condition("email", EMAILS, ["@acme.com", "ACME", "é", "bob"]),
    _text_condition("country", COUNTRIES, ["J", "p"]),
    _text_condition("device_type", DEVICES, ["mob"]),
    _text_condition("first_channel", CHANNELS, ["paid", "e"]),
    _text_condition("last_campaign", ["spring"], ["spr"]),
    st.builds(
        lambda op, v: {"field": "tags", "op": op, "value": v},
        st.sampled_from(["contains", "not_contains"]),
        st.sampled_from(TAGS),
    ),
    st.builds(
        lambda op, vs: {"field": "tags", "op": op, "value": vs},
        st.sampled_from(["in", "not_in"]),
        st.lists(st.sampled_from(TAGS), min_size=1, max_size=2),
    ),
    st.builds(lambda op: {"field": "tags", "op": op}, st.sampled_from(rules.PRESENCE)),
    st.builds(
        lambda f, op, d: {"field": f, "op": op, "value": d},
        st.sampled_from(["created_at", "last_seen_at"]),
        st.sampled_from(["within_days", "before_days"]),
        st.sampled_from(WINDOWS),
    ),
    _attribute_condition(),
    st.builds(
        lambda op, v, w: _windowed(
            {"field": "visits", "op": op, **({} if op in rules.PRESENCE else {"value": v})}, w
        ),
        COUNT_OPS,
        st.integers(0, 3),
        WINDOW,
    ),
    st.builds(
        lambda name, op, v, w: _windowed(
            {
                "field": "event",
                "name": name,
                "op": op,
                **({} if op in rules.PRESENCE else {"value": v}),
            },
            w,
        ),
        st.sampled_from(EVENTS),
        COUNT_OPS,
        st.integers(0, 2),
        WINDOW,
    ),
    st.builds(
        lambda c, w: _windowed({**c, "field": "visited_url"}, w),
        _text_condition("visited_url", URLS, URL_PARTS).filter(
            lambda c: c["op"] not in ("in", "not_in")
        ),
        WINDOW,
    ),
    st.builds(
        lambda op, v: {"field": "has_conversation", "op": op, "value": v},
        st.sampled_from(["eq", "neq"]),
        st.booleans(),
    ),
)
FILTERS = st.recursive(
    st.builds(
        lambda m, cs: {"match": m, "conditions": cs},
        st.sampled_from(rules.MATCHES),
        st.lists(CONDITIONS, max_size=3),
    ),
    lambda groups: st.builds(
        lambda m, items: {"match": m, "conditions": items},
        st.sampled_from(rules.MATCHES),
        st.lists(st.one_of(CONDITIONS, groups), min_size=1, max_size=3),
    ),
    max_leaves=3,
)

_site_numbers = itertools.count(1)
SOURCE_FIELDS = ("first_source", "last_source")


async def build_people(ctx: Ctx, people: list[dict[str, Any]]) -> tuple[int, list[int]]:
    """A new site holding the given contacts, written in one transaction through the store."""
    now = ctx.clock.now()

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    async with ctx.db.transaction() as conn:
        site = await site_store.insert_site(
            conn,
            key=f"seg-{next(_site_numbers)}-{now.timestamp()}",
            name="Segments",
            timezone="UTC",
            locale=None,
            color="#000000",
            identity_secret="s",
            now=now,
        )
        ids: list[int] = []
        for person in people:
            visitor = await visitor_store.insert_visitor(
                conn, site_id=site.id, locale=None, now=ago(person["created"])
            )
            contact_id = visitor.contact_id
            fields = {
                k: person[k]
                for k in ("name", "email", "country", "device_type", "tags", *SOURCE_FIELDS)
            }
            fields["last_seen_at"] = ago(person["seen"])
            await visitor_store.update_contact(
                conn, contact_id, fields=fields, attributes=person["attributes"]
            )
            visit_ids = []
            for age in person["visits"] or ([40] if person["pages"] else []):
                visit_ids.append(
                    await tracking_store.insert_visit(
                        conn,
                        {
                            "site_id": site.id,
                            "contact_id": contact_id,
                            "visitor_id": visitor.id,
                            "started_at": ago(age),
                            "last_activity_at": ago(age),
                            "channel": "direct",
                            "device_type": "desktop",
                        },
                    )
                )
            await tracking_store.insert_page_views(
                conn,
                [
                    {
                        "site_id": site.id,
                        "contact_id": contact_id,
                        "visit_id": visit_ids[0],
                        "client_id": f"p{index}",
                        "url": url,
                        "path": "/",
                        "started_at": ago(age),
                    }
                    for index, (url, age) in enumerate(person["pages"])
                ],
            )
            await tracking_store.insert_events(
                conn,
                [
                    {
                        "site_id": site.id,
                        "contact_id": contact_id,
                        "visitor_id": visitor.id,
                        "name": name,
                        "properties": {},
                        "created_at": ago(age),
                    }
                    for name, age in person["events"]
                ],
            )
            if person["talked"]:
                await conversation_store.insert_conversation(
                    conn, site_id=site.id, contact_id=contact_id, now=now
                )
            if person["merged"] and ids:
                # A forwarding address that still owns rows: only merged_into_id excludes it.
                await merge_store.set_contact_fields(conn, contact_id, {"merged_into_id": ids[0]})
            else:
                ids.append(contact_id)
    return site.id, ids


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(PEOPLE, min_size=1, max_size=8),
    filters=st.lists(FILTERS, min_size=1, max_size=6),
)
async def test_sql_and_python_select_the_same_contacts(
    ctx: Ctx, people: list[dict[str, Any]], filters: list[dict[str, Any]]
) -> None:
    site_id, live = await build_people(ctx, people)
    now = ctx.clock.now()
    async with ctx.db.read() as conn:
        every = {i: await store.contact_facts(conn, i) for i in live}
        for data in filters:
            parsed = rules.parse_filter(data)
            expected = {
                i for i, facts in every.items() if segment_matching.matches(parsed, facts, now)
            }
            found = await store.members(conn, site_id, parsed, now, limit=100)
            assert {c.id for c in found} == expected, data
            assert await store.count_members(conn, site_id, parsed, now) == len(expected)
            needed = rules.needs(parsed)
            for i in live:
                facts = await store.contact_facts(conn, i, needed)
                assert segment_matching.matches(parsed, facts, now) == (i in expected), (data, i)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    patterns=st.lists(st.tuples(PATTERNS, st.booleans(), st.booleans()), min_size=1, max_size=4),
    texts=st.lists(st.text(ALPHABET, max_size=8), min_size=1, max_size=6),
)
async def test_postgresql_reads_the_translated_regex_as_the_engine_does(
    ctx: Ctx, patterns: list[tuple[tuple[str, str], bool, bool]], texts: list[str]
) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("SQLite runs the engine itself")
    compiled = [
        compile_regex(("^" if start else "") + pattern[0] + ("$" if end else ""))
        for pattern, start, end in patterns
    ]
    pairs = [(regex, text) for regex in compiled for text in texts]
    query = select(*[literal(t, String).op("~", is_comparison=True)(r.postgres) for r, t in pairs])
    async with ctx.db.read() as conn:
        answers = list((await conn.execute(query)).one())
    for (regex, text), answer in zip(pairs, answers, strict=True):
        assert answer == regex.search(text), (regex.pattern, regex.postgres, text)


# Through the services, with data recorded the way the widget records it ------------------

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
PHONE_IN_JAPAN = tracking.Client(IPHONE, "133.242.0.1")
DESKTOP_ANYWHERE = tracking.Client(DESKTOP, None)
ISSUE_EXAMPLES = {
    "in Japan or Korea": {"field": "country", "op": "in", "value": ["JP", "KR"]},
    "on mobile": {"field": "device_type", "op": "eq", "value": "mobile"},
    "cart over 100": {"field": "attribute", "name": "cart_value", "op": "gt", "value": 100},
    "saw pricing this week": {
        "field": "visited_url",
        "op": "contains",
        "value": "/pricing",
        "within_days": 7,
    },
    "has email": {"field": "email", "op": "exists"},
    "returning": {"field": "visits", "op": "gt", "value": 1},
}


def page(url: str) -> dict[str, Any]:
    return {"url": url, "title": "Page", "timezone": "Asia/Tokyo", "language": "ja-JP"}


@pytest.fixture
async def shop(ctx: Ctx, clock, factory: Factory) -> dict[str, Any]:
    site = await factory.site()
    operator = await factory.operator(site)
    fan, other = await factory.visitor(site), await factory.visitor(site)
    await tracking.record_page_view(
        ctx, other, DESKTOP_ANYWHERE, "o1", page("https://s.ex/pricing")
    )
    await visitors.set_visitor_attributes(ctx, other, {"cart_value": "150"})
    clock.advance(days=10)
    await tracking.record_page_view(ctx, fan, PHONE_IN_JAPAN, "f1", page("https://s.ex/"))
    clock.advance(hours=2)
    await tracking.record_page_view(ctx, fan, PHONE_IN_JAPAN, "f2", page("https://s.ex/pricing"))
    await visitors.set_visitor_attributes(ctx, fan, {"cart_value": 150})
    await visitors.identify_visitor(ctx, fan, proven(site, email="fan@example.com"))
    await conversations.send_visitor_message(ctx, fan, text="Hi", client_msg_id="1")
    return {"site": site, "operator": operator, "fan": fan, "other": other}


async def test_the_issue_examples_through_the_services(ctx: Ctx, shop) -> None:
    site, operator, fan = shop["site"], shop["operator"], shop["fan"]
    for label, condition in ISSUE_EXAMPLES.items():
        data = {"match": "all", "conditions": [condition]}
        preview = await segments.preview_segment(ctx, operator, site_id=site.id, filter=data)
        assert [c.id for c in preview.contacts] == [fan.contact_id], label
        assert preview.count == 1
        saved = await segments.create_segment(
            ctx, operator, site_id=site.id, name=label, filter=data
        )
        assert await segments.contact_in_segment(ctx, fan.contact_id, saved.id)
        assert not await segments.contact_in_segment(ctx, shop["other"].contact_id, saved.id)
    everyone = await segments.preview_segment(
        ctx, operator, site_id=site.id, filter={"match": "all", "conditions": []}
    )
    assert everyone.count == 2


async def test_a_merged_contact_is_judged_by_its_survivor(ctx: Ctx, shop, factory) -> None:
    site, operator, fan = shop["site"], shop["operator"], shop["fan"]
    laptop = await factory.visitor(site)
    await visitors.identify_visitor(ctx, laptop, proven(site, email="fan@example.com"))
    returning = await segments.create_segment(
        ctx,
        operator,
        site_id=site.id,
        name="Returning",
        filter={"conditions": [ISSUE_EXAMPLES["returning"]]},
    )
    assert await segments.contact_in_segment(ctx, laptop.contact_id, returning.id)
    members = await segments.segment_members(ctx, operator, returning.id)
    assert [c.id for c in members] == [fan.contact_id]


async def test_segments_stay_inside_their_site(ctx: Ctx, shop, factory: Factory) -> None:
    site, operator = shop["site"], shop["operator"]
    elsewhere = await factory.site()
    stranger = await factory.operator(elsewhere)
    saved = await segments.create_segment(
        ctx, operator, site_id=site.id, name="All", filter={"conditions": []}
    )
    for call in (
        segments.get_segment(ctx, stranger, saved.id),
        segments.segment_members(ctx, stranger, saved.id),
        segments.delete_segment(ctx, stranger, saved.id),
        segments.update_segment(ctx, stranger, saved.id, {"name": "Mine"}),
        segments.preview_segment(ctx, stranger, site_id=site.id, filter={"conditions": []}),
        segments.create_segment(
            ctx, stranger, site_id=site.id, name="x", filter={"conditions": []}
        ),
    ):
        with pytest.raises(NotFound):
            await call
    assert await segments.list_segments(ctx, stranger) == []
    outsider = await factory.visitor(elsewhere)
    with pytest.raises(NotFound):
        await segments.contact_in_segment(ctx, outsider.contact_id, saved.id)


# REST ------------------------------------------------------------------------------------


@pytest.fixture
async def api(ctx: Ctx, shop, server, factory: Factory):
    async def client_for(operator) -> httpx.AsyncClient:
        token = await operators.create_api_token(ctx, operator, name="test")
        return httpx.AsyncClient(
            base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
        )

    elsewhere = await factory.site()
    owner, stranger = (
        await client_for(shop["operator"]),
        await client_for(await factory.operator(elsewhere)),
    )
    yield {**shop, "owner": owner, "stranger": stranger}
    await owner.aclose()
    await stranger.aclose()


async def test_rest_saves_counts_lists_and_deletes_segments(api) -> None:
    client, site, fan = api["owner"], api["site"], api["fan"]
    body = {
        "site_id": site.id,
        "name": "Mobile",
        "filter": {"conditions": [ISSUE_EXAMPLES["on mobile"]]},
    }
    created = await client.post("/segments", json=body)
    assert created.status_code == 201, created.text
    segment = created.json()["data"]
    assert segment["filter"] == {"match": "all", "conditions": [ISSUE_EXAMPLES["on mobile"]]}
    listed = (await client.get("/segments", params={"site_id": site.id})).json()["data"]
    assert [s["id"] for s in listed] == [segment["id"]]
    one = (await client.get(f"/segments/{segment['id']}")).json()["data"]
    assert one["count"] == 1 and one["name"] == "Mobile"
    members = (await client.get(f"/segments/{segment['id']}/members")).json()["data"]
    assert [m["id"] for m in members] == [fan.contact_id]
    page_two = await client.get(
        f"/segments/{segment['id']}/members", params={"before_id": fan.contact_id, "limit": 1}
    )
    assert page_two.json()["data"] == []
    patched = await client.patch(
        f"/segments/{segment['id']}", json={"name": "Everyone", "filter": {"conditions": []}}
    )
    assert patched.json()["data"]["name"] == "Everyone"
    assert (await client.get(f"/segments/{segment['id']}")).json()["data"]["count"] == 2
    preview = await client.post(
        "/segments/preview",
        json={"site_id": site.id, "filter": {"conditions": [ISSUE_EXAMPLES["has email"]]}},
    )
    assert preview.json()["data"]["count"] == 1
    assert [c["id"] for c in preview.json()["data"]["contacts"]] == [fan.contact_id]
    assert (await client.delete(f"/segments/{segment['id']}")).status_code == 204
    gone = await client.get(f"/segments/{segment['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "segment_not_found"


async def test_rest_hides_other_sites_segments(api) -> None:
    site = api["site"]
    created = await api["owner"].post(
        "/segments", json={"site_id": site.id, "name": "All", "filter": {"conditions": []}}
    )
    segment_id = created.json()["data"]["id"]
    stranger = api["stranger"]
    for response in (
        await stranger.get(f"/segments/{segment_id}"),
        await stranger.patch(f"/segments/{segment_id}", json={"name": "x"}),
        await stranger.delete(f"/segments/{segment_id}"),
        await stranger.get(f"/segments/{segment_id}/members"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "segment_not_found"
    for response in (
        await stranger.get("/segments", params={"site_id": site.id}),
        await stranger.post(
            "/segments/preview", json={"site_id": site.id, "filter": {"conditions": []}}
        ),
        await stranger.post(
            "/segments", json={"site_id": site.id, "name": "x", "filter": {"conditions": []}}
        ),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "site_not_found"
    assert (await stranger.get("/segments")).json()["data"] == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            {"name": "x", "filter": {"conditions": [{"field": "nope", "op": "eq"}]}},
            "invalid_filter",
        ),
        ({"name": "x", "filter": {"conditions": "all"}}, "invalid_filter"),
        ({"name": "x" * 201, "filter": {"conditions": []}}, "invalid_input"),
        ({"name": "x", "filter": {"conditions": []}, "color": "red"}, "invalid_input"),
        ({"name": "x", "filter": []}, "invalid_input"),
        ({"name": "x", "filter": {"conditions": [], "pad": "x" * 70_000}}, "invalid_input"),
        ({"name": "   ", "filter": {"conditions": []}}, "invalid_name"),
    ],
)
async def test_rest_refuses_bad_segments_with_422(api, body: dict[str, Any], code: str) -> None:
    response = await api["owner"].post("/segments", json={"site_id": api["site"].id, **body})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


async def test_members_search_and_csv_export_of_a_segment(api) -> None:
    client, site, fan = api["owner"], api["site"], api["fan"]
    everyone = (
        await client.post(
            "/segments", json={"site_id": site.id, "name": "All", "filter": {"conditions": []}}
        )
    ).json()["data"]
    path = f"/segments/{everyone['id']}/members"
    found = (await client.get(path, params={"q": "FAN@"})).json()["data"]
    assert [m["id"] for m in found] == [fan.contact_id]
    assert (await client.get(path, params={"q": "%"})).json()["data"] == []  # % is plain text
    mobile = (
        await client.post(
            "/segments",
            json={
                "site_id": site.id,
                "name": "Mobile",
                "filter": {"conditions": [ISSUE_EXAMPLES["on mobile"]]},
            },
        )
    ).json()["data"]
    rows = list(
        csv.reader(
            io.StringIO(
                (await client.get("/contacts.csv", params={"segment_id": mobile["id"]})).text
            )
        )
    )
    assert [row[0] for row in rows[1:]] == [str(fan.contact_id)]
    refused = await api["stranger"].get("/contacts.csv", params={"segment_id": mobile["id"]})
    assert refused.status_code == 404
