"""/api/v1/segments (docs/segments.md)"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from doorstep.services import segments
from doorstep.web.deps import CtxDep, CurrentOperator, Id

router = APIRouter(tags=["segments"])

MAX_FILTER_BYTES = 64 * 1024


def _bounded(value: dict[str, Any]) -> dict[str, Any]:
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError as exc:  # a TypeError: pydantic would not make it a 422
        # A number past 64 bits, or objects nested past 255 levels.
        raise ValueError(f"a filter is plain JSON: {exc}") from None
    if size > MAX_FILTER_BYTES:
        raise ValueError(f"a filter has at most {MAX_FILTER_BYTES // 1024} KiB of JSON")
    return value


FilterJson = Annotated[
    dict[str, Any],
    AfterValidator(_bounded),
    Field(
        description='e.g. {"match": "all", "conditions": [{"field": "country", "op": "in", '
        '"value": ["JP", "KR"]}]}; the language is described in docs/segments.md'
    ),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class SegmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site_id: Id
    name: Name
    filter: FilterJson


class SegmentPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    filter: FilterJson | None = None


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site_id: Id
    filter: FilterJson


@router.get("/segments", summary="Segments of the caller's sites (or of one site)")
async def list_segments(
    ctx: CtxDep, operator: CurrentOperator, site_id: Id | None = None
) -> dict[str, Any]:
    found = await segments.list_segments(ctx, operator, site_id=site_id)
    return {"data": [segment.public() for segment in found]}


@router.post("/segments", status_code=201, summary="Save a segment")
async def create_segment(body: SegmentIn, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    segment = await segments.create_segment(
        ctx, operator, site_id=body.site_id, name=body.name, filter=body.filter
    )
    return {"data": segment.public()}


@router.post("/segments/preview", summary="Count and first contacts of an unsaved filter")
async def preview_segment(
    body: PreviewIn, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    preview = await segments.preview_segment(
        ctx, operator, site_id=body.site_id, filter=body.filter
    )
    return {"data": preview.public()}


@router.get("/segments/{segment_id}", summary="One segment with its live member count")
async def get_segment(segment_id: Id, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    return {"data": (await segments.get_segment(ctx, operator, segment_id)).public()}


@router.patch("/segments/{segment_id}", summary="Rename a segment or replace its filter")
async def update_segment(
    segment_id: Id, body: SegmentPatch, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    changes = body.model_dump(include=body.model_fields_set, exclude_none=True)
    segment = await segments.update_segment(ctx, operator, segment_id, changes)
    return {"data": segment.public()}


@router.delete("/segments/{segment_id}", status_code=204, summary="Delete a segment")
async def delete_segment(segment_id: Id, ctx: CtxDep, operator: CurrentOperator) -> Response:
    await segments.delete_segment(ctx, operator, segment_id)
    return Response(status_code=204)


@router.get("/segments/{segment_id}/members", summary="Contacts in the segment, newest first")
async def segment_members(
    segment_id: Id,
    ctx: CtxDep,
    operator: CurrentOperator,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Id | None = None,
    q: Annotated[str | None, Query(max_length=200, description="name or email contains")] = None,
) -> dict[str, Any]:
    found = await segments.segment_members(
        ctx, operator, segment_id, limit=limit, before_id=before_id, query=q
    )
    return {"data": [contact.public() for contact in found]}
