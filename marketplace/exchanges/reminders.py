"""What beat does to contracts: expire those past their end date, and remind the parties of an
end within 30 days and of deliveries overdue (no delivery in the expected period), once each."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.db import select_for_update
from core.models import utcnow
from marketplace.exchanges import outbox
from marketplace.exchanges.models import Contract, Delivery
from marketplace.exchanges.service import fire, terms_of, version_of
from marketplace.exchanges.states import TERMINAL, Event, Party, State

END_NOTICE = timedelta(days=30)
# The period in which an active contract expects a delivery, by the terms' regularity; none
# for a seasonal or one-off exchange, whose rhythm the terms do not tell.
EXPECTED_EVERY = {"continuous": timedelta(days=31), "batch": timedelta(days=92)}


def expire_due(session: Session, today: date | None = None) -> int:
    """Every contract not ended whose end date has passed expires; returns how many."""
    today = today or utcnow().date()
    query = (
        select(Contract)
        .where(
            col(Contract.state).not_in([s.value for s in TERMINAL]),
            col(Contract.end_date) < today,
        )
        .order_by(col(Contract.id))
    )
    expired = 0
    for contract in select_for_update(session, query):
        fire(session, contract, Event.EXPIRE, Party.SYSTEM, None)
        contract.closed_at = utcnow()
        outbox.to_parties(session, contract, "contract.closed")
        expired += 1
    session.flush()
    return expired


def _last_delivery(session: Session, contract: Contract) -> datetime | None:
    query = select(sa.func.max(Delivery.delivered_on)).where(Delivery.contract_id == contract.id)
    last = session.exec(query).one()
    if last is None:
        return contract.activated_at
    return datetime.combine(last, datetime.min.time(), tzinfo=utcnow().tzinfo)


def remind_due(session: Session, now: datetime | None = None) -> int:
    """Notices for active contracts ending within 30 days (once) and for those without a
    delivery in their expected period (once per period); returns how many contracts."""
    now = now or utcnow()
    query = select(Contract).where(Contract.state == State.ACTIVE).order_by(col(Contract.id))
    reminded = 0
    for contract in select_for_update(session, query):
        if (
            contract.end_reminded_at is None
            and contract.end_date is not None
            and contract.end_date <= (now + END_NOTICE).date()
        ):
            contract.end_reminded_at = now
            outbox.to_parties(session, contract, "contract.ending")
            reminded += 1
        every = EXPECTED_EVERY.get(terms_of(version_of(session, contract)).regularity.value)
        last = _last_delivery(session, contract)
        if every is None or last is None or now - last < every:
            continue
        if contract.overdue_reminded_at is not None and now - contract.overdue_reminded_at < every:
            continue
        contract.overdue_reminded_at = now
        outbox.to_parties(session, contract, "contract.deliveries_overdue")
        reminded += 1
    session.flush()
    return reminded
