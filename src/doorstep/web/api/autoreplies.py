"""/api/v1/schedules, /api/v1/autoreply-rules, /api/v1/autoreplies (docs/autoreplies.md)"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from doorstep.services import autoreply_settings as settings
from doorstep.web.deps import CtxDep, CurrentOperator, Id, LocalMoment

router = APIRouter(tags=["automatic replies"])

Name = Annotated[str, Field(min_length=1, max_length=100)]
Time = Annotated[str, Field(max_length=5, description="HH:MM; 24:00 may end a range")]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimeRange(_Body):
    start: Time
    end: Time


class WeeklyRange(TimeRange):
    day: Day


class DatedHours(_Body):
    date: Annotated[str, Field(max_length=10, description="YYYY-MM-DD")]
    ranges: Annotated[list[TimeRange], Field(max_length=20, description="[] = closed all day")]


Weekly = Annotated[list[WeeklyRange], Field(max_length=100)]
Exceptions = Annotated[list[DatedHours], Field(max_length=366)]
Country = Annotated[str, Field(max_length=8, description="ISO 3166 code, e.g. DE")]


class ScheduleIn(_Body):
    site_id: Id
    name: Name
    staffed: bool = True
    weekly: Weekly = []
    exceptions: Exceptions = []
    holiday_country: Country | None = None


class SchedulePatch(_Body):
    name: Name | None = None
    staffed: bool | None = None
    weekly: Weekly | None = None
    exceptions: Exceptions | None = None
    holiday_country: Country | None = None


Text = Annotated[str, Field(max_length=20_000)]
Translations = Annotated[dict[str, Text], Field(max_length=20)]
Condition = Literal["nobody_online", "nobody_replied"]
Timeout = Annotated[int, Field(ge=0, le=86_400)]


class RuleFields(_Body):
    name: Name | None = None
    priority: int | None = None
    enabled: bool | None = None
    schedule_id: Id | None = None
    condition: Condition | None = None
    timeout_seconds: Timeout | None = None
    text: Text | None = None
    translations: Translations | None = None
    segment_id: Id | None = None
    ask_email: bool | None = None


class RuleIn(_Body):
    site_id: Id
    name: Name
    priority: int | None = None
    enabled: bool = True
    schedule_id: Id | None = None
    condition: Condition
    timeout_seconds: Timeout
    text: Text
    translations: Translations = {}
    segment_id: Id | None = None
    ask_email: bool = False


class DraftRule(RuleFields):
    id: Id | None = None


class PreviewIn(_Body):
    site_id: Id
    at: LocalMoment | None = Field(default=None, description="when the visitor writes; now if null")
    segment_id: Id | None = None
    operators_online: bool = False
    email_known: bool = False
    language: Annotated[str, Field(max_length=35)] | None = None
    contact_name: Annotated[str, Field(max_length=200)] | None = None
    draft: DraftRule | None = Field(default=None, description="an unsaved rule to preview")


def _changes(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(include=body.model_fields_set)


@router.get("/schedules", summary="A site's schedules, with whether each is open now")
async def list_schedules(site_id: Id, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    found = await settings.list_schedules(ctx, operator, site_id)
    return {"data": [view.public() for view in found]}


@router.post("/schedules", status_code=201, summary="Add a schedule (admins)")
async def create_schedule(body: ScheduleIn, ctx: CtxDep, operator: CurrentOperator) -> dict:
    data = body.model_dump(exclude={"site_id"})
    return {"data": (await settings.create_schedule(ctx, operator, body.site_id, data)).public()}


@router.patch("/schedules/{schedule_id}", summary="Change a schedule (admins)")
async def update_schedule(
    schedule_id: Id, body: SchedulePatch, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    view = await settings.update_schedule(ctx, operator, schedule_id, _changes(body))
    return {"data": view.public()}


@router.delete("/schedules/{schedule_id}", status_code=204, summary="Delete an unused schedule")
async def delete_schedule(schedule_id: Id, ctx: CtxDep, operator: CurrentOperator) -> Response:
    await settings.delete_schedule(ctx, operator, schedule_id)
    return Response(status_code=204)


@router.get("/autoreply-rules", summary="A site's automatic-reply rules in priority order")
async def list_rules(site_id: Id, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    return {"data": [rule.public() for rule in await settings.list_rules(ctx, operator, site_id)]}


@router.post("/autoreply-rules", status_code=201, summary="Add a rule (admins)")
async def create_rule(body: RuleIn, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    data = body.model_dump(exclude={"site_id"})
    return {"data": (await settings.create_rule(ctx, operator, body.site_id, data)).public()}


@router.post("/autoreply-rules/preview", summary="What a visitor writing then would see")
async def preview(body: PreviewIn, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    given = settings.PreviewInput(
        **body.model_dump(exclude={"draft"}),
        draft=body.draft.model_dump(exclude_none=True) if body.draft else None,
    )
    return {"data": await settings.preview(ctx, operator, given)}


@router.patch("/autoreply-rules/{rule_id}", summary="Change a rule (admins)")
async def update_rule(
    rule_id: Id, body: RuleFields, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    return {"data": (await settings.update_rule(ctx, operator, rule_id, _changes(body))).public()}


@router.delete("/autoreply-rules/{rule_id}", status_code=204, summary="Delete a rule (admins)")
async def delete_rule(rule_id: Id, ctx: CtxDep, operator: CurrentOperator) -> Response:
    await settings.delete_rule(ctx, operator, rule_id)
    return Response(status_code=204)


@router.get("/autoreplies", summary="Conversations answered automatically, and leads by rule")
async def list_sent(
    site_id: Id,
    ctx: CtxDep,
    operator: CurrentOperator,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Id | None = None,
) -> dict[str, Any]:
    return await settings.list_sent(ctx, operator, site_id, limit=limit, before_id=before_id)
