"""Key rotation: re-wrap every company's data key and re-seal flows' free text and users' e-mail
addresses under the current (first) key-encryption key, so an old KEK can then be retired; the
domains above re-seal their own texts on KEYS_ROTATED."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import attributes
from sqlmodel import Session, select

from core.events import emit
from marketplace.accounts.models import User
from marketplace.companies.models import Company
from marketplace.flows.events import KEYS_ROTATED
from marketplace.flows.models import Flow
from privacy.vault import Sealed, rewrap

BATCH = 500


@dataclass(frozen=True)
class Rotation:
    companies: int
    flows: int
    users: int = 0


def rotate_keys(session: Session) -> Rotation:
    companies = 0
    for company in session.exec(select(Company)).all():
        sealed = Sealed(company.kek_id, company.wrapped_key, company.identity_ciphertext)
        fresh = rewrap(sealed, aad=company.id.bytes)
        if fresh.kek_id != company.kek_id:
            company.kek_id, company.wrapped_key = fresh.kek_id, fresh.wrapped_key
            session.add(company)
            companies += 1
    flows = 0
    for flow in session.exec(select(Flow)).all():
        # Reading opened the texts with whichever KEK sealed them; writing seals with the first.
        for name in ("label", "description", "quality_spec"):
            attributes.flag_modified(flow, name)
        session.add(flow)
        flows += 1
        if flows % BATCH == 0:
            session.flush()
    users = 0
    for user in session.exec(select(User)).all():
        attributes.flag_modified(user, "email")
        session.add(user)
        users += 1
    session.flush()
    # The sealed texts of domains above this one (introductions' notes and messages).
    emit(session, KEYS_ROTATED)
    return Rotation(companies=companies, flows=flows, users=users)
