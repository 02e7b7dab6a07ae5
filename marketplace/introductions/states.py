"""The introduction's state machine: states, events, who may fire each, and nothing else (pure).

The service asks `transition` before it changes a row: an event the table does not hold for the
current state is refused with the state's name, so a late or concurrent request learns why.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    INTEREST_EXPRESSED = "interest_expressed"
    SCREENING = "screening"
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REVEALED = "revealed"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Event(StrEnum):
    EXPRESS = "express"
    SCREEN = "screen"
    PROPOSE = "propose"
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    REVEAL = "reveal"


class Party(StrEnum):
    """Who fires an event: the two companies' members, the facilitator, or the platform itself
    (beat's expiry, the reveal that follows the last acceptance)."""

    REQUESTER = "requester"
    OWNER = "owner"
    FACILITATOR = "facilitator"
    SYSTEM = "system"


TERMINAL = frozenset({State.REVEALED, State.DECLINED, State.WITHDRAWN, State.EXPIRED})
# Waiting for someone: these expire, and any party may still withdraw from them.
PENDING = frozenset({State.INTEREST_EXPRESSED, State.SCREENING, State.PROPOSED, State.ACCEPTED})

_R, _O, _F, _S = Party.REQUESTER, Party.OWNER, Party.FACILITATOR, Party.SYSTEM

# (state before, event) -> (state after, parties allowed). `None` is "no introduction yet".
TABLE: dict[tuple[State | None, Event], tuple[State, frozenset[Party]]] = {
    (None, Event.EXPRESS): (State.INTEREST_EXPRESSED, frozenset({_R, _F})),
    (State.INTEREST_EXPRESSED, Event.SCREEN): (State.SCREENING, frozenset({_F})),
    # Without screening (a territory setting) the platform proposes at once.
    (State.INTEREST_EXPRESSED, Event.PROPOSE): (State.PROPOSED, frozenset({_F, _S})),
    (State.SCREENING, Event.PROPOSE): (State.PROPOSED, frozenset({_F})),
    (State.PROPOSED, Event.ACCEPT): (State.ACCEPTED, frozenset({_O})),
    # When the territory asks the requester to confirm too, its acceptance comes second and
    # leaves the state as it is: the reveal follows it.
    (State.ACCEPTED, Event.ACCEPT): (State.ACCEPTED, frozenset({_R})),
    (State.ACCEPTED, Event.REVEAL): (State.REVEALED, frozenset({_S})),
    **{(s, Event.DECLINE): (State.DECLINED, frozenset({_O, _F})) for s in PENDING},
    **{(s, Event.WITHDRAW): (State.WITHDRAWN, frozenset({_R, _O, _F})) for s in PENDING},
    **{(s, Event.EXPIRE): (State.EXPIRED, frozenset({_S})) for s in PENDING},
}


class IllegalTransition(Exception):
    """The event is not possible in this state (the service answers 409 naming the state)."""

    def __init__(self, state: State | None, event: Event) -> None:
        super().__init__(f"{event} is not possible in state {state}")
        self.state = state
        self.event = event


class PartyNotAllowed(Exception):
    """The event is possible in this state, but not for this party (the service answers 403)."""

    def __init__(self, state: State | None, event: Event, party: Party) -> None:
        super().__init__(f"{event} in state {state} is not for the {party}")
        self.state = state
        self.event = event
        self.party = party


def transition(state: State | None, event: Event, party: Party) -> State:
    """The state after `event` fired by `party` in `state`; raises when the table says no."""
    found = TABLE.get((state, event))
    if found is None:
        raise IllegalTransition(state, event)
    after, parties = found
    if party not in parties:
        raise PartyNotAllowed(state, event, party)
    return after
