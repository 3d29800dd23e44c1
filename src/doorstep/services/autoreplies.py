"""Automatic replies at run time: the timer a visitor's message starts, and what it does.

A visitor message that starts a wait schedules one durable job per conversation for the
first moment a rule could answer (`first_checks`), or none; an operator's reply or resolving
the conversation cancels it. The job builds a view of the conversation and asks the pure
`decide`: send a rule's reply now, or look again at the exact instant a rule's timeout ends.
Sending happens under the conversation's row lock and re-checks everything, so a job that
runs twice (a worker died after sending) sends nothing the second time (docs/autoreplies.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from doorstep.domain import availability, templating
from doorstep.domain.autoreply import Decision, View, decide, first_checks
from doorstep.domain.autoreply_settings import StoredRule, StoredSchedule
from doorstep.domain.email_address import mask_email
from doorstep.domain.events import Event
from doorstep.domain.models import Author, Contact, Conversation, Site
from doorstep.domain.schedules import Schedule
from doorstep.services.context import AUTOREPLY_SETUP_CHANGED, Ctx
from doorstep.services.jobs import cancel_job, job_scheduled, schedule_job
from doorstep.services.message_events import announce_message
from doorstep.services.segments import contact_in_segment
from doorstep.services.uow import UnitOfWork, unit_of_work
from doorstep.store import autoreplies as store
from doorstep.store import conversations as conversation_store
from doorstep.store import sites as site_store
from doorstep.store import visitors as visitor_store
from doorstep.store.conversations import WaitTimer

JOB_KIND = "autoreply"


def job_key(conversation_id: int) -> str:
    # The same key as a first message's statement gives its timer (store.conversations.WaitTimer).
    return f"{JOB_KIND}:{conversation_id}"


async def after_visitor_message(
    ctx: Ctx, uow: UnitOfWork, before: Conversation | None, after: Conversation
) -> None:
    """Start the timer when this message begins a wait for an answer.

    Messages written while the visitor already waits change nothing: the wait, and so the
    timer, started with the first of them. The timer is set for the first moment a rule could
    answer; when none can, there is none.
    """
    if after.operator_replied_at is not None:
        return
    if before is not None and before.last_message_author == "visitor":
        return
    rules = (await _cached_setup(ctx, uow.conn, after.site_id)).domain_rules()
    checks = first_checks(rules, uow.now)
    due = checks.if_nobody_online
    # Only a "nobody online" rule due at once depends on presence: look only then.
    if due != checks.if_online and await operators_online(ctx, uow.conn, after.site_id):
        due = checks.if_online
    if due is None:
        return
    await schedule_job(uow, JOB_KIND, job_key(after.id), due, {"conversation_id": after.id})


async def timer_of_new_conversation(
    ctx: Ctx, conn: AsyncConnection, site_id: int, now: datetime
) -> WaitTimer:
    """`after_visitor_message` for a conversation a visitor starts now, for the statement
    that starts it to set (store/conversations.py, `start_conversation_alone`): the due
    time with an operator online and without, and who is connected here to tell which."""
    checks = first_checks((await _cached_setup(ctx, conn, site_id)).domain_rules(), now)
    return WaitTimer(
        JOB_KIND,
        due_if_online=checks.if_online,
        due_if_nobody=checks.if_nobody_online,
        connected=ctx.presence.connected(),
    )


def timer_set(uow: UnitOfWork, conversation_id: int, due_at: datetime) -> None:
    """A new conversation's timer was stored with it: tell the workers."""
    job_scheduled(uow, job_key(conversation_id), due_at)


async def _cached_setup(ctx: Ctx, conn: AsyncConnection, site_id: int) -> SiteSetup:
    """The site's setup from this node's memory; read when missing or changed since."""
    setup: SiteSetup | None = ctx.autoreply_setups.get(site_id)
    if setup is None:
        site = await site_store.site_by_id(conn, site_id)
        assert site is not None
        setup = ctx.autoreply_setups[site_id] = await site_setup(conn, site)
    return setup


def setup_changed(uow: UnitOfWork, site_id: int) -> None:
    """Tell every node, once committed, that the site's schedules, rules or time zone changed."""
    uow.emit(Event(AUTOREPLY_SETUP_CHANGED, meta={"site_id": site_id}))


async def stop_waiting(uow: UnitOfWork, before: Conversation) -> None:
    """An operator answered or closed the conversation: no automatic reply is due any more."""
    if before.operator_replied_at is None:
        await cancel_job(uow, job_key(before.id))


@dataclass(frozen=True, slots=True)
class SiteSetup:
    site: Site
    schedules: list[StoredSchedule]
    rules: list[StoredRule]
    # The rules as `decide` takes them, built once: a setup is replaced, never changed.
    _domain_rules: list[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        forms = {s.id: s.form for s in self.schedules}
        rules = [rule.rule(forms, self.site.timezone) for rule in self.rules]
        object.__setattr__(self, "_domain_rules", rules)

    @property
    def hours(self) -> list[tuple[Schedule, bool]]:
        return [(s.form.schedule(self.site.timezone), s.form.staffed) for s in self.schedules]

    def domain_rules(self) -> list[Any]:
        return list(self._domain_rules)

    def stored(self, rule_id: int) -> StoredRule:
        return next(rule for rule in self.rules if rule.id == rule_id)

    def schedule_name(self, rule: StoredRule) -> str | None:
        for schedule in self.schedules:
            if schedule.id == rule.settings.schedule_id:
                return schedule.form.name
        return None


async def site_setup(conn: AsyncConnection, site: Site) -> SiteSetup:
    return SiteSetup(
        site,
        await store.schedules_of_site(conn, site.id),
        await store.rules_of_site(conn, site.id),
    )


async def operators_online(ctx: Ctx, conn: AsyncConnection, site_id: int) -> bool:
    """Whether a member of the site's team is online (`effective_status`)."""
    connected = ctx.presence.connected()
    if not connected:
        return False  # nobody has a console open here: no read needed
    return await site_store.team_online(conn, site_id, connected)


async def check_autoreply(ctx: Ctx, payload: dict[str, Any]) -> datetime | None:
    """Job `autoreply`: send the due reply, or return when to look again."""
    conversation_id = int(payload["conversation_id"])
    async with ctx.db.read() as conn:
        conversation = await conversation_store.conversation_by_id(conn, conversation_id)
        if conversation is None or conversation.status != "open":
            return None
        site = await site_store.site_by_id(conn, conversation.site_id)
        assert site is not None
        setup = await site_setup(conn, site)
        online = await operators_online(ctx, conn, site.id)
    segments = await _segments_of(ctx, conversation.contact_id, setup.rules)
    async with unit_of_work(ctx) as uow:
        conversation = await conversation_store.conversation_by_id(
            uow.conn, conversation_id, lock=True
        )
        if conversation is None or conversation.status != "open":
            return None
        contact = await visitor_store.contact_by_id(uow.conn, conversation.contact_id)
        assert contact is not None
        view = await _view(uow.conn, conversation, contact, online, segments)
        decision = decide(setup.domain_rules(), view, uow.now)
        if decision.send is not None:
            await _send(uow, setup, conversation, contact, decision, online)
        return decision.check_at


async def _segments_of(ctx: Ctx, contact_id: int, rules: list[StoredRule]) -> frozenset[int]:
    wanted = {r.settings.segment_id for r in rules if r.settings.segment_id and r.settings.enabled}
    return frozenset([s for s in wanted if await contact_in_segment(ctx, contact_id, s)])


async def _view(
    conn: AsyncConnection,
    conversation: Conversation,
    contact: Contact,
    online: bool,
    segments: frozenset[int],
) -> View:
    since = conversation.opened_at or conversation.created_at
    waiting_since = None
    for message in await conversation_store.public_messages_since(conn, conversation.id, since):
        if message.author.type == "visitor":
            waiting_since = waiting_since or message.created_at
        elif message.author.type == "operator" or _is_autoreply(message.meta):
            waiting_since = None  # answered; a later visitor message starts a new wait
    return View(
        waiting_since=waiting_since,
        operator_replied=conversation.operator_replied_at is not None,
        answered_automatically=False,  # an automatic reply ends the wait it answered
        operators_online=online,
        fired_rules=frozenset(await store.fired_rules(conn, conversation.id, since)),
        segments=segments,
        email_known=contact.email is not None,
    )


def _is_autoreply(meta: dict[str, Any] | None) -> bool:
    return bool(meta) and meta.get("kind") == "autoreply"  # type: ignore[union-attr]


async def _send(
    uow: UnitOfWork,
    setup: SiteSetup,
    conversation: Conversation,
    contact: Contact,
    decision: Decision,
    online: bool,
) -> None:
    assert decision.send is not None
    rule = setup.stored(decision.send.id)
    text = render_reply(setup, rule, contact, uow.now, online=online)
    meta = {
        "kind": "autoreply",
        "rule_id": rule.id,
        "ask_email": decision.ask_email,
        "email_hint": mask_email(contact.email)
        if rule.settings.ask_email and contact.email
        else None,
    }
    appended = await conversation_store.append_message(
        uow.conn,
        conversation,
        author=Author("system", None, setup.site.name),
        text=text,
        internal=False,
        client_msg_id=None,
        now=uow.now,
        meta=meta,
    )
    assert appended is not None, "no client_msg_id, so never a duplicate"
    message = appended.message
    await store.record_sent(
        uow.conn,
        site_id=conversation.site_id,
        conversation_id=conversation.id,
        contact_id=conversation.contact_id,
        message_id=message.id,
        rule_id=rule.id,
        rule_name=rule.settings.name,
        asked_email=decision.ask_email,
        created_at=uow.now,
    )
    announce_message(uow, appended)


def render_reply(
    setup: SiteSetup,
    rule: StoredRule,
    contact: Contact | None,
    now: datetime,
    *,
    online: bool,
    language: str | None = None,
    timezone: str | None = None,
    name: str | None = None,
) -> str:
    """A rule's text for this visitor, in their language and local time."""
    language = language or (contact.language if contact else None)
    timezone = timezone or (contact.timezone if contact else None)
    when = None if online else availability.next_available(setup.hours, now)
    phrase = availability.reply_time_phrase(
        when, now, language=language, timezone=timezone, fallback_timezone=setup.site.timezone
    )
    context = templating.template_context(
        contact_name=name or (contact.name if contact else None),
        contact_email=contact.email if contact else None,
        site_name=setup.site.name,
        schedule_name=setup.schedule_name(rule),
        next_available=phrase,
        team_online=online,
    )
    return templating.render(rule.settings.text_for(language), context)
