"""/api/v1/sites"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from doorstep.services import contact_identity, operators, sites
from doorstep.web.deps import CtxDep, CurrentOperator, Id

router = APIRouter(tags=["sites"])


@router.get("/sites", summary="Sites the caller's team answers for")
async def list_sites(ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    return {"data": [site.public() for site in await sites.list_sites(ctx, operator)]}


@router.get("/sites/{site_id}", summary="One site")
async def get_site(site_id: Id, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    return {"data": (await sites.get_site(ctx, operator, site_id)).public()}


@router.get("/sites/{site_id}/operators", summary="The site's team and their presence")
async def site_team(site_id: Id, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    await sites.get_site(ctx, operator, site_id)
    team = await sites.site_team(ctx, site_id)
    return {
        "data": [
            {
                **m.public(),
                "email": m.email,
                "role": m.role,
                "status": operators.effective_status(ctx, m),
            }
            for m in team
        ]
    }


@router.get("/me", summary="The operator the credentials belong to")
async def me(ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    return {
        "data": {
            **operator.public(),
            "email": operator.email,
            "role": operator.role,
            "status": operators.effective_status(ctx, operator),
        }
    }


class SitePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(max_length=200)] | None = None
    timezone: Annotated[str, Field(max_length=64)] | None = None
    locale: Annotated[str, Field(max_length=16)] | None = None
    color: Annotated[str, Field(max_length=16)] | None = None
    widget_strings: dict[str, Any] | None = Field(
        default=None,
        description="texts that replace the widget's own: {key: text} or {locale: {key: text}}",
    )
    require_verification: bool | None = Field(
        default=None,
        description="refuse identify() with an email or user_id but no valid user_hash",
    )
    allowed_origins: list[Annotated[str, Field(max_length=300)]] | None = Field(
        default=None,
        max_length=50,
        description="origins whose pages may load the widget, e.g. https://shop.example.com;"
        " [] or null: any origin",
    )


@router.patch("/sites/{site_id}", summary="Change a site's settings (admins)")
async def update_site(
    site_id: Id, body: SitePatch, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    changes = body.model_dump(include=body.model_fields_set)
    return {"data": (await sites.update_site(ctx, operator, site_id, changes)).public()}


@router.get("/sites/{site_id}/identity", summary="Identity verification: the secret (admins)")
async def identity_settings(site_id: Id, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    return {"data": await sites.identity_settings(ctx, operator, site_id)}


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_hours: Annotated[int, Field(ge=0, le=sites.MAX_GRACE_HOURS)] = Field(
        default=sites.DEFAULT_GRACE_HOURS,
        description="how long the replaced secret still verifies",
    )


@router.post(
    "/sites/{site_id}/identity/rotate", summary="A new identity secret; the old one for a grace"
)
async def rotate_identity_secret(
    site_id: Id, ctx: CtxDep, operator: CurrentOperator, body: RotateIn | None = None
) -> dict[str, Any]:
    grace = (body or RotateIn()).grace_hours
    return {"data": await sites.rotate_identity_secret(ctx, operator, site_id, grace_hours=grace)}


@router.get("/sites/{site_id}/merges", summary="Merged contacts, newest first (admins)")
async def list_merges(
    site_id: Id,
    ctx: CtxDep,
    operator: CurrentOperator,
    kind: Annotated[
        str | None, Query(description="manual, verified or before_upgrade", max_length=16)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Id | None = None,
) -> dict[str, Any]:
    found = await contact_identity.list_merges(
        ctx, operator, site_id, kind=kind, limit=limit, before_id=before_id
    )
    return {"data": found}
