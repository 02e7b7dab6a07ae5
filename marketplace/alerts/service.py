"""Saved searches and alerts: save a catalogue search, match changed listings against every saved
search, record in-app notifications and send the alert e-mails."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core.errors import DomainError
from core.events import handles
from core.inputs import checked_line, invalid_from
from core.mail import MailRefused, SendMail
from core.models import new_id, utcnow
from core.worker import enqueue
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import Actor, actor_of
from marketplace.alerts.errors import (
    NoSuchNotification,
    NoSuchSavedSearch,
    NotFound,
    PagingNotSaved,
    SearchesForMembers,
    SearchNameLength,
    TooManySavedSearches,
)
from marketplace.alerts.mail import alert_message
from marketplace.alerts.models import Notification, SavedSearch
from marketplace.alerts.schemas import NotificationRead
from marketplace.catalogue.cards import card_revision, companies_behind, to_public
from marketplace.catalogue.events import LISTINGS_CHANGED
from marketplace.catalogue.models import Listing, is_public, public_where
from marketplace.catalogue.search import (
    BAND_KEYS,
    CatalogueQuery,
    Origin,
    equality_filters,
    origin_of,
    words_of,
)

log = logging.getLogger(__name__)

SEARCH_ROLES = frozenset({Role.MEMBER, Role.COMPANY_ADMIN, Role.FACILITATOR})
# Every saved search is tested against every changed listing: bound the work one person adds.
MAX_SEARCHES_PER_USER = 50
MAX_NAME_LENGTH = 120
NOTIFICATIONS_PAGE = 200
# Changed listings matched per round: bounds the IN list (SQLite caps bound parameters).
MATCH_BATCH = 500
# They page or order one search; a saved search keeps only what selects listings.
PAGING_KEYS = frozenset({"cursor", "limit", "sort"})


# --- saved searches ----------------------------------------------------------------------------


def parse_filters(filters: dict[str, Any]) -> CatalogueQuery:
    """Check saved filters exactly as the catalogue search checks its query."""
    paging = sorted(PAGING_KEYS & filters.keys())
    if paging:
        raise PagingNotSaved(field="filters", keys=", ".join(paging))
    try:
        return CatalogueQuery.model_validate(filters)
    except ValidationError as exc:
        raise invalid_from(exc, prefix="filters") from None


def save_search(
    session: Session,
    actor: Actor,
    name: str,
    filters: dict[str, Any],
    *,
    email_alerts: bool = True,
) -> SavedSearch:
    """Save a catalogue search of a company member (or the facilitator) to be alerted about."""
    if actor.role not in SEARCH_ROLES:
        raise SearchesForMembers()
    # One line: the name becomes the subject of the alert e-mails. The web form sends it here
    # without the API's schema, so the shared text rules are applied here too.
    name = " ".join(checked_line(name, "name").split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise SearchNameLength(field="name", count=MAX_NAME_LENGTH)
    query = parse_filters(filters)
    try:
        # The catalogue's own rule: a member measures distances from its own sites only.
        origin_of(session, actor, query.from_site)
    except NotFound as exc:
        # The same case, named by the saved search's own field.
        exc.field = "filters.from_site"
        raise
    count = session.exec(
        select(sa.func.count()).select_from(SavedSearch).where(SavedSearch.user_id == actor.user_id)
    ).one()
    if count >= MAX_SEARCHES_PER_USER:
        raise TooManySavedSearches(field="name", count=MAX_SEARCHES_PER_USER)
    search = SavedSearch(
        user_id=actor.user_id,
        name=name,
        # Only the filters given, normalised as the search reads them ("10 01 02" → "100102").
        filters=query.model_dump(mode="json", exclude_none=True, exclude=set(PAGING_KEYS)),
        email_alerts=email_alerts,
    )
    session.add(search)
    session.flush()
    return search


def list_searches(session: Session, actor: Actor) -> Sequence[SavedSearch]:
    query = (
        select(SavedSearch)
        .where(SavedSearch.user_id == actor.user_id)
        .order_by(col(SavedSearch.created_at), col(SavedSearch.id))
    )
    return session.exec(query).all()


def delete_search(session: Session, actor: Actor, search_id: uuid.UUID) -> None:
    """Delete one of the actor's saved searches, and its notifications with it."""
    search = session.get(SavedSearch, search_id)
    if search is None or search.user_id != actor.user_id:
        raise NoSuchSavedSearch()
    session.execute(sa.delete(Notification).where(col(Notification.saved_search_id) == search.id))
    session.delete(search)
    session.flush()


# --- notifications -----------------------------------------------------------------------------


def list_notifications(
    session: Session, actor: Actor, unread_only: bool = False
) -> list[NotificationRead]:
    """The actor's latest alerts, newest first."""
    query = (
        select(Notification, SavedSearch.name)
        .join(SavedSearch, col(SavedSearch.id) == col(Notification.saved_search_id))
        .where(Notification.user_id == actor.user_id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id))
        .limit(NOTIFICATIONS_PAGE)
    )
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    rows = session.exec(query).all()
    listing_ids = {notification.listing_id for notification, _ in rows}
    listings = {
        listing.id: listing
        for listing in session.exec(select(Listing).where(col(Listing.id).in_(listing_ids)))
    }
    return [
        _read(notification, name, listings.get(notification.listing_id))
        for notification, name in rows
    ]


def _read(
    notification: Notification, search_name: str, listing: Listing | None
) -> NotificationRead:
    return NotificationRead(
        id=notification.id,
        saved_search_id=notification.saved_search_id,
        saved_search_name=search_name,
        listing_id=notification.listing_id,
        created_at=notification.created_at,
        read_at=notification.read_at,
        emailed_at=notification.emailed_at,
        # Only while the listing is in the catalogue: once withdrawn, expired or brokered only,
        # an alert shows no more than the catalogue would.
        listing=to_public(listing) if listing is not None and is_public(listing) else None,
    )


def mark_read(session: Session, actor: Actor, notification_id: uuid.UUID) -> NotificationRead:
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != actor.user_id:
        raise NoSuchNotification()
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.add(notification)
        session.flush()
    search = session.get(SavedSearch, notification.saved_search_id)
    assert search is not None  # the foreign key holds
    return _read(notification, search.name, session.get(Listing, notification.listing_id))


# --- matching changed listings -----------------------------------------------------------------


@handles(LISTINGS_CHANGED)
def listings_changed(session: Session, listing_ids: Iterable[uuid.UUID]) -> None:
    """The catalogue announced (LISTINGS_CHANGED) that listings were published or their public
    view changed: one matching task for them all, sent once this transaction commits (never if
    it rolls back)."""
    ids = sorted({str(listing_id) for listing_id in listing_ids})
    if not ids:
        return
    # Imported here: the task module imports this one.
    from marketplace.alerts.tasks import match_listings

    enqueue(session, match_listings, ids)


@dataclass(frozen=True)
class _Candidate:
    search: SavedSearch
    query: CatalogueQuery
    company_id: uuid.UUID | None  # the owner's company: never alerted about its own listings
    origin: Origin | None  # the owner's site that a distance band is measured from


def _candidates(session: Session) -> list[_Candidate]:
    """Every saved search of an active user, its query parsed once per task."""
    query = (
        select(SavedSearch, User)
        .join(User, col(User.id) == col(SavedSearch.user_id))
        .where(col(User.is_active).is_(True))
    )
    candidates = []
    for search, user in session.exec(query).all():
        try:
            parsed = CatalogueQuery.model_validate(search.filters)
            # The owner's rights today, as the search would check them for a new query.
            origin = origin_of(session, actor_of(user), parsed.from_site)
        except (ValidationError, DomainError):
            # Saved under older rules, or its site is gone: skip it, not everyone's alerts.
            log.warning("saved search %s no longer makes a valid catalogue query", search.id)
            continue
        candidates.append(_Candidate(search, parsed, user.company_id, origin))
    return candidates


def _fitting(
    session: Session, candidate: _Candidate, listings: dict[uuid.UUID, Listing]
) -> set[uuid.UUID]:
    """Which of `listings` the catalogue search would return for the saved query: the search's
    own conditions (on public columns only), restricted to these ids.

    search.py offers no public "does this listing match" helper, so this assembles its building
    blocks as search() does; switch to such a helper once the catalogue has one.
    """
    query = candidate.query
    conditions = [*public_where(), *equality_filters(query), col(Listing.id).in_(listings)]
    conditions += [col(Listing.search_text).like(f"%{word}%") for word in words_of(query.q)]
    band = BAND_KEYS.index(query.distance_band) if query.distance_band else None
    origin = candidate.origin
    if band is not None:
        if origin is None:
            return set()
        conditions.append(origin.within(band))
    found = set(session.exec(select(Listing.id).where(*conditions)).all())
    if band is not None and origin is not None:
        # The SQL band test is a slightly wider approximation, as in search(): keep the exact one.
        found = {i for i in found if origin.band_of(listings[i]) == band}
    return found


def revision_of(listing: Listing) -> str:
    """The public card's digest: a notification is keyed by it, so an owner's private edit (a
    price, a quantity inside its class) that leaves the card as it was notifies nobody, and a
    mail is stale only once the card itself changed."""
    return card_revision(listing)


def _insert_notification(session: Session, values: dict[str, Any]) -> bool:
    """Insert unless this (search, listing, revision) is already there; True when inserted.

    ON CONFLICT DO NOTHING rather than check-then-insert: two workers matching the same change at
    once (a redelivered task) then neither fail nor notify twice, and no savepoint is needed.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["saved_search_id", "listing_id", "revision"])
        .returning(col(Notification.id))
    )
    return session.execute(statement).first() is not None


def notify_matches(session: Session, listing_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Record a notification for every saved search each listing fits; returns the new ones.

    Idempotent: a notification is keyed by the listing's revision (its public card's digest), so
    running this twice for the same change adds nothing, while a change of the card notifies
    again.
    """
    candidates = _candidates(session)
    if not candidates:
        return []
    created: list[uuid.UUID] = []
    unique = sorted(set(listing_ids))
    for start in range(0, len(unique), MATCH_BATCH):
        batch = unique[start : start + MATCH_BATCH]
        visible = select(Listing).where(col(Listing.id).in_(batch), *public_where())
        listings = {x.id: x for x in session.exec(visible)}
        if not listings:
            continue
        owners = companies_behind(session, listings.values())
        for candidate in candidates:
            for listing_id in sorted(_fitting(session, candidate, listings)):
                if candidate.company_id is not None and candidate.company_id in owners[listing_id]:
                    continue
                notification_id = new_id()
                inserted = _insert_notification(
                    session,
                    {
                        "id": notification_id,
                        "user_id": candidate.search.user_id,
                        "saved_search_id": candidate.search.id,
                        "listing_id": listing_id,
                        "revision": revision_of(listings[listing_id]),
                        "created_at": utcnow(),
                    },
                )
                if inserted:
                    created.append(notification_id)
    session.flush()
    return created


# --- alert e-mails -----------------------------------------------------------------------------


def pending_emails(session: Session, listing_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Notifications about these listings whose e-mail is still to send: the new ones, and those
    a failed attempt left behind (a retried task picks them up)."""
    query = (
        select(Notification.id)
        .join(SavedSearch, col(SavedSearch.id) == col(Notification.saved_search_id))
        .where(col(Notification.listing_id).in_(listing_ids))
        .where(col(Notification.emailed_at).is_(None))
        .where(col(SavedSearch.email_alerts).is_(True))
        .order_by(col(Notification.created_at), col(Notification.id))
    )
    return list(session.exec(query).all())


def unsent_listings(session: Session, since: datetime, most: int = 500) -> list[uuid.UUID]:
    """Listings with alerts created after ``since`` whose e-mail is still to send (every retry
    of their task failed): the oldest alerts first."""
    first = sa.func.min(col(Notification.created_at))
    query = (
        select(col(Notification.listing_id))
        .join(SavedSearch, col(SavedSearch.id) == col(Notification.saved_search_id))
        .where(col(Notification.emailed_at).is_(None))
        .where(col(Notification.created_at) > since)
        .where(col(SavedSearch.email_alerts).is_(True))
        .group_by(col(Notification.listing_id))
        .order_by(first)
        .limit(most)
    )
    return list(session.exec(query).all())


def email_notification(session: Session, notification_id: uuid.UUID, send: SendMail) -> bool:
    """Send the e-mail of one notification and record it; True when sent.

    The row is locked while sending (skipped if another worker holds it), so concurrent tasks do
    not mail the same alert twice; emailed_at is written only once the relay accepted the
    message, so a failure leaves it to the retry.
    """
    notification = session.exec(
        select(Notification)
        .where(Notification.id == notification_id)
        .where(col(Notification.emailed_at).is_(None))
        .with_for_update(skip_locked=True)
    ).first()
    if notification is None:
        return False
    listing = session.get(Listing, notification.listing_id)
    search = session.get(SavedSearch, notification.saved_search_id)
    user = session.get(User, notification.user_id)
    if (
        listing is None
        or search is None
        or user is None
        or not user.is_active
        or not is_public(listing)
        # A later change has its own notification and e-mail: do not mail a stale version.
        or revision_of(listing) != notification.revision
    ):
        return False
    try:
        send(alert_message(user.email, search.name, to_public(listing), user.locale))
    except MailRefused:
        log.warning("alert e-mail of notification %s refused by the relay", notification.id)
        return False
    notification.emailed_at = utcnow()
    session.add(notification)
    session.flush()
    return True
