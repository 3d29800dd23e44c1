"""/api/v1/contacts"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from doorstep.services import contacts
from doorstep.web.deps import CtxDep, CurrentOperator

router = APIRouter(tags=["contacts"])


@router.get("/contacts", summary="Contacts, newest first; q searches name and email")
async def list_contacts(
    ctx: CtxDep,
    operator: CurrentOperator,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before_id: int | None = None,
) -> dict[str, Any]:
    found = await contacts.list_contacts(ctx, operator, query=q, limit=limit, before_id=before_id)
    return {"data": [contact.public() for contact in found]}


@router.get("/contacts/{contact_id}", summary="One contact with its conversations")
async def get_contact(contact_id: int, ctx: CtxDep, operator: CurrentOperator) -> dict[str, Any]:
    card = await contacts.get_contact_card(ctx, operator, contact_id)
    return {
        "data": {**card.contact.public(), "conversations": [s.public() for s in card.conversations]}
    }
