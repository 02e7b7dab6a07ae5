"""The introduction's transition table, cell by cell: every state x event x party either moves
to the one expected state or refuses, and terminal states refuse everything."""

from __future__ import annotations

import pytest

from marketplace.introductions.states import (
    PENDING,
    TABLE,
    TERMINAL,
    Event,
    IllegalTransition,
    Party,
    PartyNotAllowed,
    State,
    transition,
)

S, E, P = State, Event, Party
# The whole table written out again, independently: (state, event) -> (after, parties).
EXPECTED: dict[tuple[State | None, Event], tuple[State, set[Party]]] = {
    (None, E.EXPRESS): (S.INTEREST_EXPRESSED, {P.REQUESTER, P.FACILITATOR}),
    (S.INTEREST_EXPRESSED, E.SCREEN): (S.SCREENING, {P.FACILITATOR}),
    (S.INTEREST_EXPRESSED, E.PROPOSE): (S.PROPOSED, {P.FACILITATOR, P.SYSTEM}),
    (S.SCREENING, E.PROPOSE): (S.PROPOSED, {P.FACILITATOR}),
    (S.PROPOSED, E.ACCEPT): (S.ACCEPTED, {P.OWNER}),
    (S.ACCEPTED, E.ACCEPT): (S.ACCEPTED, {P.REQUESTER}),
    (S.ACCEPTED, E.REVEAL): (S.REVEALED, {P.SYSTEM}),
}
for _pending in (S.INTEREST_EXPRESSED, S.SCREENING, S.PROPOSED, S.ACCEPTED):
    EXPECTED[(_pending, E.DECLINE)] = (S.DECLINED, {P.OWNER, P.FACILITATOR})
    EXPECTED[(_pending, E.WITHDRAW)] = (S.WITHDRAWN, {P.REQUESTER, P.OWNER, P.FACILITATOR})
    EXPECTED[(_pending, E.EXPIRE)] = (S.EXPIRED, {P.SYSTEM})

CELLS = [(s, e, p) for s in [None, *State] for e in Event for p in Party]


def test_the_table_is_exactly_the_expected_one() -> None:
    assert {k: (v[0], set(v[1])) for k, v in TABLE.items()} == EXPECTED


@pytest.mark.parametrize(("state", "event", "party"), CELLS)
def test_every_cell(state: State | None, event: Event, party: Party) -> None:
    expected = EXPECTED.get((state, event))
    if expected is None:
        with pytest.raises(IllegalTransition) as refused:
            transition(state, event, party)
        assert refused.value.state == state and str(state) in str(refused.value)
    elif party not in expected[1]:
        with pytest.raises(PartyNotAllowed):
            transition(state, event, party)
    else:
        assert transition(state, event, party) == expected[0]


def test_terminal_states_accept_no_event() -> None:
    assert {S.REVEALED, S.DECLINED, S.WITHDRAWN, S.EXPIRED} == TERMINAL
    assert set(State) == PENDING | TERMINAL
    for state in TERMINAL:
        assert not [e for e in Event if (state, e) in TABLE]


def test_reveal_only_after_acceptance() -> None:
    assert [k for k, v in TABLE.items() if v[0] == S.REVEALED] == [(S.ACCEPTED, E.REVEAL)]
