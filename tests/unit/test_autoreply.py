"""The automatic-reply decision: exact timers, one reply, never after an operator."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.autoreply import (
    NOTHING,
    Rule,
    View,
    applies,
    decide,
    first_checks,
)
from doorstep.domain.schedules import Schedule, WeeklyRange, is_open

WROTE = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)  # a Monday
OFFICE = Schedule("UTC", tuple(WeeklyRange(d, 9 * 60, 18 * 60) for d in range(5)))
AFTER_HOURS = Schedule("UTC", tuple(WeeklyRange(d, 18 * 60, 9 * 60) for d in range(7)))
WORKING = Rule(
    1, 1, "nobody_replied", timedelta(seconds=60), "We'll be right with you", schedule=OFFICE
)
NIGHT = Rule(
    2, 2, "nobody_online", timedelta(0), "We're back at 9:00", schedule=AFTER_HOURS, ask_email=True
)


def view(**changes) -> View:
    values = dict(
        waiting_since=WROTE,
        operator_replied=False,
        answered_automatically=False,
        operators_online=True,
        fired_rules=frozenset(),
        segments=frozenset(),
        email_known=False,
    )
    values.update(changes)
    return View(**values)


def test_nothing_before_the_visitor_writes() -> None:
    assert decide([WORKING, NIGHT], view(waiting_since=None), WROTE) == NOTHING


def test_the_timer_is_set_for_the_exact_moment_and_fires_then() -> None:
    assert decide([WORKING], view(), WROTE).check_at == WROTE + timedelta(seconds=60)
    assert decide([WORKING], view(), WROTE + timedelta(seconds=59)).send is None
    fired = decide([WORKING], view(), WROTE + timedelta(seconds=60))
    assert fired.send == WORKING and fired.ask_email is False


def test_an_operator_reply_cancels_the_pending_reply() -> None:
    assert decide([WORKING], view(operator_replied=True), WROTE + timedelta(hours=1)) == NOTHING


def test_the_schedule_in_force_when_the_visitor_wrote_chooses_the_rule() -> None:
    at_night = WROTE.replace(hour=23)
    decision = decide(
        [WORKING, NIGHT], view(waiting_since=at_night, operators_online=False), at_night
    )
    assert decision.send == NIGHT and decision.ask_email is True


def test_the_email_is_asked_for_only_when_unknown() -> None:
    at_night = WROTE.replace(hour=23)
    decision = decide(
        [NIGHT], view(waiting_since=at_night, operators_online=False, email_known=True), at_night
    )
    assert decision.send == NIGHT and decision.ask_email is False


def test_a_rule_for_nobody_online_waits_while_someone_is() -> None:
    at_night = WROTE.replace(hour=23)
    assert decide([NIGHT], view(waiting_since=at_night, operators_online=True), at_night) == NOTHING


def test_segments_choose_between_replies() -> None:
    vip = Rule(
        3, 0, "nobody_replied", timedelta(seconds=10), "A specialist is on the way", segment_id=7
    )
    assert decide([vip, WORKING], view(segments=frozenset({7})), WROTE).check_at == (
        WROTE + timedelta(seconds=10)
    )
    assert decide([vip, WORKING], view(), WROTE).check_at == WROTE + timedelta(seconds=60)


rules = st.lists(
    st.builds(
        Rule,
        id=st.integers(1, 6),
        priority=st.integers(0, 3),
        condition=st.sampled_from(["nobody_online", "nobody_replied"]),
        timeout=st.integers(0, 600).map(lambda s: timedelta(seconds=s)),
        text=st.just("x"),
        schedule=st.sampled_from([None, OFFICE, AFTER_HOURS]),
        segment_id=st.sampled_from([None, 1]),
        ask_email=st.booleans(),
        enabled=st.booleans(),
    ),
    max_size=5,
)
views = st.builds(
    View,
    waiting_since=st.sampled_from([None, WROTE, WROTE.replace(hour=22)]),
    operator_replied=st.booleans(),
    answered_automatically=st.booleans(),
    operators_online=st.booleans(),
    fired_rules=st.frozensets(st.integers(1, 6), max_size=3),
    segments=st.frozensets(st.just(1)),
    email_known=st.booleans(),
)


@given(rules, views, st.integers(0, 3600))
def test_the_promises_hold_for_any_rules(rule_list, v, seconds) -> None:
    now = (v.waiting_since or WROTE) + timedelta(seconds=seconds)
    decision = decide(rule_list, v, now)
    if v.waiting_since is None or v.operator_replied or v.answered_automatically:
        assert decision == NOTHING
    if decision.send is not None:
        assert decision.send.id not in v.fired_rules and decision.send.enabled
        assert now >= v.waiting_since + decision.send.timeout
        assert not (decision.ask_email and v.email_known)
    if decision.check_at is not None:
        assert decision.check_at > now and decision.send is None


def test_the_first_check_is_the_first_moment_a_rule_can_answer() -> None:
    at_night = WROTE.replace(hour=23)
    assert first_checks([WORKING, NIGHT], WROTE).if_online == WROTE + WORKING.timeout
    assert first_checks([WORKING, NIGHT], at_night).if_nobody_online == at_night
    # At night the office rule is out, and "nobody online at once" is judged now: no timer.
    assert first_checks([WORKING, NIGHT], at_night).if_online is None
    # Presence may change before a later timeout: that rule still sets the timer.
    later = replace(NIGHT, timeout=timedelta(minutes=5))
    assert first_checks([later], at_night).if_online == at_night + later.timeout
    assert first_checks([replace(WORKING, enabled=False)], WROTE).if_online is None


def numbered_rules(timeouts: list[int], conditions: list[str], schedules: list) -> list[Rule]:
    """Rule n has the nth timeout (seconds), condition and schedule, and priority n."""
    return [
        Rule(n, n, conditions[n], timedelta(seconds=t), "hi", schedule=schedules[n])  # type: ignore[arg-type]
        for n, t in enumerate(timeouts)
    ]


@given(
    timeouts=st.lists(st.integers(0, 3600), min_size=1, max_size=4),
    conditions=st.lists(st.sampled_from(["nobody_online", "nobody_replied"]), min_size=4),
    schedules=st.lists(st.sampled_from([None, OFFICE, AFTER_HOURS]), min_size=4),
    minute=st.integers(0, 7 * 24 * 60 - 1),
    online=st.booleans(),
)
def test_the_first_check_never_comes_after_a_rule_that_applies_is_due(
    timeouts, conditions, schedules, minute, online
) -> None:
    rules = numbered_rules(timeouts, conditions, schedules)
    wrote = WROTE + timedelta(minutes=minute)
    checks = first_checks(rules, wrote)
    check = checks.if_online if online else checks.if_nobody_online
    for rule in rules:
        # Presence judged at the rule's due time: the same as now for a rule due at once,
        # either way for a later one.
        for online_then in {online} if not rule.timeout else {True, False}:
            if applies(rule, view(waiting_since=wrote, operators_online=online_then)):
                assert check is not None and check <= wrote + rule.timeout


@given(
    timeouts=st.lists(st.sampled_from([0, 30, 60, 300]), min_size=4, max_size=4),
    conditions=st.lists(st.sampled_from(["nobody_online", "nobody_replied"]), min_size=4),
    schedules=st.lists(st.sampled_from([None, OFFICE, AFTER_HOURS]), min_size=4),
    enabled=st.lists(st.booleans(), min_size=4),
    minute=st.integers(0, 7 * 24 * 60 - 1),
)
def test_first_checks_are_the_first_check_with_and_without_operators_online(
    timeouts, conditions, schedules, enabled, minute
) -> None:
    rules = numbered_rules(timeouts, conditions, schedules)
    rules = [replace(rule, enabled=on) for rule, on in zip(rules, enabled, strict=False)]
    wrote = WROTE + timedelta(minutes=minute)
    due = [
        wrote + rule.timeout
        for rule in rules
        if rule.enabled and (rule.schedule is None or is_open(rule.schedule, wrote))
    ]
    quiet = [
        wrote + rule.timeout
        for rule in rules
        if rule.enabled
        and (rule.schedule is None or is_open(rule.schedule, wrote))
        and not (rule.condition == "nobody_online" and not rule.timeout)
    ]
    checks = first_checks(rules, wrote)
    assert checks.if_nobody_online == min(due, default=None)
    assert checks.if_online == min(quiet, default=None)
