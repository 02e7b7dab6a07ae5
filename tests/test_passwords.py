"""Passwords are hashed with Argon2id at RFC 9106's low-memory cost (64 MiB, 3 passes) in every
environment but the test suite's, which hashes at the smallest cost to create its thousands of
accounts quickly. Either hash verifies under either environment: a hash names its parameters."""

from __future__ import annotations

import pytest
from argon2 import extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlmodel import Session

from core.settings import get_settings
from marketplace.accounts.errors import WrongCredentials
from marketplace.accounts.models import Role
from marketplace.accounts.service import authenticate, create_user, hash_password
from tests.factories import PASSWORD


@pytest.mark.parametrize("environment", ["development", "production"])
def test_passwords_are_hashed_at_the_standard_cost_outside_the_test_suite(
    monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    monkeypatch.setattr(get_settings(), "environment", environment)
    assert extract_parameters(hash_password(PASSWORD)) == RFC_9106_LOW_MEMORY


def test_the_test_suite_hashes_at_the_smallest_cost() -> None:
    assert get_settings().environment == "test"
    cheap = extract_parameters(hash_password(PASSWORD))
    assert (cheap.time_cost, cheap.memory_cost, cheap.parallelism) == (1, 8, 1)


@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_standard_cost_account_logs_in_and_unknown_addresses_are_refused(
    session: Session, monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    monkeypatch.setattr(get_settings(), "environment", environment)
    user = create_user(session, email="cost@example.fr", password=PASSWORD, role=Role.FACILITATOR)
    session.commit()
    assert extract_parameters(user.password_hash) == RFC_9106_LOW_MEMORY
    assert authenticate(session, "cost@example.fr", PASSWORD).id == user.id
    with pytest.raises(WrongCredentials):
        authenticate(session, "cost@example.fr", "wrong-password-here")
    with pytest.raises(WrongCredentials):
        authenticate(session, "nobody@example.fr", PASSWORD)
    # Back in the test suite, the account made at the standard cost still logs in.
    monkeypatch.setattr(get_settings(), "environment", "test")
    assert authenticate(session, "cost@example.fr", PASSWORD).id == user.id
