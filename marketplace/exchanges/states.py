"""The contract's state machine: states, events, who may fire each, and nothing else (pure).

The service asks `transition` before it changes a contract: an event the table does not hold
for the current state is refused with the state's name (409), an event the table holds but not
for this party is refused as not theirs (403)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    DRAFT = "draft"
    REVIEW = "review"
    # Terms frozen, hash fixed, PDF rendered: waiting for the first signature.
    READY = "ready"
    # One party signed.
    SIGNING = "signing"
    # Giver and taker signed: waiting for the association's countersignature.
    SIGNED = "signed"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    EXPIRED = "expired"


class Event(StrEnum):
    SUBMIT = "submit"  # draft -> review
    AMEND = "amend"  # new terms: a new version, back to draft
    QUALIFY = "qualify"  # the status wizard's answers and evidence
    FREEZE = "freeze"  # review -> ready
    SIGN = "sign"  # a party's signature
    BOTH_SIGNED = "both_signed"  # the second party's signature completes the pair
    COUNTERSIGN = "countersign"  # the association, last
    DELIVER = "deliver"
    COMPLETE = "complete"
    TERMINATE = "terminate"
    EXPIRE = "expire"


class Party(StrEnum):
    GIVER = "giver"
    TAKER = "taker"
    FACILITATOR = "facilitator"
    SYSTEM = "system"


TERMINAL = frozenset({State.COMPLETED, State.TERMINATED, State.EXPIRED})
# Terms may still change in these: a change after a signature voids it.
AMENDABLE = frozenset({State.DRAFT, State.REVIEW, State.READY, State.SIGNING, State.SIGNED})
# The terms of these states' current version are frozen (hash fixed, PDF rendered).
FROZEN = frozenset({State.READY, State.SIGNING, State.SIGNED, State.ACTIVE, *TERMINAL})

_G, _T, _F, _S = Party.GIVER, Party.TAKER, Party.FACILITATOR, Party.SYSTEM
_ANYONE = frozenset({_G, _T, _F})

# (state before, event) -> (state after, parties allowed).
TABLE: dict[tuple[State, Event], tuple[State, frozenset[Party]]] = {
    (State.DRAFT, Event.SUBMIT): (State.REVIEW, frozenset({_F})),
    **{(s, Event.AMEND): (State.DRAFT, _ANYONE) for s in AMENDABLE},
    (State.DRAFT, Event.QUALIFY): (State.DRAFT, _ANYONE),
    (State.REVIEW, Event.QUALIFY): (State.REVIEW, _ANYONE),
    (State.REVIEW, Event.FREEZE): (State.READY, frozenset({_F})),
    (State.READY, Event.SIGN): (State.SIGNING, frozenset({_G, _T})),
    (State.SIGNING, Event.SIGN): (State.SIGNING, frozenset({_G, _T})),
    (State.SIGNING, Event.BOTH_SIGNED): (State.SIGNED, frozenset({_S})),
    (State.SIGNED, Event.COUNTERSIGN): (State.ACTIVE, frozenset({_F})),
    (State.ACTIVE, Event.DELIVER): (State.ACTIVE, _ANYONE),
    (State.ACTIVE, Event.COMPLETE): (State.COMPLETED, _ANYONE),
    **{(s, Event.TERMINATE): (State.TERMINATED, _ANYONE) for s in (*AMENDABLE, State.ACTIVE)},
    **{(s, Event.EXPIRE): (State.EXPIRED, frozenset({_S})) for s in (*AMENDABLE, State.ACTIVE)},
}


class IllegalTransition(Exception):
    """The event is not possible in this state (the service answers 409 naming the state)."""

    def __init__(self, state: State, event: Event) -> None:
        super().__init__(f"{event} is not possible in state {state}")
        self.state = state
        self.event = event


class PartyNotAllowed(Exception):
    """The event is possible in this state, but not for this party (the service answers 403)."""

    def __init__(self, state: State, event: Event, party: Party) -> None:
        super().__init__(f"{event} in state {state} is not for the {party}")
        self.state = state
        self.event = event
        self.party = party


def transition(state: State, event: Event, party: Party) -> State:
    """The state after `event` fired by `party` in `state`; raises when the table says no."""
    found = TABLE.get((state, event))
    if found is None:
        raise IllegalTransition(state, event)
    after, parties = found
    if party not in parties:
        raise PartyNotAllowed(state, event, party)
    return after
