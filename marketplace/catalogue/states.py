"""The listing lifecycle: draft → published ⇄ paused → withdrawn | expired | fulfilled."""

from __future__ import annotations

import enum

from marketplace.catalogue.errors import ListingStatusRefuses


class ListingStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    FULFILLED = "fulfilled"


class ListingEvent(enum.StrEnum):
    PUBLISH = "publish"
    PAUSE = "pause"
    RESUME = "resume"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    FULFIL = "fulfil"


S, E = ListingStatus, ListingEvent
TRANSITIONS: dict[tuple[ListingStatus, ListingEvent], ListingStatus] = {
    (S.DRAFT, E.PUBLISH): S.PUBLISHED,
    (S.DRAFT, E.WITHDRAW): S.WITHDRAWN,
    (S.PUBLISHED, E.PAUSE): S.PAUSED,
    (S.PAUSED, E.RESUME): S.PUBLISHED,
    (S.PUBLISHED, E.WITHDRAW): S.WITHDRAWN,
    (S.PAUSED, E.WITHDRAW): S.WITHDRAWN,
    (S.PUBLISHED, E.EXPIRE): S.EXPIRED,
    (S.PAUSED, E.EXPIRE): S.EXPIRED,
    (S.PUBLISHED, E.FULFIL): S.FULFILLED,
    (S.PAUSED, E.FULFIL): S.FULFILLED,
}
TERMINAL = frozenset({S.WITHDRAWN, S.EXPIRED, S.FULFILLED})
# Only these count in k-anonymity cells: what the public can see.
VISIBLE = frozenset({S.PUBLISHED})


def transition(state: ListingStatus | str, event: ListingEvent) -> ListingStatus:
    current = ListingStatus(state)
    try:
        return TRANSITIONS[(current, event)]
    except KeyError:
        raise ListingStatusRefuses(
            field="status", status=current.value, event=event.value
        ) from None
