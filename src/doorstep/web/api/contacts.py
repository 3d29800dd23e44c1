"""/api/v1/contacts"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from doorstep.services import contact_identity, contacts, privacy, segments
from doorstep.web.deps import CtxDep, CurrentOperator, Id

router = APIRouter(tags=["contacts"])


class ContactPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    phone: Annotated[str, Field(max_length=64)] | None = None
    tags: Annotated[list[Annotated[str, Field(max_length=50)]], Field(max_length=50)] | None = None
    attributes: dict[str, Any] | None = Field(
        default=None, description="merged into the stored attributes; null removes one"
    )


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into_id: Annotated[Id, Field(description="the contact that remains")]


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Annotated[str, Field(min_length=1, max_length=5000)]


@router.get("/contacts", summary="Contacts, newest first; q searches name and email")
async def list_contacts(
    ctx: CtxDep,
    operator: CurrentOperator,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: Id | None = None,
) -> dict[str, Any]:
    found = await contacts.list_contacts(ctx, operator, query=q, limit=limit, before_id=before_id)
    return {"data": [contact.public() for contact in found]}


@router.get(
    "/contacts.csv",
    summary="All contacts as CSV (q filters by name or email)",
    response_class=StreamingResponse,
)
async def export_contacts(
    ctx: CtxDep,
    operator: CurrentOperator,
    q: Annotated[str | None, Query(max_length=200)] = None,
    segment_id: Annotated[Id | None, Query(description="only the segment's members")] = None,
) -> StreamingResponse:
    if segment_id is not None:
        await segments.get_segment(ctx, operator, segment_id)  # 404 before the stream starts

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        async for row in privacy.export_contacts_csv(ctx, operator, query=q, segment_id=segment_id):
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="contacts.csv"'},
    )


@router.get("/contacts/{contact_id}", summary="The contact card: profile, visits, events, notes")
async def get_contact(contact_id: Id, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    return {"data": (await contacts.get_contact_card(ctx, operator, contact_id)).public()}


@router.patch("/contacts/{contact_id}", summary="Edit name, email, phone, tags, attributes")
async def update_contact(
    contact_id: Id, body: ContactPatch, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    changes = body.model_dump(include=body.model_fields_set)
    return {"data": (await contacts.update_contact(ctx, operator, contact_id, changes)).public()}


@router.post(
    "/contacts/{contact_id}/merge",
    summary="Merge this contact into another of the same site (recorded)",
)
async def merge_contact(
    contact_id: Id, body: MergeIn, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    merged = await contact_identity.merge_contact(ctx, operator, contact_id, body.into_id)
    return {"data": merged.public()}


@router.post(
    "/contacts/{contact_id}/sign-out",
    summary="Sign out all browsers of the contact: each starts again as a new visitor",
)
async def sign_out_browsers(
    contact_id: Id, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    count = await contact_identity.sign_out_browsers(ctx, operator, contact_id)
    return {"data": {"browsers": count}}


@router.get("/contacts/{contact_id}/events", summary="Tracked events, newest first")
async def contact_events(
    contact_id: Id,
    ctx: CtxDep,
    operator: CurrentOperator,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Id | None = None,
) -> dict[str, Any]:
    found = await contacts.contact_events(
        ctx, operator, contact_id, limit=limit, before_id=before_id
    )
    return {"data": found}


@router.post("/contacts/{contact_id}/notes", status_code=201, summary="Add a private note")
async def add_note(
    contact_id: Id, body: NoteIn, ctx: CtxDep, operator: CurrentOperator
) -> dict[str, Any]:
    return {"data": await contacts.add_note(ctx, operator, contact_id, body.text)}


@router.delete("/contacts/{contact_id}/notes/{note_id}", status_code=204, summary="Delete a note")
async def delete_note(
    contact_id: Id, note_id: Id, ctx: CtxDep, operator: CurrentOperator
) -> Response:
    await contacts.delete_note(ctx, operator, contact_id, note_id)
    return Response(status_code=204)


@router.get("/contacts/{contact_id}/export", summary="Everything stored about a contact (JSON)")
async def export_contact(contact_id: Id, ctx: CtxDep, operator: CurrentOperator) -> JSONResponse:
    document = await privacy.export_contact(ctx, operator, contact_id)
    return JSONResponse(
        document,
        headers={"content-disposition": f'attachment; filename="contact-{contact_id}.json"'},
    )


@router.delete(
    "/contacts/{contact_id}", status_code=204, summary="Erase a contact and all its data (admins)"
)
async def erase_contact(contact_id: Id, ctx: CtxDep, operator: CurrentOperator) -> Response:
    await privacy.erase_contact(ctx, operator, contact_id)
    return Response(status_code=204)
