"""/api/v1/live-visitors: who is on the sites now, and writing to them first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from doorstep.domain.models import MAX_MESSAGE_CHARS
from doorstep.services import live
from doorstep.web.deps import CtxDep, CurrentOperator, Id

router = APIRouter(tags=["live visitors"])


class ProactiveMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    client_msg_id: Annotated[str | None, Field(max_length=64)] = None


@router.get("/live-visitors", summary="Visitors on the sites right now (bots excluded)")
async def list_live_visitors(
    ctx: CtxDep, operator: CurrentOperator, site_id: Id | None = None
) -> dict[str, Any]:
    return {"data": await live.list_live_visitors(ctx, operator, site_id=site_id)}


@router.post(
    "/contacts/{contact_id}/messages",
    status_code=201,
    summary="Write to a visitor first; it pops up in their widget",
)
async def message_visitor(
    contact_id: Id, body: ProactiveMessage, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    sent = await live.message_visitor(
        ctx, operator, contact_id, text=body.text, client_msg_id=body.client_msg_id
    )
    return {"data": {"message": sent.message.public(), "conversation_id": sent.conversation.id}}
