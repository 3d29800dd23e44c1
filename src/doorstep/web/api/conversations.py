"""/api/v1/conversations and their messages"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from doorstep.domain.models import MAX_MESSAGE_CHARS
from doorstep.services import conversations
from doorstep.web.deps import CtxDep, CurrentOperator, Id, Moment, Seq

router = APIRouter(tags=["conversations"])


class ConversationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "resolved"] | None = None
    assignee_id: Id | None = Field(default=None, description="null unassigns")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    internal: bool = Field(default=False, description="a note only the team sees")
    client_msg_id: Annotated[str | None, Field(max_length=64)] = Field(
        default=None, description="repeat it on a retry; the message is stored once"
    )


class ReadIn(BaseModel):
    seq: Seq


@router.get("/conversations", summary="Conversations, newest activity first")
async def list_conversations(
    ctx: CtxDep,
    operator: CurrentOperator,
    status: Literal["open", "resolved"] | None = None,
    site_id: Id | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Id | None = None,
    before_at: Annotated[
        Moment | None, Query(description="with before_id: the last row's last activity time")
    ] = None,
) -> dict[str, Any]:
    found = await conversations.list_conversations(
        ctx,
        operator,
        status=status,
        site_id=site_id,
        limit=limit,
        before_id=before_id,
        before_at=before_at,
    )
    return {"data": [summary.public() for summary in found]}


@router.get("/conversations/{conversation_id}", summary="One conversation")
async def get_conversation(
    conversation_id: Id, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    return {"data": (await conversations.get_conversation(ctx, operator, conversation_id)).public()}


@router.patch("/conversations/{conversation_id}", summary="Resolve, reopen or assign")
async def update_conversation(
    conversation_id: Id, body: ConversationPatch, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    summary = None
    if "assignee_id" in body.model_fields_set:
        summary = await conversations.assign_conversation(
            ctx, operator, conversation_id, body.assignee_id
        )
    if body.status is not None:
        summary = await conversations.set_conversation_status(
            ctx, operator, conversation_id, body.status
        )
    if summary is None:
        summary = await conversations.get_conversation(ctx, operator, conversation_id)
    return {"data": summary.public()}


@router.get("/conversations/{conversation_id}/messages", summary="Messages, oldest first")
async def list_messages(
    conversation_id: Id,
    ctx: CtxDep,
    operator: CurrentOperator,
    before_seq: Seq | None = None,
    after_seq: Seq | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    if after_seq is not None:
        found = await conversations.operator_messages_after(
            ctx, operator, conversation_id, after_seq
        )
    else:
        found = await conversations.list_messages(
            ctx, operator, conversation_id, before_seq=before_seq, limit=limit
        )
    return {"data": [message.public() for message in found]}


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=201,
    summary="Send a reply (or an internal note) as the caller",
)
async def send_message(
    conversation_id: Id, body: MessageIn, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    sent = await conversations.send_operator_message(
        ctx,
        operator,
        conversation_id,
        text=body.text,
        client_msg_id=body.client_msg_id,
        internal=body.internal,
    )
    return {"data": sent.message.public()}


@router.post(
    "/conversations/{conversation_id}/read",
    status_code=204,
    summary="Mark the conversation read up to a seq",
)
async def mark_read(
    conversation_id: Id, body: ReadIn, ctx: CtxDep, operator: CurrentOperator
) -> None:
    await conversations.mark_read_by_operator(ctx, operator, conversation_id, body.seq)
