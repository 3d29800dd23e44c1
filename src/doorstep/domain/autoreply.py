"""Which automatic reply a waiting visitor gets, and when (docs/autoreplies.md).

A pure decision over a view of the conversation and the clock: `decide(rules, view, now)`
answers "send this rule's reply now", "look again at this instant", or nothing. The service
builds the view, executes the decision, and schedules a job for `check_at`; the job handler
decides again, so a reply that became unnecessary (an operator answered) is never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from doorstep.domain.schedules import Schedule, is_open

Condition = Literal["nobody_online", "nobody_replied"]


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    priority: int  # lower first
    condition: Condition
    timeout: timedelta
    text: str
    schedule: Schedule | None = None  # None: at any time
    segment_id: int | None = None  # None: every visitor
    ask_email: bool = False
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class View:
    """What the decision needs to know about one conversation, read in one go."""

    waiting_since: datetime | None  # the visitor's oldest message no one has answered yet
    operator_replied: bool  # an operator has written in this conversation
    answered_automatically: bool  # an automatic reply came after `waiting_since`
    operators_online: bool
    fired_rules: frozenset[int]  # rules that already replied in this conversation
    segments: frozenset[int]  # segments the contact belongs to
    email_known: bool


@dataclass(frozen=True, slots=True)
class Decision:
    send: Rule | None = None
    ask_email: bool = False
    check_at: datetime | None = None


NOTHING = Decision()


def applies(rule: Rule, view: View) -> bool:
    """Whether the rule is meant for this conversation as things stand."""
    if not rule.enabled or rule.id in view.fired_rules or view.waiting_since is None:
        return False
    if rule.segment_id is not None and rule.segment_id not in view.segments:
        return False
    if rule.schedule is not None and not is_open(rule.schedule, view.waiting_since):
        return False  # the schedule in force when the visitor wrote chooses the reply
    return (not view.operators_online) if rule.condition == "nobody_online" else True


def decide(rules: list[Rule], view: View, now: datetime) -> Decision:
    """The first rule by priority that applies replies once its timeout has passed.

    Never before the visitor has written, never once an operator has replied, never twice
    for the same waiting message, never the same rule twice in a conversation.
    """
    if view.waiting_since is None or view.operator_replied or view.answered_automatically:
        return NOTHING
    rule = choose(rules, view)
    if rule is None:
        return NOTHING
    assert view.waiting_since is not None
    due = view.waiting_since + rule.timeout
    if now >= due:
        return Decision(send=rule, ask_email=rule.ask_email and not view.email_known)
    return Decision(check_at=due)


@dataclass(frozen=True, slots=True)
class FirstChecks:
    """When to look first at a wait that starts now, with operators online and with nobody
    online; None when no rule can answer it.

    A rule whose schedule is not in force when the visitor writes never answers this wait
    (see `applies`), nor does a "nobody online" rule due at once while operators are online:
    it is judged now. What can change meanwhile (presence, segments) is left to `decide`.
    """

    if_online: datetime | None
    if_nobody_online: datetime | None


def first_checks(rules: list[Rule], waiting_since: datetime) -> FirstChecks:
    """`FirstChecks` for a wait that starts at `waiting_since`, each schedule looked at
    once."""
    if_online: datetime | None = None
    if_nobody: datetime | None = None
    for rule in rules:
        if not rule.enabled or (
            rule.schedule is not None and not is_open(rule.schedule, waiting_since)
        ):
            continue
        due = waiting_since + rule.timeout
        if if_nobody is None or due < if_nobody:
            if_nobody = due
        # Judged now, and not answering while operators are online.
        if rule.condition == "nobody_online" and not rule.timeout:
            continue
        if if_online is None or due < if_online:
            if_online = due
    return FirstChecks(if_online, if_nobody)


def choose(rules: list[Rule], view: View) -> Rule | None:
    """The rule that answers this conversation: the first by priority that applies."""
    for rule in sorted(rules, key=lambda r: (r.priority, r.id)):
        if applies(rule, view):
            return rule
    return None
