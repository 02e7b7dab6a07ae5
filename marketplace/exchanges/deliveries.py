"""Deliveries against an active contract, their totals against the contracted quantity, and the
lines of the French chronological registers (outgoing and incoming waste, end-of-waste) as CSV.

The registers name the producer and the receiver (name and SIRET) from the frozen terms: only
the two parties and the facilitator ever read a contract, and they were revealed to each other."""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, select

from contracts.status import Route
from contracts.terms import PartyRole, Terms
from marketplace.accounts.service import Actor
from marketplace.exchanges.errors import (
    ConformityStatementNeeded,
    DeliveryInFuture,
    RegisterNotKept,
    UnitNotContracted,
)
from marketplace.exchanges.models import Contract, Delivery
from marketplace.exchanges.schemas import DeliveriesRead, DeliveryCreate, DeliveryRead
from marketplace.exchanges.service import (
    about,
    get_contract,
    lock_contract,
    next_state,
    terms_of,
    touch,
    version_of,
)
from marketplace.exchanges.states import Event
from marketplace.reference.service import low_codes_by_code
from privacy import audit

REGISTERS = ("outgoing", "incoming", "end_of_waste")
# The columns of the chronological registers (arrêté du 31 mai 2021 fixant le contenu des
# registres), one set for the three: what each register needs, in its own words.
COLUMNS = {
    "outgoing": [
        "date_expedition",
        "code_dechet",
        "denomination_dechet",
        "dangereux",
        "quantite",
        "unite",
        "code_traitement",
        "producteur_raison_sociale",
        "producteur_siret",
        "destinataire_raison_sociale",
        "destinataire_siret",
        "destinataire_adresse",
        "transporteur",
        "lot",
    ],
    "incoming": [
        "date_reception",
        "code_dechet",
        "denomination_dechet",
        "dangereux",
        "quantite",
        "unite",
        "code_traitement",
        "producteur_raison_sociale",
        "producteur_siret",
        "producteur_adresse",
        "destinataire_raison_sociale",
        "destinataire_siret",
        "transporteur",
        "lot",
    ],
    "end_of_waste": [
        "date_cession",
        "code_dechet_origine",
        "denomination",
        "quantite",
        "unite",
        "acte_criteres",
        "producteur_raison_sociale",
        "producteur_siret",
        "destinataire_raison_sociale",
        "destinataire_siret",
        "transporteur",
        "lot",
        "attestation_conformite_sha256",
    ],
}


def record(
    session: Session, actor: Actor, contract_id: uuid.UUID, data: DeliveryCreate
) -> Delivery:
    """A delivery against an active contract, in its contracted unit; an end-of-waste lot
    needs its statement of conformity."""
    contract, party = lock_contract(session, actor, contract_id)
    version = version_of(session, contract)
    terms = terms_of(version)
    next_state(contract, Event.DELIVER, party)
    if data.unit != terms.unit.value:
        raise UnitNotContracted(field="unit", unit=terms.unit.value)
    if data.delivered_on > date.today():
        raise DeliveryInFuture(field="delivered_on")
    statement = (data.conformity_statement or "").strip() or None
    if version.route == Route.END_OF_WASTE and statement is None:
        raise ConformityStatementNeeded(field="conformity_statement")
    delivery = Delivery(
        contract_id=contract.id,
        delivered_on=data.delivered_on,
        quantity=data.quantity,
        unit=data.unit,
        lot=data.lot,
        carrier=data.carrier,
        conformity_statement=statement,
        conformity_sha256=hashlib.sha256(statement.encode()).hexdigest() if statement else None,
        created_by=actor.user_id,
    )
    session.add(delivery)
    session.flush()
    # The state stays active: the delivery's own entry below is the audit of this step.
    touch(contract)
    session.add(contract)
    audit.append(
        session,
        "contract.delivery",
        actor_id=actor.user_id,
        subject_id=delivery.id,
        data=about(contract, quantity=data.quantity, unit=data.unit),
    )
    session.flush()
    return delivery


def deliveries_of(session: Session, contract: Contract) -> Sequence[Delivery]:
    query = (
        select(Delivery)
        .where(Delivery.contract_id == contract.id)
        .order_by(col(Delivery.delivered_on), col(Delivery.created_at))
    )
    return session.exec(query).all()


def read(delivery: Delivery) -> DeliveryRead:
    return DeliveryRead.model_validate(delivery, from_attributes=True)


def listing(session: Session, actor: Actor, contract_id: uuid.UUID) -> DeliveriesRead:
    contract, _ = get_contract(session, actor, contract_id)
    terms = terms_of(version_of(session, contract))
    rows = deliveries_of(session, contract)
    total = sum(d.quantity for d in rows)
    years = max((terms.end_date - terms.start_date).days, 1) / 365.25
    contracted = terms.quantity_per_year * years
    return DeliveriesRead(
        deliveries=[read(d) for d in rows],
        unit=terms.unit.value,
        total_quantity=total,
        contracted_per_year=terms.quantity_per_year,
        contracted_total=round(contracted, 3),
        share_of_contracted=round(total / contracted, 4) if contracted else 0.0,
    )


def _party(terms: Terms, role: PartyRole) -> tuple[str, str, str]:
    for party in terms.parties:
        if party.role == role:
            return party.legal_name, party.siret or "", party.site_address or party.address
    return "", "", ""


def register_csv(session: Session, actor: Actor, contract_id: uuid.UUID, register: str) -> str:
    """The register's lines for this contract's deliveries, as CSV (`;`-separated, as French
    spreadsheets read it). Waste registers for a waste; the end-of-waste one for end-of-waste."""
    contract, _ = get_contract(session, actor, contract_id)
    version = version_of(session, contract)
    route = version.route or ""
    wanted = Route.END_OF_WASTE if register == "end_of_waste" else Route.WASTE
    if route != wanted:
        raise RegisterNotKept(field="register", register=register, route=route or "undecided")
    terms = terms_of(version)
    label = ""
    if terms.low_code:
        found = low_codes_by_code(session, [terms.low_code.replace(" ", "")])
        label = found[0].description_fr if found else ""
    producer = _party(terms, PartyRole.GIVER)
    receiver = _party(terms, PartyRole.TAKER)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS[register])
    for d in deliveries_of(session, contract):
        quantity = f"{d.quantity:g}"
        if register == "outgoing":
            row = [
                d.delivered_on.isoformat(), terms.low_code or "", label,
                "oui" if terms.hazardous else "non", quantity, d.unit, version.r_code or "",
                producer[0], producer[1], receiver[0], receiver[1], receiver[2], d.carrier, d.lot,
            ]  # fmt: skip
        elif register == "incoming":
            row = [
                d.delivered_on.isoformat(), terms.low_code or "", label,
                "oui" if terms.hazardous else "non", quantity, d.unit, version.r_code or "",
                producer[0], producer[1], producer[2], receiver[0], receiver[1], d.carrier, d.lot,
            ]  # fmt: skip
        else:
            row = [
                d.delivered_on.isoformat(), terms.low_code or "", terms.material_label,
                quantity, d.unit, version.end_of_waste_act or version.case_by_case_decision or "",
                producer[0], producer[1], receiver[0], receiver[1], d.carrier, d.lot,
                d.conformity_sha256 or "",
            ]  # fmt: skip
        writer.writerow([_safe_cell(v) for v in row])
    return out.getvalue()


def _safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    # Full-width forms too: some spreadsheets read them as the ASCII signs.
    return (
        f"'{value}"
        if value[:1] in ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
        else value
    )
