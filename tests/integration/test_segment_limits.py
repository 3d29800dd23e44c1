"""Expensive segment queries are bounded in total: a time limit over the whole count or
preview, patterns the engine cannot bound refused when saved, visitors answered meanwhile
(docs/security.md, "Expensive queries")."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from typing import Any

import httpx
import pytest

from doorstep.domain import segments as rules
from doorstep.errors import InvalidInput
from doorstep.services import operators, segments
from doorstep.services.context import Ctx
from doorstep.store import segments as store
from doorstep.store import tracking as tracking_store
from doorstep.store.bounded_reads import QueryTooSlow, bounded_read
from tests.factories import Factory
from tests.wsclient import open_visitor

# Accepted (its DFA has 514 states), and as slow per character as any accepted pattern: over
# texts full of "a" it tracks every alignment of the nine characters after an "a".
COSTLY = "a.{8}[!?]"  # costly to match, and no plain text a LIKE could test first
URLS = 300  # of 2,000 characters: 600,000 characters to match, tens of ms on any database
TINY_BUDGET = 0.01


def regex_filter(pattern: str) -> dict[str, Any]:
    return {"conditions": [{"field": "visited_url", "op": "regex", "value": pattern}]}


@pytest.fixture
async def long_urls(ctx: Ctx, factory: Factory) -> dict[str, Any]:
    """A site whose one contact visited URLS long URLs; the last one ends in a match."""
    site = await factory.site(key="long-urls")
    operator = await factory.operator(site)
    visitor = await factory.visitor(site)
    rng = random.Random(15)
    urls = ["https://s.ex/?q=" + "".join(rng.choices("aab-", k=1984)) for _ in range(URLS)]
    urls[-1] = urls[-1][:-10] + "a12345678!"
    now = ctx.clock.now()
    async with ctx.db.transaction() as conn:
        visit_id = await tracking_store.insert_visit(
            conn,
            {
                "site_id": site.id,
                "contact_id": visitor.contact_id,
                "visitor_id": visitor.id,
                "started_at": now,
                "last_activity_at": now,
                "channel": "direct",
                "device_type": "desktop",
            },
        )
        await tracking_store.insert_page_views(
            conn,
            [
                {
                    "site_id": site.id,
                    "contact_id": visitor.contact_id,
                    "visit_id": visit_id,
                    "client_id": f"p{n}",
                    "url": url,
                    "path": "/",
                    "started_at": now,
                }
                for n, url in enumerate(urls)
            ],
        )
    return {"site": site, "operator": operator, "visitor": visitor}


def limited(ctx: Ctx, seconds: float) -> None:
    ctx.settings = dataclasses.replace(ctx.settings, segment_query_seconds=seconds)


async def test_a_count_is_stopped_inside_the_query_when_its_time_is_up(ctx: Ctx, long_urls) -> None:
    group = rules.parse_filter(regex_filter(COSTLY))
    site_id, now = long_urls["site"].id, ctx.clock.now()
    async with bounded_read(ctx.db, 60) as read:  # time enough: the real answer
        assert await store.count_members(read.conn, site_id, group, now, deadline=read.deadline)
    with pytest.raises(QueryTooSlow):
        async with bounded_read(ctx.db, TINY_BUDGET) as read:
            # The deadline has not passed yet: the statement itself has to be stopped.
            assert read.deadline.remaining() > 0
            await store.count_members(read.conn, site_id, group, now, deadline=read.deadline)


async def test_a_preview_over_long_urls_stops_at_the_time_limit(ctx: Ctx, long_urls) -> None:
    site, operator = long_urls["site"], long_urls["operator"]
    found = await segments.preview_segment(
        ctx, operator, site_id=site.id, filter=regex_filter(COSTLY)
    )
    assert found.count == 1
    saved = await segments.create_segment(
        ctx, operator, site_id=site.id, name="Costly", filter=regex_filter(COSTLY)
    )
    limited(ctx, TINY_BUDGET)
    for ask in (
        segments.preview_segment(ctx, operator, site_id=site.id, filter=regex_filter(COSTLY)),
        segments.get_segment(ctx, operator, saved.id),
        segments.segment_members(ctx, operator, saved.id),
    ):
        with pytest.raises(InvalidInput) as refused:
            await ask
        assert refused.value.code == "query_too_slow"
        assert refused.value.message.startswith("too slow: narrow the filter")
    # Time enough again: the connections the stopped queries used still answer.
    limited(ctx, 60)
    assert (await segments.get_segment(ctx, operator, saved.id)).count == 1


async def test_visitors_are_answered_while_previews_run_out_of_time(
    ctx: Ctx, server, long_urls
) -> None:
    site, operator = long_urls["site"], long_urls["operator"]
    limited(ctx, TINY_BUDGET)
    token = await operators.create_api_token(ctx, operator, name="previews")
    visitor, _ = await open_visitor(server.url, site.key)
    await visitor.next("ready")
    async with httpx.AsyncClient(
        base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {token}"}
    ) as api:
        body = {"site_id": site.id, "filter": regex_filter(COSTLY)}
        previews = [asyncio.create_task(api.post("/segments/preview", json=body)) for _ in range(5)]
        for n in range(3):
            await visitor.send({"type": "message.send", "client_msg_id": f"m{n}", "text": "Hi"})
            assert (await visitor.next("message.ack", wait=10))["message"]["seq"] == n + 1
        answers = await asyncio.gather(*previews)
    await visitor.close()
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "query_too_slow"


@pytest.mark.parametrize("pattern", ["a.{99}!", "(foo|bar).{50}baz", "((a{100}){100})"])
async def test_patterns_the_engine_cannot_bound_are_refused_when_saved(api, pattern: str) -> None:
    site, clients = api
    for path, extra in (("/segments", {"name": "Probe"}), ("/segments/preview", {})):
        response = await clients["agent"].post(
            path, json={"site_id": site.id, "filter": regex_filter(pattern), **extra}
        )
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_filter"
        assert "filter.conditions[0].value: regex: the pattern is too" in error["message"]
    assert (await clients["agent"].get("/segments")).json()["data"] == []
