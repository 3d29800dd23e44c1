"""Schedules, automatic-reply rules, the replies they sent and the leads they brought."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain.autoreply_settings import RuleSettings, StoredRule, StoredSchedule
from doorstep.domain.schedule_forms import ScheduleForm, parse_exceptions, parse_weekly
from doorstep.store.prepared import Prepared
from doorstep.store.tables import autoreplies_sent, autoreply_rules, contacts, leads, schedules

# --- schedules -----------------------------------------------------------------------------


def _to_schedule(row: Any) -> StoredSchedule:
    m = row._mapping
    form = ScheduleForm(
        m["name"],
        m["staffed"],
        parse_weekly(m["weekly"]),
        parse_exceptions(m["exceptions"]),
        m["holiday_country"],
    )
    return StoredSchedule(m["id"], m["site_id"], form, m["created_at"], m["updated_at"])


def _schedule_values(form: ScheduleForm) -> dict[str, Any]:
    data = form.public()
    return {k: data[k] for k in ("name", "staffed", "weekly", "exceptions", "holiday_country")}


_SCHEDULES_OF_SITE = Prepared(
    select(schedules).where(schedules.c.site_id == bindparam("b_site")).order_by(schedules.c.id)
)


async def schedules_of_site(conn: AsyncConnection, site_id: int) -> list[StoredSchedule]:
    return [_to_schedule(row) for row in await _SCHEDULES_OF_SITE.rows(conn, b_site=site_id)]


async def schedule_by_id(conn: AsyncConnection, schedule_id: int) -> StoredSchedule | None:
    row = (await conn.execute(select(schedules).where(schedules.c.id == schedule_id))).first()
    return _to_schedule(row) if row else None


async def count_schedules(conn: AsyncConnection, site_id: int) -> int:
    query = select(func.count()).where(schedules.c.site_id == site_id)
    return (await conn.execute(query)).scalar_one()


async def insert_schedule(
    conn: AsyncConnection, site_id: int, form: ScheduleForm, now: datetime
) -> StoredSchedule:
    row = (
        await conn.execute(
            insert(schedules)
            .values(site_id=site_id, created_at=now, updated_at=now, **_schedule_values(form))
            .returning(*schedules.c)
        )
    ).one()
    return _to_schedule(row)


async def update_schedule(
    conn: AsyncConnection, schedule_id: int, form: ScheduleForm, now: datetime
) -> StoredSchedule:
    row = (
        await conn.execute(
            update(schedules)
            .where(schedules.c.id == schedule_id)
            .values(updated_at=now, **_schedule_values(form))
            .returning(*schedules.c)
        )
    ).one()
    return _to_schedule(row)


async def delete_schedule(conn: AsyncConnection, schedule_id: int) -> None:
    await conn.execute(delete(schedules).where(schedules.c.id == schedule_id))


async def rule_names_using(conn: AsyncConnection, column: str, value: int) -> list[str]:
    """Names of the rules whose `schedule_id` or `segment_id` is `value`."""
    query = select(autoreply_rules.c.name).where(autoreply_rules.c[column] == value)
    return [row[0] for row in await conn.execute(query.order_by(autoreply_rules.c.id))]


# --- rules ---------------------------------------------------------------------------------


def _to_rule(row: Any) -> StoredRule:
    m = row._mapping
    settings = RuleSettings(
        name=m["name"],
        priority=m["priority"],
        enabled=m["enabled"],
        schedule_id=m["schedule_id"],
        condition=m["condition"],
        timeout_seconds=m["timeout_seconds"],
        text=m["text"],
        translations=dict(m["translations"] or {}),
        segment_id=m["segment_id"],
        ask_email=m["ask_email"],
    )
    return StoredRule(m["id"], m["site_id"], settings, m["created_at"], m["updated_at"])


_RULES_OF_SITE = Prepared(
    select(autoreply_rules)
    .where(autoreply_rules.c.site_id == bindparam("b_site"))
    .order_by(autoreply_rules.c.priority, autoreply_rules.c.id)
)


async def rules_of_site(conn: AsyncConnection, site_id: int) -> list[StoredRule]:
    return [_to_rule(row) for row in await _RULES_OF_SITE.rows(conn, b_site=site_id)]


async def rule_by_id(conn: AsyncConnection, rule_id: int) -> StoredRule | None:
    query = select(autoreply_rules).where(autoreply_rules.c.id == rule_id)
    row = (await conn.execute(query)).first()
    return _to_rule(row) if row else None


async def insert_rule(
    conn: AsyncConnection, site_id: int, settings: RuleSettings, now: datetime
) -> StoredRule:
    row = (
        await conn.execute(
            insert(autoreply_rules)
            .values(site_id=site_id, created_at=now, updated_at=now, **settings.public())
            .returning(*autoreply_rules.c)
        )
    ).one()
    return _to_rule(row)


async def update_rule(
    conn: AsyncConnection, rule_id: int, settings: RuleSettings, now: datetime
) -> StoredRule:
    row = (
        await conn.execute(
            update(autoreply_rules)
            .where(autoreply_rules.c.id == rule_id)
            .values(updated_at=now, **settings.public())
            .returning(*autoreply_rules.c)
        )
    ).one()
    return _to_rule(row)


async def delete_rule(conn: AsyncConnection, rule_id: int) -> None:
    await conn.execute(delete(autoreply_rules).where(autoreply_rules.c.id == rule_id))


# --- replies sent and leads ----------------------------------------------------------------


async def fired_rules(conn: AsyncConnection, conversation_id: int, since: datetime) -> set[int]:
    query = select(autoreplies_sent.c.rule_id).where(
        autoreplies_sent.c.conversation_id == conversation_id,
        autoreplies_sent.c.created_at >= since,
        autoreplies_sent.c.rule_id.is_not(None),
    )
    return {row[0] for row in await conn.execute(query)}


async def record_sent(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(autoreplies_sent).values(**values))


async def last_asking_rule(conn: AsyncConnection, conversation_id: int) -> int | None:
    """The rule whose reply last asked this conversation for an email."""
    query = (
        select(autoreplies_sent.c.rule_id)
        .where(
            autoreplies_sent.c.conversation_id == conversation_id,
            autoreplies_sent.c.asked_email.is_(True),
        )
        .order_by(autoreplies_sent.c.id.desc())
        .limit(1)
    )
    return (await conn.execute(query)).scalar()


async def lead_exists(conn: AsyncConnection, contact_id: int, email: str) -> bool:
    query = select(leads.c.id).where(leads.c.contact_id == contact_id, leads.c.email == email)
    return (await conn.execute(query.limit(1))).first() is not None


async def insert_lead(conn: AsyncConnection, **values: Any) -> None:
    await conn.execute(insert(leads).values(**values))


async def leads_of_contact(conn: AsyncConnection, contact_id: int) -> list[dict[str, Any]]:
    query = select(leads).where(leads.c.contact_id == contact_id).order_by(leads.c.id)
    return [dict(row._mapping) for row in await conn.execute(query)]


async def sent_page(
    conn: AsyncConnection, site_id: int, *, limit: int, before_id: int | None
) -> list[dict[str, Any]]:
    """Replies sent, newest first, with their contact and the email they brought, if any."""

    def first_lead(column: Any) -> Any:
        return (
            select(column)
            .where(
                leads.c.conversation_id == autoreplies_sent.c.conversation_id,
                leads.c.created_at >= autoreplies_sent.c.created_at,
            )
            .order_by(leads.c.id)
            .limit(1)
            .scalar_subquery()
        )

    query = (
        select(
            autoreplies_sent,
            contacts.c.name.label("contact_name"),
            contacts.c.email.label("contact_email"),
            first_lead(leads.c.email).label("lead_email"),
            first_lead(leads.c.created_at).label("lead_at"),
        )
        .join(contacts, contacts.c.id == autoreplies_sent.c.contact_id)
        .where(autoreplies_sent.c.site_id == site_id)
        .order_by(autoreplies_sent.c.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(autoreplies_sent.c.id < before_id)
    return [dict(row._mapping) for row in await conn.execute(query)]


async def counts_by_rule(conn: AsyncConnection, site_id: int) -> list[dict[str, Any]]:
    replies = (
        select(
            autoreplies_sent.c.rule_id,
            func.max(autoreplies_sent.c.rule_name).label("name"),
            func.count().label("replies"),
        )
        .where(autoreplies_sent.c.site_id == site_id)
        .group_by(autoreplies_sent.c.rule_id)
    )
    brought = (
        select(leads.c.rule_id, func.count().label("leads"))
        .where(leads.c.site_id == site_id)
        .group_by(leads.c.rule_id)
    )
    found = {row.rule_id: dict(row._mapping) for row in await conn.execute(replies)}
    for row in await conn.execute(brought):
        found.setdefault(row.rule_id, {"rule_id": row.rule_id, "name": None, "replies": 0})
        found[row.rule_id]["leads"] = row.leads
    return [{"leads": 0, **entry} for entry in found.values()]
