"""Introductions: a member's interest in a listing or a suggested match, the owner's answer, the
facilitator's screening, and the messages relayed before the reveal."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ActorDep, SessionDep
from api.errors import RATE_LIMITED
from marketplace.introductions import outbox, service, views
from marketplace.introductions.models import Introduction
from marketplace.introductions.schemas import (
    IntroductionCreate,
    IntroductionRead,
    MessageCreate,
    MessageRead,
    ScreeningNote,
)

router = APIRouter(prefix="/introductions", tags=["introductions"])


class NoticeRead(BaseModel):
    """An in-app notice: which introduction moved, never who is behind it."""

    id: uuid.UUID
    kind: str
    introduction_id: uuid.UUID | None
    created_at: datetime
    read_at: datetime | None


class NoticesMarked(BaseModel):
    marked: int = Field(description="how many unread notices were marked read")


@router.post(
    "",
    response_model=IntroductionRead,
    status_code=201,
    responses={429: RATE_LIMITED},
)
def express_interest(
    data: IntroductionCreate, session: SessionDep, actor: ActorDep
) -> IntroductionRead:
    """Express the company's interest in a listing (`listing_id`) or a suggested match
    (`match_id`). Limited per company per day. A listing that is not available, for whatever
    reason, answers 404 "not available"."""
    intro = service.express(session, actor, data)
    return views.read(session, actor, intro, service.party_of(actor, intro))


@router.get("", response_model=list[IntroductionRead])
def list_introductions(
    session: SessionDep,
    actor: ActorDep,
    state: Annotated[str | None, Query(max_length=24)] = None,
) -> list[IntroductionRead]:
    """The company's introductions (both sides), or the facilitator's queue, newest first."""
    return [
        views.read(session, actor, intro, party)
        for intro, party in service.list_introductions(session, actor, state)
    ]


@router.get("/notices", response_model=list[NoticeRead])
def list_notices(session: SessionDep, actor: ActorDep) -> list[NoticeRead]:
    """The company's in-app notices of its introductions, newest first."""
    company_id = actor.require_company()
    return [
        NoticeRead.model_validate(n, from_attributes=True)
        for n in outbox.notices(session, company_id)
    ]


@router.post("/notices/read", response_model=NoticesMarked)
def mark_all_notices_read(session: SessionDep, actor: ActorDep) -> NoticesMarked:
    """Mark every unread notice of the company read."""
    return NoticesMarked(marked=outbox.mark_all_read(session, actor.require_company()))


@router.post("/notices/{notice_id}/read", response_model=NoticeRead)
def mark_notice_read(notice_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> NoticeRead:
    """Mark one notice of the company read (once: marking it again keeps the first time). Another
    company's notice is 404, as one that does not exist."""
    notice = outbox.mark_read(session, actor.require_company(), notice_id)
    return NoticeRead.model_validate(notice, from_attributes=True)


@router.get("/{introduction_id}", response_model=IntroductionRead)
def get_introduction(
    introduction_id: uuid.UUID, session: SessionDep, actor: ActorDep
) -> IntroductionRead:
    intro, party = service.get_introduction(session, actor, introduction_id)
    return views.read(session, actor, intro, party)


def _answer(session: SessionDep, actor: ActorDep, intro: Introduction) -> IntroductionRead:
    return views.read(session, actor, intro, service.party_of(actor, intro))


@router.post("/{introduction_id}/accept", response_model=IntroductionRead)
def accept(introduction_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> IntroductionRead:
    """The owner accepts (or the requester confirms, when the territory asks it): both sides
    are revealed to each other, once. 503 when the identity vault's key is unavailable."""
    return _answer(session, actor, service.accept(session, actor, introduction_id))


@router.post("/{introduction_id}/decline", response_model=IntroductionRead)
def decline(introduction_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> IntroductionRead:
    """The owner (or the facilitator) declines; the requester is not told so."""
    return _answer(session, actor, service.decline(session, actor, introduction_id))


@router.post("/{introduction_id}/withdraw", response_model=IntroductionRead)
def withdraw(introduction_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> IntroductionRead:
    """Either side (or the facilitator) withdraws before the reveal."""
    return _answer(session, actor, service.withdraw(session, actor, introduction_id))


@router.post("/{introduction_id}/screen", response_model=IntroductionRead)
def screen(
    introduction_id: uuid.UUID, data: ScreeningNote, session: SessionDep, actor: ActorDep
) -> IntroductionRead:
    """The facilitator takes the interest into screening, with its note."""
    return _answer(session, actor, service.screen(session, actor, introduction_id, data.note))


@router.post("/{introduction_id}/propose", response_model=IntroductionRead)
def propose(
    introduction_id: uuid.UUID, data: ScreeningNote, session: SessionDep, actor: ActorDep
) -> IntroductionRead:
    """The facilitator passes the interest on to the owner."""
    return _answer(session, actor, service.propose(session, actor, introduction_id, data.note))


@router.get("/{introduction_id}/messages", response_model=list[MessageRead])
def messages(introduction_id: uuid.UUID, session: SessionDep, actor: ActorDep) -> list[MessageRead]:
    return [views.read_message(m) for m in service.messages(session, actor, introduction_id)]


@router.post("/{introduction_id}/messages", response_model=MessageRead, status_code=201)
def post_message(
    introduction_id: uuid.UUID, data: MessageCreate, session: SessionDep, actor: ActorDep
) -> MessageRead:
    """A message to the other side, relayed before the reveal; refused (422, to rewrite) if it
    would name or locate the author's company."""
    return views.read_message(service.post_message(session, actor, introduction_id, data.body))
