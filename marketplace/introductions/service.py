"""Introductions: a requester's interest, the facilitator's screening, the owner's answer and
the reveal, exactly once; every change decided on a locked row by the pure table (states.py).

Silence is the rule towards the requester: a decline, or the owner's withdrawal, reaches it as
"not available", the answer it also gets for a listing that is gone, and only after a random
delay, so neither the words nor the moment tell it that it was refused. Once it was told that the
owner accepted (the territory asks it to confirm), no delay can stay honest, since its
confirmation would have to reveal: a decline or withdrawal then reads "not available" at once, as
a listing withdrawn does.

A pooled offer (several contributors' flows in one listing) has no owner: each contributor
answers for its own share (IntroductionShare, locked and versioned). The reveal rule of a pool:
the introduction is revealed when the requester has accepted (its interest is its acceptance;
when the territory asks it to confirm, its confirmation once the pool is ready), at least one
contributor accepted, and every contributor has answered or the deadline passed. Only the
contributors who accepted are revealed, to the requester only (never to each other); each of
them sees the requester. A contributor's decline is silent: the requester never learns of it,
and if all decline it sees "not available" as for any decline."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import attributes, object_session
from sqlmodel import Session, col, or_, select

from core.db import lock_for_update, select_for_update
from core.events import handles
from core.models import utcnow
from core.settings import get_settings
from marketplace.accounts.models import User
from marketplace.accounts.service import Actor
from marketplace.catalogue.models import Listing, PoolShare, is_public
from marketplace.catalogue.states import ListingStatus
from marketplace.companies.errors import NoSuchCompany
from marketplace.companies.models import Company
from marketplace.companies.service import deny_terms, identity_keys_available
from marketplace.flows.events import KEYS_ROTATED
from marketplace.flows.models import Flow
from marketplace.introductions import outbox
from marketplace.introductions.errors import (
    AlreadyExpressed,
    MessageNotPublic,
    MessagesClosed,
    NoSuchIntroduction,
    NotAvailable,
    NotYourDecision,
    NotYourFlow,
    OneSourceNeeded,
    OwnListing,
    RequesterNeeded,
    RevealUnavailable,
    StateRefuses,
    TooManyInterests,
)
from marketplace.introductions.models import (
    Introduction,
    IntroductionMessage,
    IntroductionShare,
    ShareState,
)
from marketplace.introductions.schemas import IntroductionCreate
from marketplace.introductions.states import (
    PENDING,
    Event,
    IllegalTransition,
    Party,
    PartyNotAllowed,
    State,
    transition,
)
from marketplace.matching.models import Match
from privacy import audit
from privacy.scrubbing import identifying_kinds

# What the requester reads for a decline, the other side's withdrawal and a listing gone alike.
NOT_AVAILABLE = "not_available"
PENDING_VIEWS = frozenset(s.value for s in PENDING)
DAY = timedelta(hours=24)


def about(intro: Introduction, **ids: uuid.UUID) -> dict[str, str]:
    """An audit entry's data: the introduction it is about, and any further ids."""
    return {"introduction_id": str(intro.id), **{k: str(v) for k, v in ids.items()}}


def is_pooled(intro: Introduction) -> bool:
    """An introduction to a pooled offer: no owner, a share per contributor."""
    return intro.owner_company_id is None


def share_of(
    session: Session, intro: Introduction, company_id: uuid.UUID | None
) -> IntroductionShare | None:
    """`company_id`'s own share of a pooled introduction, if it contributes."""
    if company_id is None or not is_pooled(intro):
        return None
    query = select(IntroductionShare).where(
        IntroductionShare.introduction_id == intro.id,
        IntroductionShare.company_id == company_id,
    )
    return session.exec(query).first()


def shares(session: Session, intro: Introduction) -> list[IntroductionShare]:
    query = (
        select(IntroductionShare)
        .where(IntroductionShare.introduction_id == intro.id)
        .order_by(col(IntroductionShare.company_id))
    )
    return list(session.exec(query).all())


# --- who reads what --------------------------------------------------------------------------


def party_of(actor: Actor, intro: Introduction) -> Party:
    """The reader's side; "not found" for anyone else, and for the owner until it is proposed
    (an interest the facilitator has not passed on yet is none of the owner's business)."""
    if actor.is_staff:
        return Party.FACILITATOR
    if actor.company_id is not None and actor.company_id == intro.requester_company_id:
        return Party.REQUESTER
    if intro.proposed_at is None or actor.company_id is None:
        raise NoSuchIntroduction()
    if actor.company_id == intro.owner_company_id:
        return Party.OWNER
    session = object_session(intro)
    if isinstance(session, Session) and share_of(session, intro, actor.company_id) is not None:
        # A contributor of a pooled offer: the owner of its own share.
        return Party.OWNER
    raise NoSuchIntroduction()


def get_introduction(
    session: Session, actor: Actor, introduction_id: uuid.UUID
) -> tuple[Introduction, Party]:
    intro = session.get(Introduction, introduction_id)
    if intro is None:
        raise NoSuchIntroduction()
    return intro, party_of(actor, intro)


def _listing_gone(session: Session, intro: Introduction) -> bool:
    if intro.listing_id is None:
        return False
    listing = session.get(Listing, intro.listing_id)
    return listing is None or listing.status != ListingStatus.PUBLISHED


def _as_of(session: Session, intro: Introduction, now: datetime) -> str:
    """The stored state, but "expired" for a pending one past its deadline: the hourly beat
    writes down what every reader already reads, so the moment it runs tells nothing. A pool
    is the exception only when a contributor accepted: at its deadline the contributors who
    accepted are revealed, so it stays as stored until the beat settles it. Any other pool
    expires at its deadline as a plain introduction does: one that every contributor declined,
    its silence drawn past the deadline, reads "expired" then, and one nobody answered must not
    read "proposed" beside it until the beat runs."""
    if _past_deadline(intro, now):
        if is_pooled(intro) and intro.state == State.PROPOSED and _accepted_share(session, intro):
            return intro.state
        return State.EXPIRED.value
    return intro.state


def _accepted_share(session: Session, intro: Introduction) -> bool:
    query = select(IntroductionShare.id).where(
        IntroductionShare.introduction_id == intro.id,
        IntroductionShare.state == ShareState.ACCEPTED.value,
    )
    return session.exec(query).first() is not None


def requester_state(session: Session, intro: Introduction, now: datetime | None = None) -> str:
    """The state as the requester may see it: its own withdrawal as such; a listing gone, a
    decline and the other side's withdrawal all as "not available", a silent outcome only once
    its delay has passed (before, the state it saw before). A silence that would outlast the
    deadline ends as an unanswered interest does, "expired" at the deadline."""
    now = now or utcnow()
    if intro.requester_left:
        return State.WITHDRAWN.value
    if intro.state == State.REVEALED:
        return intro.state
    if _listing_gone(session, intro):
        return NOT_AVAILABLE
    if intro.state in (State.DECLINED, State.WITHDRAWN):
        sees_from, deadline = intro.requester_sees_from, intro.expires_at
        if sees_from is not None and deadline is not None and sees_from > deadline:
            if now >= deadline:
                return State.EXPIRED.value
        elif sees_from is None or now >= sees_from:
            return NOT_AVAILABLE
        return intro.requester_view or State.INTEREST_EXPRESSED.value
    return _as_of(session, intro, now)


def contributor_state(session: Session, intro: Introduction, company_id: uuid.UUID | None) -> str:
    """A pooled introduction as one contributor sees it: its own answer, and the reveal only if
    it accepted. A share left unanswered reads "expired" from the deadline on, whether another
    contributor accepted (the pool waits for the beat to reveal it) or not (it expired): which
    of the two is another contributor's answer."""
    now = utcnow()
    current = _as_of(session, intro, now)
    share = share_of(session, intro, company_id)
    if share is None:
        return current
    if share.state == ShareState.DECLINED:
        return State.DECLINED.value
    if share.state == ShareState.ACCEPTED:
        return current if current != State.PROPOSED else State.ACCEPTED.value
    if current in (State.ACCEPTED, State.REVEALED) or _past_deadline(intro, now):
        return State.EXPIRED.value
    return current


def _past_deadline(intro: Introduction, now: datetime) -> bool:
    return intro.state in PENDING and intro.expires_at is not None and intro.expires_at <= now


def state_for(
    session: Session, intro: Introduction, party: Party, company_id: uuid.UUID | None = None
) -> str:
    """The state as `party` sees it (`company_id`: the reader's company, which names a pool's
    contributor)."""
    if party == Party.REQUESTER:
        return requester_state(session, intro)
    if party == Party.OWNER and is_pooled(intro):
        return contributor_state(session, intro, company_id)
    return _as_of(session, intro, utcnow())


def list_introductions(
    session: Session, actor: Actor, state: str | None = None
) -> list[tuple[Introduction, Party]]:
    """The reader's introductions, newest first: the facilitator's whole queue (by state if
    asked), a company's own interests and those proposed to it."""
    query = select(Introduction).order_by(col(Introduction.created_at).desc()).limit(200)
    if actor.is_staff:
        if state is not None:
            query = query.where(Introduction.state == state)
    else:
        company_id = actor.require_company()
        contributed = select(IntroductionShare.introduction_id).where(
            IntroductionShare.company_id == company_id
        )
        query = query.where(
            or_(
                Introduction.requester_company_id == company_id,
                sa.and_(
                    or_(
                        col(Introduction.owner_company_id) == company_id,
                        col(Introduction.id).in_(contributed),
                    ),
                    col(Introduction.proposed_at).is_not(None),
                ),
            )
        )
    found = [(intro, party_of(actor, intro)) for intro in session.exec(query).all()]
    if state is not None and not actor.is_staff:
        # Filtered on what each reader sees, never on the stored state behind it.
        found = [(i, p) for i, p in found if state_for(session, i, p, actor.company_id) == state]
    return found


# --- changes ---------------------------------------------------------------------------------


def _next_state(session: Session, intro: Introduction, event: Event, party: Party) -> State:
    """The table's answer, or its refusal naming the state the reader sees (never a silent
    decline behind a requester's view)."""
    seen = state_for(session, intro, party) if party != Party.SYSTEM else intro.state
    states = [intro.state]
    if party == Party.REQUESTER and seen in PENDING_VIEWS and seen != intro.state:
        # Declined, and the requester not told yet: its refusals are those of what it sees.
        states.insert(0, seen)
    try:
        for state in states:
            after = transition(State(state), event, party)
        return after
    except IllegalTransition as refused:
        raise StateRefuses(field="state", event=event.value, state=seen) from refused
    except PartyNotAllowed as refused:
        raise NotYourDecision(event=event.value, party=party.value) from refused


def _fire(
    session: Session, intro: Introduction, event: Event, party: Party, actor_id: uuid.UUID | None
) -> None:
    """Move `intro` by the table, with its audit entry."""
    intro.state = _next_state(session, intro, event, party)
    intro.version += 1
    intro.updated_at = utcnow()
    session.add(intro)
    audit.append(
        session,
        f"introduction.{event.value}",
        actor_id=actor_id,
        subject_id=intro.id,
        data=about(intro),
    )


def _silently(session: Session, intro: Introduction) -> None:
    """A decline or the other side's withdrawal: the requester keeps seeing what it saw until a
    random moment, then "not available".

    Not once it was told the owner accepted: in that view its confirmation would have to
    reveal, so any answer to it during a delay would tell a refusal (a 409 "accepted", where an
    accepted introduction reveals). It reads "not available" at once then, as when the listing
    is withdrawn, with the same fields and the same refusals."""
    if intro.owner_accepted_at is not None:
        intro.requester_view = None
        intro.requester_sees_from = utcnow()
        return
    hours = get_settings().introduction_silent_delay_hours
    intro.requester_view = requester_state(session, intro)
    intro.requester_sees_from = utcnow() + timedelta(hours=random.uniform(0, hours))


def _lock(session: Session, actor: Actor, introduction_id: uuid.UUID) -> tuple[Introduction, Party]:
    intro, _seen_before = get_introduction(session, actor, introduction_id)
    lock_for_update(session, intro)
    if _as_of(session, intro, utcnow()) != intro.state:
        # Past its deadline and the beat not run yet: expired now, so no change lands on it.
        _fire(session, intro, Event.EXPIRE, Party.SYSTEM, None)
    # Read again under the lock: the side follows the row as it now stands.
    return intro, party_of(actor, intro)


def _refuse_unless_pending_view(session: Session, intro: Introduction, event: Event) -> None:
    seen = requester_state(session, intro)
    if seen not in PENDING_VIEWS:
        raise StateRefuses(field="state", event=event.value, state=seen)


def _count_interests(session: Session, company_id: uuid.UUID, since: datetime) -> int:
    query = select(sa.func.count()).where(
        Introduction.requester_company_id == company_id, col(Introduction.created_at) >= since
    )
    return int(session.exec(query).one())


@dataclass(frozen=True)
class _Source:
    listing_id: uuid.UUID | None
    match_id: uuid.UUID | None
    requester: uuid.UUID
    owner: uuid.UUID | None
    requester_flow_id: uuid.UUID | None
    owner_flow_id: uuid.UUID | None
    # A pooled offer's contributors (its owner is None then).
    contributors: tuple[uuid.UUID, ...] = ()


def _from_listing(
    session: Session, actor: Actor, listing_id: uuid.UUID, requester: uuid.UUID
) -> _Source:
    listing = session.get(Listing, listing_id)
    # A member introduces itself to what the catalogue shows it, nothing else; the facilitator
    # also to brokered-only listings. Every other case is one answer, "not available".
    if (
        listing is None
        or listing.status != ListingStatus.PUBLISHED
        or not (actor.is_staff or is_public(listing))
    ):
        raise NotAvailable(field="listing_id")
    if listing.aggregated:
        query = select(PoolShare.company_id).where(PoolShare.listing_id == listing.id)
        contributors = tuple(sorted(set(session.exec(query).all())))
        # A contributor asking for its own pool is answered as for any listing it cannot
        # have: "own listing" would confirm to it which pool its flow is in.
        if not contributors or requester in contributors:
            raise NotAvailable(field="listing_id")
        return _Source(listing.id, None, requester, None, None, None, contributors)
    if listing.company_id is None:
        raise NotAvailable(field="listing_id")
    if listing.company_id == requester:
        raise OwnListing(field="listing_id")
    return _Source(listing.id, None, requester, listing.company_id, None, listing.flow_id)


def _from_match(session: Session, actor: Actor, match_id: uuid.UUID) -> _Source:
    match = session.get(Match, match_id)
    offer = session.get(Flow, match.offer_flow_id) if match else None
    request = session.get(Flow, match.request_flow_id) if match else None
    if match is None or offer is None or request is None:
        raise NotAvailable(field="match_id")
    if actor.is_staff:
        return _Source(None, match.id, request.company_id, offer.company_id, request.id, offer.id)
    # A member hears of a match only once the facilitator suggested it (matching.suggest).
    if match.suggested_at is None or actor.company_id not in (offer.company_id, request.company_id):
        raise NotAvailable(field="match_id")
    if actor.company_id == request.company_id:
        return _Source(None, match.id, request.company_id, offer.company_id, request.id, offer.id)
    return _Source(None, match.id, offer.company_id, request.company_id, offer.id, request.id)


def _previous(session: Session, source: _Source) -> Introduction | None:
    query = select(Introduction).where(
        Introduction.requester_company_id == source.requester,
        col(Introduction.owner_company_id).is_(None)
        if source.owner is None
        else col(Introduction.owner_company_id) == source.owner,
    )
    if source.listing_id is not None:
        query = query.where(Introduction.listing_id == source.listing_id)
    else:
        query = query.where(Introduction.match_id == source.match_id)
    return session.exec(query.order_by(col(Introduction.created_at).desc())).first()


def express(session: Session, actor: Actor, data: IntroductionCreate) -> Introduction:
    """A requester's interest in a listing or a suggested match (or the facilitator's, on a
    company's behalf): proposed to the owner at once, or left to the facilitator's screening."""
    settings = get_settings()
    if (data.listing_id is None) == (data.match_id is None):
        raise OneSourceNeeded(field="listing_id")
    party = Party.FACILITATOR if actor.is_staff else Party.REQUESTER
    now = utcnow()
    if actor.is_staff:
        requester_id = data.requester_company_id
        if requester_id is None and data.listing_id is not None:
            raise RequesterNeeded(field="requester_company_id")
    else:
        requester_id = actor.require_company()
    if requester_id is not None:
        company = session.get(Company, requester_id)
        if company is None:
            raise NoSuchCompany(field="requester_company_id")
        if not actor.is_staff:
            # One company's interests are counted one at a time: two at once cannot both pass.
            lock_for_update(session, company)
            since = now - DAY
            if (
                _count_interests(session, requester_id, since)
                >= settings.introduction_interests_per_day
            ):
                raise TooManyInterests(
                    field="listing_id" if data.listing_id else "match_id",
                    retry_after=int(DAY.total_seconds()),
                    limit=settings.introduction_interests_per_day,
                    hours=24,
                )
    if data.listing_id is not None:
        assert requester_id is not None
        source = _from_listing(session, actor, data.listing_id, requester_id)
    else:
        assert data.match_id is not None
        source = _from_match(session, actor, data.match_id)
    requester_flow_id = source.requester_flow_id
    if data.requester_flow_id is not None:
        flow = session.get(Flow, data.requester_flow_id)
        if flow is None or flow.company_id != source.requester:
            raise NotYourFlow(field="requester_flow_id")
        requester_flow_id = flow.id
    previous = _previous(session, source)
    if previous is not None:
        seen = requester_state(session, previous)
        if seen == NOT_AVAILABLE:
            # Asking again after a silent decline gets what a listing gone gets.
            raise NotAvailable(field="listing_id" if source.listing_id else "match_id")
        if seen in PENDING_VIEWS or seen == State.REVEALED:
            raise AlreadyExpressed(field="listing_id" if source.listing_id else "match_id")
    intro = Introduction(
        listing_id=source.listing_id,
        match_id=source.match_id,
        requester_company_id=source.requester,
        owner_company_id=source.owner,
        requester_flow_id=requester_flow_id,
        owner_flow_id=source.owner_flow_id,
        state=transition(None, Event.EXPRESS, party),
        expires_at=now + timedelta(days=settings.introduction_pending_days),
    )
    session.add(intro)
    session.flush()
    for company_id in source.contributors:
        session.add(IntroductionShare(introduction_id=intro.id, company_id=company_id))
    session.flush()
    audit.append(
        session,
        "introduction.express",
        actor_id=actor.user_id,
        subject_id=intro.id,
        data=about(intro),
    )
    if not settings.introduction_screening:
        _propose(session, intro, Party.SYSTEM, None)
    session.flush()
    return intro


def _propose(
    session: Session, intro: Introduction, party: Party, actor_id: uuid.UUID | None
) -> None:
    _fire(session, intro, Event.PROPOSE, party, actor_id)
    intro.proposed_at = utcnow()
    # The deadline runs from when the owner hears of it.
    intro.expires_at = intro.proposed_at + timedelta(days=get_settings().introduction_pending_days)
    if intro.owner_company_id is not None:
        outbox.add(session, intro, "introduction.proposed", intro.owner_company_id)
    # Each contributor of a pool hears of it on its own; none learns who the others are.
    for share in shares(session, intro):
        outbox.add(session, intro, "introduction.proposed", share.company_id)


def screen(session: Session, actor: Actor, introduction_id: uuid.UUID, note: str) -> Introduction:
    actor.require_staff()
    intro, party = _lock(session, actor, introduction_id)
    _fire(session, intro, Event.SCREEN, party, actor.user_id)
    intro.screening_note = note
    session.flush()
    return intro


def propose(
    session: Session, actor: Actor, introduction_id: uuid.UUID, note: str | None = None
) -> Introduction:
    actor.require_staff()
    intro, party = _lock(session, actor, introduction_id)
    _propose(session, intro, party, actor.user_id)
    if note:
        intro.screening_note = note
    session.flush()
    return intro


def _revealed_companies(session: Session, intro: Introduction) -> list[uuid.UUID]:
    """The companies a reveal opens: both sides, or the requester and the accepting
    contributors of a pool."""
    if intro.owner_company_id is not None:
        return [intro.requester_company_id, intro.owner_company_id]
    accepted = [s.company_id for s in shares(session, intro) if s.state == ShareState.ACCEPTED]
    return [intro.requester_company_id, *accepted]


def _require_keys(session: Session, intro: Introduction) -> None:
    for company_id in _revealed_companies(session, intro):
        company = session.get(Company, company_id)
        if company is None or not identity_keys_available(company):
            raise RevealUnavailable()


def accept(session: Session, actor: Actor, introduction_id: uuid.UUID) -> Introduction:
    """The owner's acceptance reveals both sides (or, when the territory asks the requester to
    confirm, waits for it); the requester's confirmation then reveals. Of concurrent accepts
    the first wins; the others find the row changed and get a 409 naming its state. A pool's
    contributor accepts its own share (answer_share)."""
    intro, party = _lock(session, actor, introduction_id)
    if party == Party.OWNER and is_pooled(intro):
        return answer_share(session, actor, intro, ShareState.ACCEPTED)
    if party == Party.REQUESTER:
        _refuse_unless_pending_view(session, intro, Event.ACCEPT)
    elif _listing_gone(session, intro):
        # The requester reads "not available" and can no longer withdraw: nobody is revealed.
        raise StateRefuses(field="state", event=Event.ACCEPT.value, state=NOT_AVAILABLE)
    confirms = get_settings().introduction_requester_confirms
    # Decided before anything changes: a reveal the vault cannot serve changes nothing.
    reveals = (party == Party.OWNER and not confirms) or (
        party == Party.REQUESTER and intro.owner_accepted_at is not None
    )
    # The table refuses first (a 409 naming the state), so a late accept never reads as a
    # missing key.
    _next_state(session, intro, Event.ACCEPT, party)
    if reveals:
        _require_keys(session, intro)
    _fire(session, intro, Event.ACCEPT, party, actor.user_id)
    now = utcnow()
    if party == Party.OWNER:
        intro.owner_accepted_at = now
    else:
        intro.requester_accepted_at = now
    if reveals:
        _reveal(session, intro, actor, party)
    elif party == Party.OWNER:
        outbox.add(session, intro, "introduction.accepted", intro.requester_company_id)
    session.flush()
    return intro


def _reveal(
    session: Session,
    intro: Introduction,
    actor: Actor | None,
    party: Party,
    acting_company: uuid.UUID | None = None,
) -> None:
    """In the accepting transaction: the state, its audit entry, a checkpoint and one notice
    to each revealed side that did not act (the acting side reads the reveal in its answer).
    A pool: one more entry per contributor revealed, and a notice to each but the acting one."""
    actor_id = actor.user_id if actor is not None else None
    _fire(session, intro, Event.REVEAL, Party.SYSTEM, actor_id)
    intro.revealed_at = utcnow()
    if intro.owner_company_id is not None:
        other = intro.requester_company_id if party == Party.OWNER else intro.owner_company_id
        outbox.add(session, intro, "introduction.revealed", other)
    else:
        if party != Party.REQUESTER:
            outbox.add(session, intro, "introduction.revealed", intro.requester_company_id)
        for share in shares(session, intro):
            if share.state != ShareState.ACCEPTED:
                continue
            audit.append(
                session,
                "introduction.reveal_share",
                actor_id=actor_id,
                subject_id=share.id,
                data=about(intro, share_id=share.id),
            )
            if share.company_id != acting_company:
                outbox.add(session, intro, "introduction.revealed", share.company_id)
    audit.checkpoint(session)


def decline(session: Session, actor: Actor, introduction_id: uuid.UUID) -> Introduction:
    intro, party = _lock(session, actor, introduction_id)
    if party == Party.REQUESTER:
        # The requester withdraws; "decline" is the other side's word.
        raise NotYourDecision(event=Event.DECLINE.value, party=party.value)
    if party == Party.OWNER and is_pooled(intro):
        return answer_share(session, actor, intro, ShareState.DECLINED)
    _silently(session, intro)
    _fire(session, intro, Event.DECLINE, party, actor.user_id)
    session.flush()
    return intro


def withdraw(session: Session, actor: Actor, introduction_id: uuid.UUID) -> Introduction:
    intro, party = _lock(session, actor, introduction_id)
    if party == Party.REQUESTER:
        _refuse_unless_pending_view(session, intro, Event.WITHDRAW)
        if intro.state in PENDING:
            _fire(session, intro, Event.WITHDRAW, party, actor.user_id)
        else:
            # Declined meanwhile, and the requester not told yet: its withdrawal is answered
            # as any withdrawal is, and it will keep seeing "withdrawn".
            audit.append(
                session,
                "introduction.withdraw",
                actor_id=actor.user_id,
                subject_id=intro.id,
                data=about(intro),
            )
        intro.requester_left = True
        session.add(intro)
    elif party == Party.OWNER and is_pooled(intro):
        # A contributor withdraws its own share: a decline of it, as silent.
        return answer_share(session, actor, intro, ShareState.DECLINED)
    else:
        _silently(session, intro)
        _fire(session, intro, Event.WITHDRAW, party, actor.user_id)
    session.flush()
    return intro


def expire_due(session: Session, now: datetime | None = None) -> int:
    """Expire every pending introduction past its deadline (beat); returns how many."""
    now = now or utcnow()
    query = (
        select(Introduction)
        .where(
            col(Introduction.state).in_([s.value for s in PENDING]),
            col(Introduction.expires_at) <= now,
        )
        .order_by(col(Introduction.id))
    )
    expired = 0
    for intro in select_for_update(session, query):
        # A pool with an accepting contributor is answered by its deadline, not expired.
        if (
            is_pooled(intro)
            and intro.state == State.PROPOSED
            and _settle_pool(session, intro, now=now)
        ):
            continue
        _fire(session, intro, Event.EXPIRE, Party.SYSTEM, None)
        expired += 1
    session.flush()
    return expired


# --- pooled offers -------------------------------------------------------------------------


def _locked_share(
    session: Session, intro: Introduction, company_id: uuid.UUID
) -> IntroductionShare:
    query = select(IntroductionShare).where(
        IntroductionShare.introduction_id == intro.id,
        IntroductionShare.company_id == company_id,
    )
    found = select_for_update(session, query.order_by(col(IntroductionShare.id)))
    if not found:
        raise NoSuchIntroduction()
    share: IntroductionShare = found[0]
    return share


def answer_share(
    session: Session, actor: Actor, intro: Introduction, answer: ShareState
) -> Introduction:
    """A contributor's accept or decline of its own share (`intro` already locked): counted
    once (its row locked, a second answer refused with a 409 naming what it sees), then the
    pool's reveal rule (module docstring) decides whether the introduction moves on.

    A contributor that accepted may still decline before the reveal (its acceptance leaves
    the pool); an answer after the pool moved on is refused."""
    company_id = actor.require_company()
    share = _locked_share(session, intro, company_id)
    event = Event.ACCEPT if answer == ShareState.ACCEPTED else Event.DECLINE
    seen = contributor_state(session, intro, company_id)
    open_to = (
        {ShareState.PENDING.value}
        if answer == ShareState.ACCEPTED
        else {ShareState.PENDING.value, ShareState.ACCEPTED.value}
    )
    # Past the deadline the pool stands as it is until the beat reveals it: a late answer
    # would change what the deadline settled.
    if (
        intro.state != State.PROPOSED
        or share.state not in open_to
        or _past_deadline(intro, utcnow())
    ):
        raise StateRefuses(field="state", event=event.value, state=seen)
    share.state = answer.value
    share.version += 1
    share.answered_at = share.updated_at = utcnow()
    session.add(share)
    session.flush()
    # Decided before anything is written: a reveal the vault cannot serve changes nothing.
    if (
        _pool_outcome(session, intro) == "ready"
        and not get_settings().introduction_requester_confirms
    ):
        _require_keys(session, intro)
    audit.append(
        session,
        f"introduction.share_{event.value}",
        actor_id=actor.user_id,
        subject_id=share.id,
        data=about(intro, share_id=share.id),
    )
    intro.version += 1
    intro.updated_at = utcnow()
    session.add(intro)
    _settle_pool(session, intro, actor, company_id)
    session.flush()
    return intro


def _pool_outcome(session: Session, intro: Introduction, now: datetime | None = None) -> str:
    """ "wait" (a contributor may still answer), "ready" (someone accepted and every one has
    answered, or the deadline passed), "declined" (every one declined), "none" (the deadline
    passed and no one accepted: left to expire)."""
    now = now or utcnow()
    answers = [s.state for s in shares(session, intro)]
    accepted = ShareState.ACCEPTED.value in answers
    pending = ShareState.PENDING.value in answers
    if pending and now < intro.expires_at:
        return "wait"
    if accepted:
        return "ready"
    return "none" if pending else "declined"


def _settle_pool(
    session: Session,
    intro: Introduction,
    actor: Actor | None = None,
    acting_company: uuid.UUID | None = None,
    now: datetime | None = None,
) -> bool:
    """Apply the pool's reveal rule to a locked, proposed introduction; True when it moved.
    Ready: accepted for the pool, then revealed unless the requester must confirm (it is told
    to). All declined: declined, silently. Called by a contributor's answer and at the
    deadline (beat), where a reveal the vault cannot serve waits for the next run."""
    outcome = _pool_outcome(session, intro, now)
    actor_id = actor.user_id if actor is not None else None
    if outcome == "declined":
        _silently(session, intro)
        _fire(session, intro, Event.DECLINE, Party.OWNER, actor_id)
        return True
    if outcome != "ready":
        return False
    confirms = get_settings().introduction_requester_confirms
    if not confirms and actor is None:
        try:
            _require_keys(session, intro)
        except RevealUnavailable:
            return True  # neither expired nor revealed: the next run tries again
    _fire(session, intro, Event.ACCEPT, Party.OWNER, actor_id)
    intro.owner_accepted_at = utcnow()
    if confirms:
        # The requester's time to confirm runs from now.
        intro.expires_at = intro.owner_accepted_at + timedelta(
            days=get_settings().introduction_pending_days
        )
        outbox.add(session, intro, "introduction.accepted", intro.requester_company_id)
    else:
        _reveal(session, intro, actor, Party.OWNER, acting_company)
    return True


# --- messages --------------------------------------------------------------------------------


def messages(
    session: Session, actor: Actor, introduction_id: uuid.UUID
) -> Sequence[IntroductionMessage]:
    intro, party = get_introduction(session, actor, introduction_id)
    query = (
        select(IntroductionMessage)
        .where(IntroductionMessage.introduction_id == intro.id)
        .order_by(col(IntroductionMessage.created_at))
    )
    if party == Party.OWNER and is_pooled(intro):
        # A pool's contributor reads the requester's, the facilitator's and its own messages,
        # never another contributor's: contributors are not introduced to each other.
        others = select(User.id).where(User.company_id != actor.company_id)
        query = query.where(
            or_(
                col(IntroductionMessage.author_side) != Party.OWNER.value,
                col(IntroductionMessage.author_user_id).not_in(others),
            )
        )
    return session.exec(query).all()


def post_message(
    session: Session, actor: Actor, introduction_id: uuid.UUID, body: str
) -> IntroductionMessage:
    """Relay a message before the reveal, refused (to rewrite) if it would name or locate its
    author's company, as a listing's public text would be."""
    intro, party = _lock(session, actor, introduction_id)
    seen = state_for(session, intro, party, actor.company_id)
    if seen not in PENDING_VIEWS or intro.state not in PENDING:
        if party == Party.REQUESTER and seen in PENDING_VIEWS:
            # Declined, and the requester not told yet: its message is taken as any other,
            # and goes nowhere the owner reads any more.
            pass
        else:
            raise MessagesClosed(field="state", state=seen)
    sides: tuple[uuid.UUID, ...]
    if party == Party.FACILITATOR:
        sides = tuple(_revealed_companies(session, intro)) + tuple(
            s.company_id for s in shares(session, intro)
        )
    elif party == Party.REQUESTER:
        sides = (intro.requester_company_id,)
    else:
        sides = (intro.owner_company_id or actor.require_company(),)
    deny = [
        term
        for company_id in sides
        if (company := session.get(Company, company_id)) is not None
        for term in deny_terms(session, company)
    ]
    kinds = identifying_kinds(body, deny)
    if kinds:
        raise MessageNotPublic(field="body", kinds=", ".join(sorted(set(kinds))))
    message = IntroductionMessage(
        introduction_id=intro.id, author_side=party.value, author_user_id=actor.user_id, body=body
    )
    session.add(message)
    session.flush()
    audit.append(
        session,
        "introduction.message",
        actor_id=actor.user_id,
        subject_id=message.id,
        data=about(intro, message_id=message.id),
    )
    return message


# --- keys --------------------------------------------------------------------------------------


@handles(KEYS_ROTATED)
def reseal_texts(session: Session) -> None:
    """Re-seal screening notes and messages under the current key-encryption key, in the
    rotation's transaction: reading opened them with whichever key sealed them, writing seals
    with the first, so the old key can go once the rotation commits."""
    for model, name in ((Introduction, "screening_note"), (IntroductionMessage, "body")):
        for row in session.exec(select(model)).all():
            attributes.flag_modified(row, name)
            session.add(row)
    session.flush()
