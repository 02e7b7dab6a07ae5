"""The identity vault: envelope encryption, binding to the owner, key rotation, blind index."""

from __future__ import annotations

import base64
import os
import threading
import uuid

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from sqlmodel import Session, select

from core.settings import Settings, get_settings
from marketplace.companies.models import Company
from privacy import vault
from privacy.blind_index import blind_index
from tests.factories import create_company_row


def _kek() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_identity_round_trips_and_is_bound_to_its_owner() -> None:
    owner = uuid.uuid4()
    sealed = vault.seal_json({"legal_name": "Cimenterie des Dunes"}, aad=owner.bytes)
    assert b"Cimenterie" not in sealed.ciphertext
    assert vault.open_json(sealed, aad=owner.bytes) == {"legal_name": "Cimenterie des Dunes"}
    vault.clear_key_cache()
    with pytest.raises(InvalidTag):
        vault.open_json(sealed, aad=uuid.uuid4().bytes)


def test_rotation_rewraps_data_keys_and_old_keys_still_open(monkeypatch) -> None:
    owner = uuid.uuid4().bytes
    old, new = _kek(), _kek()
    monkeypatch.setattr(get_settings(), "vault_keks", f"old:{old}")
    sealed = vault.seal_json({"siret": "1"}, aad=owner)
    monkeypatch.setattr(get_settings(), "vault_keks", f"new:{new},old:{old}")
    vault.clear_key_cache()
    rotated = vault.rewrap(sealed, aad=owner)
    assert rotated.kek_id == "new" and rotated.ciphertext == sealed.ciphertext
    monkeypatch.setattr(get_settings(), "vault_keks", f"new:{new}")
    vault.clear_key_cache()
    assert vault.open_json(rotated, aad=owner) == {"siret": "1"}
    with pytest.raises(vault.VaultError):
        vault.open_json(sealed, aad=owner)
    vault.clear_key_cache()


def test_a_kek_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(vault.VaultError):
        vault.parse_keks("short:" + base64.b64encode(b"too short").decode())


def test_blind_index_ignores_spacing_and_separates_purposes() -> None:
    assert blind_index("siret", "732 829 320 00074") == blind_index("siret", "73282932000074")
    assert blind_index("siret", "73282932000074") != blind_index("site", "73282932000074")


def test_company_rows_hold_no_plaintext_identity(session: Session) -> None:
    create_company_row(session, "Papeterie du Canal SA", siret="73282932000074")
    row = session.exec(select(Company)).one()
    blob = row.identity_ciphertext + row.wrapped_key + row.siret_index.encode()
    assert b"Papeterie" not in blob and b"73282932000074" not in blob


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(ValueError, match="SYMBIOSE_SECRET_KEY"):
        Settings(environment="production")
    good = Settings(
        environment="production",
        secret_key="x" * 40,
        vault_keks=f"k1:{_kek()}",
        blind_index_key="y" * 40,
        audit_signing_key=_kek(),
    )
    assert good.environment == "production"


def test_free_text_is_sealed_and_opens_after_rotation(monkeypatch) -> None:
    old, new = _kek(), _kek()
    monkeypatch.setattr(get_settings(), "vault_keks", f"old:{old}")
    blob = vault.seal_text("Boues de Papeterie du Canal, SIRET 73282932000074")
    assert b"Papeterie" not in blob and b"7328" not in blob
    monkeypatch.setattr(get_settings(), "vault_keks", f"new:{new},old:{old}")
    assert vault.open_text(blob).startswith("Boues de Papeterie")
    assert vault.seal_text("x") != vault.seal_text("x")  # fresh nonce each time


def test_flow_texts_are_stored_sealed(session: Session) -> None:
    from sqlalchemy import text

    from tests.factories import create_flow_row, create_site_row

    company = create_company_row(session, "Papeterie du Canal SA", siret="73282932000074")
    site = create_site_row(session, company)
    create_flow_row(
        session,
        site,
        label="Boues Papeterie du Canal",
        description="Contact 03 28 12 34 56, SIRET 73282932000074",
    )
    raw = session.execute(text("SELECT label, description FROM flows")).one()
    assert b"Papeterie" not in bytes(raw[0]) and b"7328" not in bytes(raw[1])


def test_rotating_keys_lets_the_old_kek_go(session: Session, monkeypatch) -> None:
    from sqlalchemy import text

    from marketplace.companies.service import identity_of
    from marketplace.flows.keys import rotate_keys
    from marketplace.flows.models import Flow
    from tests.factories import create_flow_row, create_site_row

    old, new = _kek(), _kek()
    monkeypatch.setattr(get_settings(), "vault_keks", f"old:{old}")
    vault.clear_key_cache()
    company = create_company_row(session, "Rotation SA")
    create_flow_row(session, create_site_row(session, company), description="secret")
    monkeypatch.setattr(get_settings(), "vault_keks", f"new:{new},old:{old}")
    vault.clear_key_cache()
    assert rotate_keys(session).companies == 1
    session.commit()
    monkeypatch.setattr(get_settings(), "vault_keks", f"new:{new}")
    vault.clear_key_cache()
    session.expire_all()
    staff = _staff()
    reloaded = session.get(Company, company.id)
    assert reloaded is not None
    assert identity_of(session, staff, reloaded).legal_name == "Rotation SA"
    assert session.exec(select(Flow)).one().description == "secret"
    assert b"old" not in bytes(session.execute(text("SELECT description FROM flows")).scalar_one())
    vault.clear_key_cache()


def _staff():
    from marketplace.accounts.models import Role
    from marketplace.accounts.service import Actor

    return Actor(user_id=uuid.uuid4(), role=Role.FACILITATOR, company_id=None)


def test_the_audit_chain_names_its_first_broken_link(session: Session) -> None:
    from privacy import audit
    from privacy.models import AuditEntry

    for _ in range(3):
        audit.append(session, "identity.read", actor_id=uuid.uuid4(), subject_id=uuid.uuid4())
    session.commit()
    assert audit.verify(session).first_broken is None
    entry = session.get(AuditEntry, 2)
    assert entry is not None
    entry.action = "identity.reveal"
    session.add(entry)
    session.commit()
    assert audit.verify(session).first_broken == 2


def test_concurrent_audit_appends_all_land_in_one_chain(migrated_database: sa.Engine) -> None:
    """Facilitators reading identities at the same moment: every read is logged, none fails."""
    from concurrent.futures import ThreadPoolExecutor

    from privacy import audit

    barrier = threading.Barrier(4)

    def read_identity(_: int) -> None:
        with Session(migrated_database) as session:
            barrier.wait(timeout=30)  # start together
            audit.append(session, "identity.read", actor_id=uuid.uuid4(), subject_id=uuid.uuid4())
            session.commit()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(read_identity, range(8)))
    with Session(migrated_database) as session:
        assert audit.count(session) == 8
        assert audit.verify(session).first_broken is None
