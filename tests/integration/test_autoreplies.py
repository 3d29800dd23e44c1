"""Automatic replies end to end through the services: timers, cancelling, restarts, email."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from doorstep.bus.local import LocalBus
from doorstep.errors import InvalidInput
from doorstep.jobs.handlers import HANDLERS
from doorstep.jobs.worker import Worker
from doorstep.services import (
    autoreplies,
    autoreply_settings,
    conversations,
    email_capture,
    operators,
    privacy,
    sites,
    visitors,
)
from doorstep.services.context import build_ctx
from doorstep.services.jobs import JOB_SCHEDULED
from doorstep.store import conversations as conversation_store
from doorstep.store import jobs as job_store
from tests.factories import Factory, proven
from tests.wsclient import open_visitor

# The test clock starts on Monday 2026-01-05 10:00 UTC: working hours in a UTC site.
MONDAY_10 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


async def only_rule(ctx, factory: Factory, **fields):
    """A site whose single rule is the one given (the defaults removed)."""
    site = await factory.site()
    admin = await factory.operator(site, role="admin")
    for rule in await autoreply_settings.list_rules(ctx, admin, site.id):
        await autoreply_settings.delete_rule(ctx, admin, rule.id)
    data = {
        "name": "Test rule",
        "condition": "nobody_online",
        "timeout_seconds": 30,
        "text": "Hi{% if contact.first_name %} {{ contact.first_name }}{% endif %}! "
        "We answer {{ next_available }}.",
        "ask_email": True,
        **fields,
    }
    rule = await autoreply_settings.create_rule(ctx, admin, site.id, data)
    return site, admin, rule


async def messages_of(ctx, visitor):
    _conversation, found = await conversations.visitor_messages_after(ctx, visitor, 0)
    return found


def system(found):
    return [m for m in found if m.author.type == "system"]


async def test_a_new_site_has_the_default_schedules_and_rules(ctx, factory: Factory) -> None:
    site = await factory.site()
    admin = await factory.operator(site, role="admin")
    schedules = await autoreply_settings.list_schedules(ctx, admin, site.id)
    assert [s.schedule.form.name for s in schedules] == [
        "Working hours",
        "Lunch",
        "Night",
        "Weekend",
    ]
    rules = await autoreply_settings.list_rules(ctx, admin, site.id)
    by_name = {r.settings.name: r.settings for r in rules}
    assert by_name["Working hours"].timeout_seconds == 60
    assert by_name["Working hours"].condition == "nobody_replied"
    assert by_name["Night"].timeout_seconds == 0 and by_name["Weekend"].timeout_seconds == 0
    assert all(r.ask_email for r in by_name.values())


async def test_the_reply_comes_exactly_at_the_timeout_and_asks_for_the_email(
    ctx, clock, factory: Factory
) -> None:
    site, _admin, rule = await only_rule(ctx, factory)
    visitor = await factory.visitor(site)
    worker = Worker(ctx, HANDLERS)
    await conversations.send_visitor_message(ctx, visitor, text="Anyone?", client_msg_id="m1")
    assert system(await messages_of(ctx, visitor)) == []  # never before the timeout
    clock.advance(seconds=29)
    await worker.run_due()
    assert system(await messages_of(ctx, visitor)) == []
    clock.advance(seconds=1)
    await worker.run_due()
    (reply,) = system(await messages_of(ctx, visitor))
    assert reply.text == "Hi! We answer in a few minutes." or "We answer" in reply.text
    assert reply.meta == {
        "kind": "autoreply",
        "rule_id": rule.id,
        "ask_email": True,
        "email_hint": None,
    }
    assert reply.created_at == MONDAY_10 + timedelta(seconds=30)


async def test_no_reply_before_the_visitor_writes_and_one_per_rule(
    ctx, clock, factory: Factory
) -> None:
    site, _admin, _rule = await only_rule(ctx, factory, timeout_seconds=0)
    visitor = await factory.visitor(site)
    worker = Worker(ctx, HANDLERS)
    assert await worker.run_due() == 0
    await conversations.send_visitor_message(ctx, visitor, text="One", client_msg_id="m1")
    await worker.run_due()
    clock.advance(minutes=5)
    await conversations.send_visitor_message(ctx, visitor, text="Two", client_msg_id="m2")
    clock.advance(minutes=5)
    await worker.run_due()
    assert len(system(await messages_of(ctx, visitor))) == 1


async def test_an_operator_reply_cancels_the_pending_reply(ctx, clock, factory: Factory) -> None:
    site, admin, _rule = await only_rule(ctx, factory)
    visitor = await factory.visitor(site)
    sent = await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="m1")
    async with ctx.db.read() as conn:
        assert [j["key"] for j in await job_store.pending(conn)] == [
            autoreplies.job_key(sent.conversation.id)
        ]
    clock.advance(seconds=10)
    await conversations.send_operator_message(
        ctx, admin, sent.conversation.id, text="Hello!", client_msg_id="o1"
    )
    async with ctx.db.read() as conn:
        assert [j["key"] for j in await job_store.pending(conn)] == []
    clock.advance(minutes=10)
    await conversations.send_visitor_message(ctx, visitor, text="Thanks", client_msg_id="m2")
    clock.advance(minutes=10)
    await Worker(ctx, HANDLERS).run_due()
    assert system(await messages_of(ctx, visitor)) == []  # none once an operator replied


async def test_an_internal_note_does_not_cancel_it(ctx, clock, factory: Factory) -> None:
    site, admin, _rule = await only_rule(ctx, factory)
    visitor = await factory.visitor(site)
    sent = await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="m1")
    await conversations.send_operator_message(
        ctx, admin, sent.conversation.id, text="VIP", client_msg_id="n1", internal=True
    )
    clock.advance(seconds=30)
    await Worker(ctx, HANDLERS).run_due()
    assert len(system(await messages_of(ctx, visitor))) == 1


async def test_a_restart_mid_timeout_fires_exactly_once(
    ctx, clock, settings, factory: Factory
) -> None:
    site, _admin, _rule = await only_rule(ctx, factory)
    visitor = await factory.visitor(site)
    await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="m1")
    clock.advance(seconds=15)
    await ctx.db.dispose()  # the process stops; the timer lives in the database

    restarted = build_ctx(settings, clock=clock, bus=LocalBus(wire_check=True))
    try:
        clock.advance(seconds=15)
        worker = Worker(restarted, HANDLERS)
        assert await worker.run_due() == 1
        assert await worker.run_due() == 0
        clock.advance(hours=1)
        assert await worker.run_due() == 0
        assert len(system(await messages_of(restarted, visitor))) == 1
    finally:
        await restarted.db.dispose()


async def test_a_job_run_again_after_a_crash_sends_nothing_twice(
    ctx, clock, factory: Factory
) -> None:
    site, _admin, _rule = await only_rule(ctx, factory)
    visitor = await factory.visitor(site)
    sent = await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="m1")
    clock.advance(seconds=30)
    payload = {"conversation_id": sent.conversation.id}
    # The worker died after sending but before marking the job done: it runs again.
    assert await autoreplies.check_autoreply(ctx, payload) is None
    assert await autoreplies.check_autoreply(ctx, payload) is None
    assert len(system(await messages_of(ctx, visitor))) == 1


async def test_nobody_online_rules_wait_for_a_rule_that_fits_when_operators_are_on(
    ctx, clock, factory: Factory
) -> None:
    site, admin, _rule = await only_rule(ctx, factory, timeout_seconds=0)
    await autoreply_settings.create_rule(
        ctx,
        admin,
        site.id,
        {
            "name": "Busy",
            "condition": "nobody_replied",
            "timeout_seconds": 120,
            "text": "Busy, sorry!",
        },
    )
    await operators.connect_console(ctx, admin)
    visitor = await factory.visitor(site)
    worker = Worker(ctx, HANDLERS)
    await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="m1")
    await worker.run_due()
    assert system(await messages_of(ctx, visitor)) == []
    clock.advance(seconds=119)
    await worker.run_due()
    assert system(await messages_of(ctx, visitor)) == []
    clock.advance(seconds=1)
    await worker.run_due()
    assert [m.text for m in system(await messages_of(ctx, visitor))] == ["Busy, sorry!"]


async def test_the_timer_is_set_for_the_first_rule_that_can_answer_or_not_at_all(
    ctx, clock, factory: Factory
) -> None:
    # The default rules of a UTC site on Monday at 10:00: working hours (60 s) are in force,
    # the night, lunch and weekend rules ("nobody online", at once) are not.
    site = await factory.site()
    admin = await factory.operator(site, role="admin")
    await operators.connect_console(ctx, admin)
    visitor = await factory.visitor(site)
    await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="m1")
    async with ctx.db.read() as conn:
        (job,) = await job_store.pending(conn)
    assert job["due_at"] == MONDAY_10 + timedelta(seconds=60)
    # At 23:00 only the night rule is in force, and operators are online: nothing can answer
    # this wait, so no timer is set (and no job wakes for nothing).
    clock.set(MONDAY_10.replace(hour=23))
    night_visitor = await factory.visitor(site)
    await conversations.send_visitor_message(ctx, night_visitor, text="Hi", client_msg_id="m2")
    async with ctx.db.read() as conn:
        assert [j["key"] for j in await job_store.pending(conn)] == [job["key"]]


async def test_a_changed_rule_sets_the_next_timer_at_once(ctx, factory: Factory) -> None:
    site, admin, rule = await only_rule(ctx, factory, condition="nobody_replied")
    first, second = await factory.visitor(site), await factory.visitor(site)
    await conversations.send_visitor_message(ctx, first, text="Hi", client_msg_id="m1")
    await autoreply_settings.update_rule(ctx, admin, rule.id, {"timeout_seconds": 90})
    await conversations.send_visitor_message(ctx, second, text="Hi", client_msg_id="m2")
    async with ctx.db.read() as conn:
        due = sorted(job["due_at"] for job in await job_store.pending(conn))
    assert due == [MONDAY_10 + timedelta(seconds=30), MONDAY_10 + timedelta(seconds=90)]
    # A disabled rule sets no timer.
    await autoreply_settings.update_rule(ctx, admin, rule.id, {"enabled": False})
    third = await factory.visitor(site)
    await conversations.send_visitor_message(ctx, third, text="Hi", client_msg_id="m3")
    async with ctx.db.read() as conn:
        assert len(await job_store.pending(conn)) == 2


async def test_a_new_time_zone_sets_the_next_timer_by_its_hours(ctx, factory: Factory) -> None:
    site = await factory.site()  # UTC: Monday 10:00 is working hours (a 60 s rule)
    admin = await factory.operator(site, role="admin")
    first, second = await factory.visitor(site), await factory.visitor(site)
    await conversations.send_visitor_message(ctx, first, text="Hi", client_msg_id="m1")
    # In Tokyo it is 19:00: the night rule answers at once, nobody being online.
    await sites.update_site(ctx, admin, site.id, {"timezone": "Asia/Tokyo"})
    await conversations.send_visitor_message(ctx, second, text="Hi", client_msg_id="m2")
    async with ctx.db.read() as conn:
        due = sorted(job["due_at"] for job in await job_store.pending(conn))
    assert due == [MONDAY_10, MONDAY_10 + timedelta(seconds=60)]


async def test_the_schedule_in_force_when_the_visitor_wrote_chooses_the_reply(
    ctx, clock, factory: Factory
) -> None:
    site = await factory.site(timezone="Europe/Berlin")
    visitor = await factory.visitor(site)
    worker = Worker(ctx, HANDLERS)
    clock.set(datetime(2026, 1, 10, 15, 0, tzinfo=UTC))  # Saturday afternoon in Berlin
    await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="m1")
    await worker.run_due()
    (reply,) = system(await messages_of(ctx, visitor))
    assert "weekend" in reply.text
    assert "on Monday at 9:00" in reply.text


async def test_a_resolved_and_reopened_conversation_is_answered_afresh(
    ctx, clock, factory: Factory
) -> None:
    site, admin, _rule = await only_rule(ctx, factory)
    visitor = await factory.visitor(site)
    worker = Worker(ctx, HANDLERS)
    sent = await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="m1")
    await conversations.send_operator_message(
        ctx, admin, sent.conversation.id, text="Hello", client_msg_id="o1"
    )
    await conversations.set_conversation_status(ctx, admin, sent.conversation.id, "resolved")
    clock.advance(days=3)
    await conversations.send_visitor_message(ctx, visitor, text="Back again", client_msg_id="m2")
    clock.advance(seconds=30)
    await worker.run_due()
    assert len(system(await messages_of(ctx, visitor))) == 1


async def test_a_known_email_is_never_asked_for_and_shown_masked(
    ctx, clock, factory: Factory
) -> None:
    site, _admin, rule = await only_rule(ctx, factory)
    visitor = await factory.visitor(site)
    await visitors.identify_visitor(ctx, visitor, {"email": "jane@example.com", "name": "Jane"})
    await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="m1")
    clock.advance(seconds=30)
    await Worker(ctx, HANDLERS).run_due()
    (reply,) = system(await messages_of(ctx, visitor))
    assert reply.text.startswith("Hi Jane!")
    assert reply.meta == {
        "kind": "autoreply",
        "rule_id": rule.id,
        "ask_email": False,
        "email_hint": "j***@example.com",
    }


async def test_an_email_left_in_the_chat_identifies_the_contact_and_is_a_lead(
    ctx, clock, factory: Factory
) -> None:
    site, admin, rule = await only_rule(ctx, factory)
    visitor = await factory.visitor(site)
    await conversations.send_visitor_message(ctx, visitor, text="Hi", client_msg_id="m1")
    clock.advance(seconds=30)
    await Worker(ctx, HANDLERS).run_due()

    with pytest.raises(InvalidInput) as refused:
        await email_capture.capture_email(ctx, visitor, email="not an email", client_msg_id="e0")
    assert refused.value.code == "invalid_email"
    assert len(await messages_of(ctx, visitor)) == 2  # nothing changed

    captured = await email_capture.capture_email(
        ctx, visitor, email="Sam@Example.com", client_msg_id="e1"
    )
    again = await email_capture.capture_email(
        ctx, visitor, email="Sam@Example.com", client_msg_id="e1"
    )
    assert captured.email_hint == again.email_hint == "s***@example.com"
    assert captured.contact.email == "sam@example.com"
    found = await messages_of(ctx, visitor)
    assert [m.meta["kind"] for m in system(found)] == ["autoreply", "email_captured"]
    report = await autoreply_settings.list_sent(ctx, admin, site.id)
    (row,) = report["data"]
    assert row["lead"]["email"] == "sam@example.com"
    assert report["counts"] == [{"rule_id": rule.id, "name": "Test rule", "replies": 1, "leads": 1}]
    exported = await privacy.export_contact(ctx, admin, captured.contact.id)
    assert [lead["email"] for lead in exported["leads"]] == ["sam@example.com"]


async def test_once_known_the_email_is_not_asked_for_on_another_device(
    ctx, clock, factory: Factory
) -> None:
    site, admin, _rule = await only_rule(ctx, factory)
    laptop = await factory.visitor(site)
    await visitors.identify_visitor(ctx, laptop, proven(site, email="kim@example.com"))
    phone = await factory.visitor(site)
    sent = await conversations.send_visitor_message(ctx, phone, text="Hi", client_msg_id="m1")
    clock.advance(seconds=30)
    await Worker(ctx, HANDLERS).run_due()
    captured = await email_capture.capture_email(ctx, phone, email="kim@example.com")
    # Typed, the address is a claim: it stays on the phone's own contact.
    assert captured.contact.id == phone.contact_id
    signed_in = await visitors.identify_visitor(ctx, phone, proven(site, email="kim@example.com"))
    # Proven, the phone's contact (its own alone) joins the laptop's: one person, one history.
    assert signed_in.contact.id == laptop.contact_id
    await conversations.set_conversation_status(ctx, admin, sent.conversation.id, "resolved")
    clock.advance(days=2)
    await conversations.send_visitor_message(ctx, laptop, text="Later", client_msg_id="m2")
    clock.advance(seconds=30)
    await Worker(ctx, HANDLERS).run_due()
    *_, latest = [
        m for m in system(await messages_of(ctx, laptop)) if m.meta["kind"] == "autoreply"
    ]
    assert latest.meta["ask_email"] is False
    assert latest.meta["email_hint"] == "k***@example.com"


async def test_the_widget_socket_leaves_an_email_or_says_what_is_wrong(
    server, ctx, factory: Factory
) -> None:
    site = await factory.site()
    visitor, token = await open_visitor(server.url, site.key)
    assert (await visitor.next("ready"))["email_known"] is False
    await visitor.send({"type": "message.send", "client_msg_id": "m1", "text": "Hi"})
    await visitor.next("message.ack")
    await visitor.send({"type": "email.submit", "client_msg_id": "e1", "email": "nope@"})
    error = await visitor.next("error")
    assert (error["code"], error["client_msg_id"]) == ("invalid_email", "e1")
    await visitor.send({"type": "email.submit", "client_msg_id": "e2", "email": "ann@example.com"})
    # The confirmation is published on commit, so it comes before the answer.
    confirmation = await visitor.next("message.created")
    assert confirmation["message"]["meta"] == {
        "kind": "email_captured",
        "email_hint": "a***@example.com",
    }
    accepted = await visitor.next("email.accepted")
    assert accepted == {
        "type": "email.accepted",
        "client_msg_id": "e2",
        "email_hint": "a***@example.com",
    }
    await visitor.close()
    again, _ = await open_visitor(server.url, site.key, token)
    assert (await again.next("ready"))["email_known"] is True
    await again.close()


async def test_a_message_sent_the_quick_way_does_what_the_whole_way_does(
    ctx, clock, factory: Factory, events, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two visitors go through the same steps: one the whole way every time, in a
    transaction; the other as a widget's socket sends, where on PostgreSQL a first message,
    and a message that continues a conversation, are one statement. What each step stores,
    schedules and announces is the same, and the quick way is taken exactly where it can."""
    site, admin, _rule = await only_rule(ctx, factory)
    whole, quick = await factory.visitor(site), await factory.visitor(site)
    worker = Worker(ctx, HANDLERS)
    alone: list[bool] = []
    for name in ("continue_conversation", "start_conversation_alone"):
        real = getattr(conversation_store, name)

        async def spy(*args, real=real, **kwargs):
            result = await real(*args, **kwargs)
            alone.append(result is not None)
            return result

        monkeypatch.setattr(conversation_store, name, spy)
    scheduled: list[str] = []

    async def wakeup(published) -> None:
        scheduled.extend(e.meta["due_at"] for e in published if e.type == JOB_SCHEDULED)

    ctx.bus.subscribe(wakeup)
    one_statement = ctx.db.writes_in_one_statement
    has_conversation = False  # what the quick visitor's socket knows

    async def observe(visitor, message) -> tuple[object, ...]:
        nonlocal has_conversation
        alone.clear()
        events.clear()
        scheduled.clear()
        ctx.db.writes_in_one_statement = one_statement and visitor is quick
        sent = await conversations.send_visitor_message(
            ctx, visitor, **message, has_conversation=has_conversation and visitor is quick
        )
        ctx.db.writes_in_one_statement = one_statement
        has_conversation = has_conversation or visitor is quick
        conversation = sent.conversation
        (listed,) = [
            s
            for s in await conversations.list_conversations(ctx, admin)
            if s.conversation.id == conversation.id
        ]
        async with ctx.db.read() as conn:
            jobs = [
                (
                    j["kind"],
                    j["payload"] == {"conversation_id": conversation.id},
                    j["due_at"] - clock.now(),
                )
                for j in await job_store.pending(conn)
                if j["key"] == autoreplies.job_key(conversation.id)
            ]
        announced = [e for e in events if e.type.startswith("conversation.")][-1:]
        return (
            (sent.message.seq, sent.message.text, sent.created),
            (conversation.status, conversation.last_seq, conversation.last_message_author),
            conversation.operator_replied_at is None,
            listed.unread,
            [a.operator_frame["conversation"] == listed.public() for a in announced],
            jobs,
            [e.type for e in events],
            scheduled[:],
            any(alone),
        )

    quick_way: list[bool] = []

    async def step(**message: str) -> None:
        seen = [await observe(visitor, message) for visitor in (whole, quick)]
        quick_way.append(seen[1][-1])
        assert seen[0][:-1] == seen[1][:-1]

    async def both(action) -> None:
        for visitor in (whole, quick):
            conversation = await conversations.visitor_conversation(ctx, visitor)
            await action(conversation.id)

    await step(text="a", client_msg_id="1")  # first message: a wait starts
    await step(text="b", client_msg_id="2")  # the wait goes on
    await step(text="b", client_msg_id="2")  # a retry
    clock.advance(seconds=30)
    await worker.run_due()  # the automatic reply
    await step(text="c", client_msg_id="3")  # after it: a new wait
    await both(
        lambda cid: conversations.send_operator_message(
            ctx, admin, cid, text="Hello", client_msg_id=f"o{cid}"
        )
    )
    await step(text="d", client_msg_id="4")  # an operator has answered
    await both(lambda cid: conversations.set_conversation_status(ctx, admin, cid, "resolved"))
    await step(text="e", client_msg_id="5")  # reopens
    assert quick_way == [one_statement, one_statement, False, False, one_statement, False]


async def test_online_means_a_member_of_the_team_with_a_console_open_and_online(
    ctx, factory: Factory
) -> None:
    """The presence that decides "nobody online" rules is `effective_status` over the team:
    the statement-level check (one query, or none with no console open) says the same."""
    site, elsewhere = await factory.site(), await factory.site()
    member, away, outsider = (
        await factory.operator(site),
        await factory.operator(site),
        await factory.operator(elsewhere),
    )
    away = await operators.set_presence(ctx, away, "away")

    async def online() -> bool:
        async with ctx.db.read() as conn:
            said = await autoreplies.operators_online(ctx, conn, site.id)
            team = await sites.site_team(ctx, site.id)
        assert said == any(operators.effective_status(ctx, m) == "online" for m in team)
        return said

    assert not await online()  # no console open on this node
    await operators.connect_console(ctx, outsider)
    assert not await online()  # online, but on another site's team
    await operators.connect_console(ctx, away)
    assert not await online()  # connected, but away
    await operators.connect_console(ctx, member)
    assert await online()
    await operators.disconnect_console(ctx, member)
    assert not await online()
