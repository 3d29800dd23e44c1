"""Editing a site's schedules and automatic-reply rules, previewing them, and their results.

Admins edit; every operator of the site's team reads. Everything is checked when saved
(docs/autoreplies.md, docs/schedules.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain import autoreply_defaults as defaults
from doorstep.domain.autoreply import View, choose
from doorstep.domain.autoreply_settings import (
    MAX_RULES_PER_SITE,
    MAX_SCHEDULES_PER_SITE,
    RuleSettings,
    StoredRule,
    StoredSchedule,
    parse_rule,
)
from doorstep.domain.availability import next_available
from doorstep.domain.email_address import mask_email
from doorstep.domain.models import Operator, Site, iso
from doorstep.domain.schedule_forms import parse_form
from doorstep.domain.schedules import is_open, next_change
from doorstep.errors import Conflict, Forbidden, InvalidInput, NotFound
from doorstep.services import autoreplies
from doorstep.services.access import access_site
from doorstep.services.context import Ctx
from doorstep.services.uow import UnitOfWork, unit_of_work
from doorstep.store import autoreplies as store
from doorstep.store import segments as segment_store

PAGE_MAX = 200


def _admin(operator: Operator) -> None:
    if operator.role != "admin":
        raise Forbidden("only admins change automatic replies", code="admin_only")


@dataclass(frozen=True, slots=True)
class ScheduleView:
    schedule: StoredSchedule
    site: Site
    now: datetime

    def public(self) -> dict[str, Any]:
        evaluated = self.schedule.form.schedule(self.site.timezone)
        return self.schedule.public(
            self.site.timezone,
            open_now=is_open(evaluated, self.now),
            next_change=next_change(evaluated, self.now),
        )


# --- schedules -----------------------------------------------------------------------------


async def list_schedules(ctx: Ctx, operator: Operator, site_id: int) -> list[ScheduleView]:
    async with ctx.db.read() as conn:
        site = await access_site(conn, operator, site_id)
        found = await store.schedules_of_site(conn, site.id)
    now = ctx.clock.now()
    return [ScheduleView(schedule, site, now) for schedule in found]


async def create_schedule(
    ctx: Ctx, operator: Operator, site_id: int, data: dict[str, Any]
) -> ScheduleView:
    _admin(operator)
    form = parse_form(data)
    async with unit_of_work(ctx) as uow:
        site = await access_site(uow.conn, operator, site_id)
        if await store.count_schedules(uow.conn, site.id) >= MAX_SCHEDULES_PER_SITE:
            raise InvalidInput(
                f"a site has at most {MAX_SCHEDULES_PER_SITE} schedules", code="too_many_schedules"
            )
        schedule = await store.insert_schedule(uow.conn, site.id, form, uow.now)
        autoreplies.setup_changed(uow, site.id)
    return ScheduleView(schedule, site, uow.now)


async def _site_of(conn: AsyncConnection, operator: Operator, item: Any, noun: str) -> Site:
    """The site a schedule or rule belongs to; another team's is "not found" like a missing one."""
    missing = NotFound(f"no such {noun}", code=f"{noun}_not_found")
    if item is None:
        raise missing
    try:
        return await access_site(conn, operator, item.site_id)
    except NotFound:
        raise missing from None


async def _access_schedule(
    conn: AsyncConnection, operator: Operator, schedule_id: int
) -> tuple[StoredSchedule, Site]:
    schedule = await store.schedule_by_id(conn, schedule_id)
    site = await _site_of(conn, operator, schedule, "schedule")
    assert schedule is not None
    return schedule, site


async def update_schedule(
    ctx: Ctx, operator: Operator, schedule_id: int, changes: dict[str, Any]
) -> ScheduleView:
    _admin(operator)
    async with unit_of_work(ctx) as uow:
        schedule, site = await _access_schedule(uow.conn, operator, schedule_id)
        form = parse_form({**schedule.form.public(), **changes})
        schedule = await store.update_schedule(uow.conn, schedule.id, form, uow.now)
        autoreplies.setup_changed(uow, site.id)
    return ScheduleView(schedule, site, uow.now)


async def delete_schedule(ctx: Ctx, operator: Operator, schedule_id: int) -> None:
    _admin(operator)
    async with unit_of_work(ctx) as uow:
        schedule, site = await _access_schedule(uow.conn, operator, schedule_id)
        users = await store.rule_names_using(uow.conn, "schedule_id", schedule.id)
        if users:
            raise Conflict(
                f"rules use this schedule: {', '.join(users)}; change them first",
                code="schedule_in_use",
            )
        await store.delete_schedule(uow.conn, schedule.id)
        autoreplies.setup_changed(uow, site.id)


# --- rules ---------------------------------------------------------------------------------


async def list_rules(ctx: Ctx, operator: Operator, site_id: int) -> list[StoredRule]:
    async with ctx.db.read() as conn:
        site = await access_site(conn, operator, site_id)
        return await store.rules_of_site(conn, site.id)


async def _check_references(conn: AsyncConnection, site: Site, settings: RuleSettings) -> None:
    """A rule's schedule and segment must be the same site's."""
    if settings.schedule_id is not None:
        schedule = await store.schedule_by_id(conn, settings.schedule_id)
        if schedule is None or schedule.site_id != site.id:
            raise InvalidInput("no such schedule on this site", code="invalid_schedule_id")
    if settings.segment_id is not None:
        segment = await segment_store.segment_by_id(conn, settings.segment_id)
        if segment is None or segment.site_id != site.id:
            raise InvalidInput("no such segment on this site", code="invalid_segment_id")


async def create_rule(
    ctx: Ctx, operator: Operator, site_id: int, data: dict[str, Any]
) -> StoredRule:
    _admin(operator)
    async with unit_of_work(ctx) as uow:
        site = await access_site(uow.conn, operator, site_id)
        existing = await store.rules_of_site(uow.conn, site.id)
        if len(existing) >= MAX_RULES_PER_SITE:
            raise InvalidInput(
                f"a site has at most {MAX_RULES_PER_SITE} rules", code="too_many_rules"
            )
        if "priority" not in data or data["priority"] is None:
            last = max((r.settings.priority for r in existing), default=0)
            data = {**data, "priority": last + 10}
        settings = parse_rule(data)
        await _check_references(uow.conn, site, settings)
        autoreplies.setup_changed(uow, site.id)
        return await store.insert_rule(uow.conn, site.id, settings, uow.now)


async def _access_rule(
    conn: AsyncConnection, operator: Operator, rule_id: int
) -> tuple[StoredRule, Site]:
    rule = await store.rule_by_id(conn, rule_id)
    site = await _site_of(conn, operator, rule, "rule")
    assert rule is not None
    return rule, site


async def update_rule(
    ctx: Ctx, operator: Operator, rule_id: int, changes: dict[str, Any]
) -> StoredRule:
    _admin(operator)
    async with unit_of_work(ctx) as uow:
        rule, site = await _access_rule(uow.conn, operator, rule_id)
        settings = parse_rule({**rule.settings.public(), **changes})
        await _check_references(uow.conn, site, settings)
        autoreplies.setup_changed(uow, site.id)
        return await store.update_rule(uow.conn, rule.id, settings, uow.now)


async def delete_rule(ctx: Ctx, operator: Operator, rule_id: int) -> None:
    _admin(operator)
    async with unit_of_work(ctx) as uow:
        rule, site = await _access_rule(uow.conn, operator, rule_id)
        await store.delete_rule(uow.conn, rule.id)
        autoreplies.setup_changed(uow, site.id)


# --- defaults ------------------------------------------------------------------------------


async def install_defaults(uow: UnitOfWork, site_id: int) -> None:
    """Give a new site the default schedules and rules (domain/autoreply_defaults.py)."""
    ids = {}
    for data in defaults.SCHEDULES:
        schedule = await store.insert_schedule(uow.conn, site_id, parse_form(data), uow.now)
        ids[schedule.form.name] = schedule.id
    for priority, data in enumerate(defaults.RULES, start=1):
        settings = parse_rule(
            {
                **{k: v for k, v in data.items() if k != "schedule"},
                "priority": priority * 10,
                "schedule_id": ids[data["schedule"]],
                "ask_email": True,
            }
        )
        await store.insert_rule(uow.conn, site_id, settings, uow.now)


# --- preview -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PreviewInput:
    site_id: int
    at: datetime | None = None
    segment_id: int | None = None
    operators_online: bool = False
    email_known: bool = False
    language: str | None = None
    contact_name: str | None = None
    draft: dict[str, Any] | None = None


async def preview(ctx: Ctx, operator: Operator, given: PreviewInput) -> dict[str, Any]:
    """What a visitor writing at `at` would see: the rule, when, and the rendered text."""
    async with ctx.db.read() as conn:
        site = await access_site(conn, operator, given.site_id)
        at = _instant(given.at, site) if given.at else ctx.clock.now()
        setup = await autoreplies.site_setup(conn, site)
        if given.draft is not None:
            setup = await _with_draft(conn, setup, given.draft)
    view = View(
        waiting_since=at,
        operator_replied=False,
        answered_automatically=False,
        operators_online=given.operators_online,
        fired_rules=frozenset(),
        segments=frozenset({given.segment_id}) if given.segment_id else frozenset(),
        email_known=given.email_known,
    )
    chosen = choose(setup.domain_rules(), view)
    available_at = next_available(setup.hours, at)
    result: dict[str, Any] = {
        "rule": None,
        "after_seconds": None,
        "text": None,
        "ask_email": False,
        "email_hint": None,
        "team_available": available_at == at,
        "next_available": iso(available_at),
    }
    if chosen is None:
        result["reason"] = "No enabled rule applies to a visitor writing then."
        return result
    rule = setup.stored(chosen.id)
    sent_at = at + chosen.timeout
    result.update(
        rule=rule.public(),
        after_seconds=rule.settings.timeout_seconds,
        text=autoreplies.render_reply(
            setup,
            rule,
            None,
            sent_at,
            online=given.operators_online,
            language=given.language,
            timezone=site.timezone,
            name=given.contact_name,
        ),
        ask_email=rule.settings.ask_email and not given.email_known,
        email_hint=mask_email("visitor@example.com")
        if rule.settings.ask_email and given.email_known
        else None,
        reason=_reason(rule, setup),
    )
    return result


def _instant(at: datetime, site: Site) -> datetime:
    """A time without an offset is a wall-clock time where the site is."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(site.timezone))
    return at.astimezone(UTC)


def _reason(rule: StoredRule, setup: autoreplies.SiteSetup) -> str:
    s = rule.settings
    when = f"during “{setup.schedule_name(rule)}”" if s.schedule_id else "at any time"
    who = "no operator is online" if s.condition == "nobody_online" else "nobody has replied"
    after = "at once" if s.timeout_seconds == 0 else f"after {s.timeout_seconds} s"
    return f"“{s.name}” answers {when} when {who}, {after}."


async def _with_draft(
    conn: AsyncConnection, setup: autoreplies.SiteSetup, draft: dict[str, Any]
) -> autoreplies.SiteSetup:
    """The site's rules with an unsaved edit in place of (or beside) the saved rule."""
    settings = parse_rule({"priority": 0, **draft})
    await _check_references(conn, setup.site, settings)
    draft_id = draft.get("id") if isinstance(draft.get("id"), int) else -1
    created = setup.site.created_at
    edited = StoredRule(draft_id, setup.site.id, settings, created, created)
    rules = [rule for rule in setup.rules if rule.id != draft_id] + [edited]
    return replace(setup, rules=rules)


# --- results -------------------------------------------------------------------------------


async def list_sent(
    ctx: Ctx, operator: Operator, site_id: int, *, limit: int = 50, before_id: int | None = None
) -> dict[str, Any]:
    """Conversations answered automatically, newest first, with counts by rule."""
    async with ctx.db.read() as conn:
        site = await access_site(conn, operator, site_id)
        rows = await store.sent_page(
            conn, site.id, limit=max(1, min(limit, PAGE_MAX)), before_id=before_id
        )
        counts = await store.counts_by_rule(conn, site.id)
    return {
        "data": [
            {
                "id": row["id"],
                "message_id": row["message_id"],
                "conversation_id": row["conversation_id"],
                "sent_at": iso(row["created_at"]),
                "asked_email": row["asked_email"],
                "rule": {"id": row["rule_id"], "name": row["rule_name"]},
                "contact": {
                    "id": row["contact_id"],
                    "display_name": row["contact_name"]
                    or row["contact_email"]
                    or f"Visitor #{row['contact_id']}",
                    "email": row["contact_email"],
                },
                "lead": {"email": row["lead_email"], "captured_at": iso(row["lead_at"])}
                if row["lead_email"]
                else None,
            }
            for row in rows
        ],
        "counts": counts,
    }
