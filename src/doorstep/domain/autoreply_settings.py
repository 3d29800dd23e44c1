"""Automatic-reply rules and schedules as a site stores them, and the checks made on saving.

Everything that could fail when a reply is sent (a template that does not compile, an unknown
time zone, overlapping hours) is refused here, at save time (docs/autoreplies.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from doorstep.domain.autoreply import Rule
from doorstep.domain.models import MAX_ID, iso
from doorstep.domain.schedule_forms import ScheduleForm, check_name
from doorstep.domain.templating import check_template
from doorstep.errors import InvalidInput

CONDITIONS = ("nobody_online", "nobody_replied")
MAX_TIMEOUT = 86_400
MAX_TRANSLATIONS = 20
MAX_RULES_PER_SITE = 100
MAX_SCHEDULES_PER_SITE = 50


@dataclass(frozen=True, slots=True)
class StoredSchedule:
    id: int
    site_id: int
    form: ScheduleForm
    created_at: datetime
    updated_at: datetime

    def public(self, timezone: str, *, open_now: bool, next_change: datetime | None) -> dict:
        return {
            "id": self.id,
            "site_id": self.site_id,
            **self.form.public(),
            "timezone": timezone,
            "open_now": open_now,
            "next_change": iso(next_change),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """What an editor sets on a rule."""

    name: str
    priority: int
    enabled: bool
    schedule_id: int | None
    condition: str
    timeout_seconds: int
    text: str
    translations: dict[str, str] = field(default_factory=dict)
    segment_id: int | None = None
    ask_email: bool = False

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "priority": self.priority,
            "enabled": self.enabled,
            "schedule_id": self.schedule_id,
            "condition": self.condition,
            "timeout_seconds": self.timeout_seconds,
            "text": self.text,
            "translations": dict(self.translations),
            "segment_id": self.segment_id,
            "ask_email": self.ask_email,
        }

    def text_for(self, language: str | None) -> str:
        """The text in the visitor's language when the rule has it, else the main text."""
        if language:
            lang = language.lower()
            for key in (lang, lang.split("-")[0]):
                if key in self.translations:
                    return self.translations[key]
        return self.text


@dataclass(frozen=True, slots=True)
class StoredRule:
    id: int
    site_id: int
    settings: RuleSettings
    created_at: datetime
    updated_at: datetime

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "site_id": self.site_id,
            **self.settings.public(),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }

    def rule(self, schedules: dict[int, ScheduleForm], timezone: str) -> Rule:
        """The pure rule that `decide` evaluates."""
        s = self.settings
        schedule = schedules[s.schedule_id].schedule(timezone) if s.schedule_id else None
        return Rule(
            id=self.id,
            priority=s.priority,
            condition=s.condition,  # type: ignore[arg-type]
            timeout=timedelta(seconds=s.timeout_seconds),
            text=s.text,
            schedule=schedule,
            segment_id=s.segment_id,
            ask_email=s.ask_email,
            enabled=s.enabled,
        )


def parse_rule(data: dict[str, Any]) -> RuleSettings:
    condition = data.get("condition")
    if condition not in CONDITIONS:
        raise InvalidInput("condition is nobody_online or nobody_replied", code="invalid_condition")
    timeout = data.get("timeout_seconds")
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 0 <= timeout <= MAX_TIMEOUT:
        raise InvalidInput(
            f"timeout_seconds is a whole number from 0 to {MAX_TIMEOUT}", code="invalid_timeout"
        )
    priority = data.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or abs(priority) > 1_000_000:
        raise InvalidInput("priority is a whole number", code="invalid_priority")
    return RuleSettings(
        name=check_name(data.get("name")),
        priority=priority,
        enabled=bool(data.get("enabled", True)),
        schedule_id=_optional_id(data.get("schedule_id"), "schedule_id"),
        condition=condition,
        timeout_seconds=timeout,
        text=check_template(data.get("text")),
        translations=_translations(data.get("translations") or {}),
        segment_id=_optional_id(data.get("segment_id"), "segment_id"),
        ask_email=bool(data.get("ask_email", False)),
    )


def _optional_id(value: object, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_ID:
        raise InvalidInput(f"{name} is an id or null", code=f"invalid_{name}")
    return value


def _translations(value: object) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_TRANSLATIONS:
        raise InvalidInput(
            f"translations map at most {MAX_TRANSLATIONS} language codes to texts",
            code="invalid_translations",
        )
    checked = {}
    for language, text in value.items():
        code = str(language).lower()
        if not 2 <= len(code) <= 8 or not all(part.isalnum() for part in code.split("-")):
            raise InvalidInput(
                f"{str(language)[:10]!r} is not a language code such as ja or pt-br",
                code="invalid_translations",
            )
        try:
            checked[code] = check_template(text)
        except InvalidInput as exc:
            raise InvalidInput(f"{code}: {exc.message}", code=exc.code) from None
    return checked
