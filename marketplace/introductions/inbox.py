"""Small reads for the introduction pages: what an introduction is about, what its reader may do
next, the suggested matches a member may start one from, and the company's unread notices.

Nothing here changes a row, and nothing here counts anything but the reader's own company's
things: no figure about other companies' interests ever reaches a page."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.settings import get_settings
from marketplace.accounts.service import Actor
from marketplace.catalogue.models import Listing
from marketplace.flows.models import Direction, Flow, FlowStatus
from marketplace.flows.service import get_flow
from marketplace.introductions.models import Introduction, OutboxMessage
from marketplace.introductions.service import PENDING_VIEWS
from marketplace.introductions.states import TABLE, Event, Party, State
from marketplace.matching.models import Match

# The events a page offers as buttons, in the order shown.
PAGE_EVENTS = (Event.SCREEN, Event.PROPOSE, Event.ACCEPT, Event.DECLINE, Event.WITHDRAW)


@dataclass(frozen=True)
class Subject:
    """What an introduction is about, in words its reader already has: the listing's public
    title (the catalogue showed it), and the reader's own flow."""

    listing_id: uuid.UUID | None
    listing_title: str | None
    own_flow_label: str | None
    from_match: bool


def subject_of(session: Session, intro: Introduction, party: Party) -> Subject:
    listing = session.get(Listing, intro.listing_id) if intro.listing_id else None
    own_flow_id = {
        Party.REQUESTER: intro.requester_flow_id,
        Party.OWNER: intro.owner_flow_id,
    }.get(party)
    flow = session.get(Flow, own_flow_id) if own_flow_id else None
    return Subject(
        listing_id=listing.id if listing else None,
        listing_title=listing.title if listing else None,
        own_flow_label=flow.label if flow else None,
        from_match=intro.match_id is not None,
    )


def actions_for(intro: Introduction, party: Party, state: str) -> tuple[str, ...]:
    """The buttons the state table allows `party` in the state it sees. The requester's
    confirmation is offered only when the territory asks for it and it has not confirmed yet;
    nothing is offered on a state the reader does not see as pending."""
    if state not in PENDING_VIEWS:
        return ()
    found = []
    for event in PAGE_EVENTS:
        allowed = TABLE.get((State(state), event))
        if allowed is None or party not in allowed[1]:
            continue
        if party == Party.REQUESTER and event == Event.ACCEPT:
            # Its confirmation, when the territory asks for one and it has not given it yet.
            confirms = get_settings().introduction_requester_confirms
            if not confirms or intro.requester_accepted_at is not None:
                continue
        found.append(event.value)
    return tuple(found)


def messages_open(intro: Introduction, state: str) -> bool:
    """Messages are relayed while the reader sees the introduction pending."""
    return state in PENDING_VIEWS


def own_introduction_for_listing(
    session: Session, actor: Actor, listing_id: uuid.UUID
) -> uuid.UUID | None:
    """The reader's company's latest interest in a listing, if any (its own row only)."""
    if actor.company_id is None:
        return None
    query = (
        select(Introduction.id)
        .where(
            Introduction.requester_company_id == actor.company_id,
            Introduction.listing_id == listing_id,
        )
        .order_by(col(Introduction.created_at).desc())
    )
    return session.exec(query).first()


def own_listing(session: Session, actor: Actor, listing_id: uuid.UUID) -> bool:
    """Whether the listing is the reader's company's own (no interest button on it)."""
    listing = session.get(Listing, listing_id)
    return listing is not None and listing.company_id == actor.company_id


def own_flows_for(
    session: Session, actor: Actor, direction: str, kind: str
) -> list[tuple[uuid.UUID, str]]:
    """The reader's active flows that could answer a listing of `direction` and `kind`: the
    opposite direction, the same kind. (id, label), for the interest form's choice."""
    if actor.company_id is None:
        return []
    other = Direction.REQUEST if direction == Direction.OFFER else Direction.OFFER
    query = (
        select(Flow)
        .where(
            Flow.company_id == actor.company_id,
            Flow.status == FlowStatus.ACTIVE,
            Flow.direction == str(other),
            Flow.kind == kind,
        )
        .order_by(col(Flow.created_at))
    )
    return [(flow.id, flow.label) for flow in session.exec(query).all()]


@dataclass(frozen=True)
class SuggestedMatch:
    match_id: uuid.UUID
    # The reader's own introduction on it, when it already started one.
    introduction_id: uuid.UUID | None


def suggested_matches(session: Session, actor: Actor, flow_id: uuid.UUID) -> list[SuggestedMatch]:
    """The matches of the member's own flow that the facilitator suggested: ids only, so the
    member can express its interest without learning anything of the other side."""
    flow = get_flow(session, actor, flow_id)
    if actor.company_id is None or flow.company_id != actor.company_id:
        return []
    column = Match.offer_flow_id if flow.direction == Direction.OFFER else Match.request_flow_id
    query = (
        select(Match.id)
        .where(column == flow.id, col(Match.suggested_at).is_not(None))
        .order_by(col(Match.suggested_at), col(Match.id))
    )
    found = []
    for match_id in session.exec(query).all():
        started = session.exec(
            select(Introduction.id).where(
                Introduction.match_id == match_id,
                Introduction.requester_company_id == actor.company_id,
            )
        ).first()
        found.append(SuggestedMatch(match_id, started))
    return found


def unread_notices(session: Session, company_id: uuid.UUID) -> int:
    """The company's own in-app notices not read yet (one COUNT on an indexed column)."""
    query = (
        select(sa.func.count())
        .select_from(OutboxMessage)
        .where(
            OutboxMessage.recipient_company_id == company_id,
            col(OutboxMessage.read_at).is_(None),
        )
    )
    return int(session.exec(query).one())
