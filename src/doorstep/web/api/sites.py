"""/api/v1/sites"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from doorstep.services import operators, sites
from doorstep.web.deps import CtxDep, CurrentOperator

router = APIRouter(tags=["sites"])


@router.get("/sites", summary="Sites the caller's team answers for")
async def list_sites(ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    return {"data": [site.public() for site in await sites.list_sites(ctx, operator)]}


@router.get("/sites/{site_id}", summary="One site")
async def get_site(site_id: int, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    return {"data": (await sites.get_site(ctx, operator, site_id)).public()}


@router.get("/sites/{site_id}/operators", summary="The site's team and their presence")
async def site_team(site_id: int, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
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


@router.patch("/sites/{site_id}", summary="Change a site's settings (admins)")
async def update_site(
    site_id: int, body: SitePatch, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    changes = body.model_dump(include=body.model_fields_set)
    return {"data": (await sites.update_site(ctx, operator, site_id, changes)).public()}
