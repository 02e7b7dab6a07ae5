"""What the contract pages show of a contract: its state and next step in the page's words, the
terms as readable rows, the diff between two versions with the fields named, the regulatory
status with its conditions and obligations in the page's language, and the buttons the viewer's
side may press (from the state table, never a copy of it).

Only the giver, the taker and the facilitator ever reach these views: the service answers "no
such contract" to anyone else before anything is read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_currency, format_decimal
from sqlmodel import Session, col, select

from contracts.status import CONDITIONS, Condition, Route, condition
from contracts.terms import PartyRole, TermChange, Terms, low_description
from marketplace.accounts.service import Actor
from marketplace.exchanges.models import Contract
from marketplace.exchanges.states import (
    Event,
    IllegalTransition,
    Party,
    PartyNotAllowed,
    State,
    transition,
)
from web.i18n import N_, Translate
from web.labels import REGULARITIES, label
from web.templating import format_day

STATES = {
    "draft": N_("Draft"),
    "review": N_("In review"),
    "ready": N_("Ready for signature"),
    "signing": N_("Being signed"),
    "signed": N_("Signed by both parties"),
    "active": N_("In force"),
    "completed": N_("Completed"),
    "terminated": N_("Terminated"),
    "expired": N_("Expired"),
}
ROUTES = {
    "waste": N_("Waste"),
    "by_product": N_("By-product"),
    "end_of_waste": N_("End-of-waste"),
    "outside_waste_law": N_("Outside waste law"),
}
SIDES = {
    "giver": N_("Giver"),
    "taker": N_("Taker"),
    "carrier": N_("Carrier"),
    "facilitator": N_("Facilitating association"),
}
PRICE_KINDS = {
    "price": N_("Price paid by the taker"),
    "gate_fee": N_("Gate fee paid by the giver"),
    "free": N_("Free of charge"),
}
UNITS = {"t": N_("t"), "MWh": N_("MWh"), "m3": N_("m³")}
# The terms' fields as the diff and the form name them (a diff's path without its party index).
FIELDS = {
    "material_label": N_("Material"),
    "low_code": N_("List of Waste code"),
    "hazardous": N_("Hazardous"),
    "quantity_per_year": N_("Quantity per year"),
    "unit": N_("Unit"),
    "regularity": N_("Regularity"),
    "quality_specification": N_("Quality specification"),
    "acceptance_tests": N_("Acceptance tests"),
    "price.kind": N_("Price or gate fee"),
    "price.amount_cents": N_("Amount (EUR)"),
    "price.currency": N_("Currency"),
    "price.per_unit": N_("Per unit"),
    "price.payer": N_("Who pays"),
    "delivery_point": N_("Delivery point"),
    "transport": N_("Transport"),
    "start_date": N_("Start date"),
    "end_date": N_("End date"),
    "termination": N_("Termination"),
    "liability": N_("Liability"),
    "confidentiality": N_("Confidentiality"),
    "non_circumvention": N_("Non-circumvention"),
    "dispute_resolution": N_("Dispute resolution"),
    "role": N_("Role"),
    "legal_name": N_("Company"),
    "siret": N_("SIRET"),
    "address": N_("Address"),
    "site_name": N_("Site"),
    "site_address": N_("Site address"),
    "representative": N_("Representative"),
}
CLAUSES = ("termination", "liability", "confidentiality", "non_circumvention", "dispute_resolution")
# The state's next step, as the viewer's side reads it.
NEXT_STEPS = {
    "draft": N_("The facilitator completes the draft and submits it for review"),
    "review": N_("Review the terms and the regulatory status; then ready for signature"),
    "signed": N_("Awaiting the facilitating association's countersignature"),
    "active": N_("Record the deliveries"),
}
SIGN_YOURS = N_("Your signature is awaited")
SIGN_OTHERS = N_("Awaiting the other party's signature")
SIGN_PARTIES = N_("Awaiting the parties' signatures")
NOTHING_LEFT = N_("Nothing left to do")
# The wizard's questions, in the order a practitioner asks them (contracts.status.Answers).
QUESTIONS = (
    ("is_utility", N_("Is the flow a utility (heat, water, CO₂ supplied as a utility)?")),
    (
        "produced_as_integral_part",
        N_("Is the material produced as an integral part of a production process?"),
    ),
    ("further_use_certain", N_("Is its further use certain (a taker is committed to it)?")),
    (
        "used_without_further_processing",
        N_("Can it be used directly, without processing beyond normal industrial practice?"),
    ),
    (
        "lawful_use",
        N_("Does the use meet every product, environmental and health requirement?"),
    ),
    ("recovered", N_("Has the waste undergone a recovery operation in an authorised facility?")),
)


@dataclass(frozen=True)
class Action:
    name: str  # the path's last word: /contracts/{id}/{name}
    text: str
    # "post": a form button; "link": a page with its own form (sign, status, terms).
    kind: str
    danger: bool = False


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    multiline: bool = False


@dataclass(frozen=True)
class ChangeView:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class ConditionView:
    id: str
    label: str
    legal_basis: str
    needs_document: bool
    text: str
    document_name: str
    document_sha256: str
    missing: bool


def state_label(state: str, translate: Translate) -> str:
    return label(STATES, state, translate)


def route_label(route: str | None, translate: Translate) -> str:
    return label(ROUTES, route, translate) if route else translate(N_("Not decided yet"))


def condition_label(item: Condition, locale: str) -> str:
    return item.label_en if locale == "en" else item.label_fr


def condition_label_of(condition_id: str, locale: str) -> str:
    try:
        return condition_label(condition(condition_id), locale)
    except KeyError:
        return condition_id


def party_name(terms: Terms, role: PartyRole) -> str:
    return next((p.legal_name for p in terms.parties if p.role == role), "")


def signer_of(terms: Terms, role: str) -> str:
    """The company a signature of `role` was made for (the association for the facilitator)."""
    try:
        return party_name(terms, PartyRole(role))
    except ValueError:
        return ""


def counterpart(terms: Terms, party: Party) -> str:
    """The other party's name for a company (both were revealed before the draft); both for
    the facilitator."""
    giver, taker = party_name(terms, PartyRole.GIVER), party_name(terms, PartyRole.TAKER)
    if party == Party.GIVER:
        return taker
    if party == Party.TAKER:
        return giver
    return f"{giver} → {taker}"


def _allowed(state: State, event: Event, party: Party) -> bool:
    try:
        transition(state, event, party)
    except (IllegalTransition, PartyNotAllowed):
        return False
    return True


def next_step(state: str, party: Party, signed: set[str], translate: Translate) -> str:
    if state in ("ready", "signing"):
        if party == Party.FACILITATOR:
            return translate(SIGN_PARTIES)
        return translate(SIGN_OTHERS if party.value in signed else SIGN_YOURS)
    words = NEXT_STEPS.get(state)
    return translate(words) if words else translate(NOTHING_LEFT)


def actions_for(
    contract: Contract, party: Party, actor: Actor, signed: set[str], translate: Translate
) -> list[Action]:
    """The steps the state table lets this side take now; none for a company's plain member
    (a company acts on a contract through its administrators)."""
    if party != Party.FACILITATOR and not actor.is_company_admin:
        return []
    state = State(contract.state)
    found: list[Action] = []
    if _allowed(state, Event.QUALIFY, party):
        found.append(Action("status", translate(N_("Regulatory status wizard")), "link"))
    if _allowed(state, Event.AMEND, party):
        found.append(Action("terms", translate(N_("Propose a change to the terms")), "link"))
    if _allowed(state, Event.SUBMIT, party):
        found.append(Action("submit", translate(N_("Submit for review")), "post"))
    if _allowed(state, Event.FREEZE, party):
        found.append(Action("ready", translate(N_("Ready for signature")), "post"))
    if _allowed(state, Event.SIGN, party) and party.value not in signed:
        found.append(Action("sign", translate(N_("Sign")), "link"))
    if _allowed(state, Event.COUNTERSIGN, party):
        found.append(Action("sign", translate(N_("Countersign")), "link"))
    if _allowed(state, Event.COMPLETE, party):
        found.append(Action("complete", translate(N_("Mark as completed")), "post"))
    if _allowed(state, Event.TERMINATE, party):
        found.append(Action("terminate", translate(N_("Terminate")), "post", danger=True))
    return found


# --- terms as rows ----------------------------------------------------------------------------


def money(cents: int, locale: str) -> str:
    return format_currency(cents / 100, "EUR", locale=locale)


def quantity(value: float, locale: str) -> str:
    return format_decimal(value, format="#,##0.###", locale=locale)


def unit_label(unit: str, translate: Translate) -> str:
    return label(UNITS, unit, translate)


def terms_rows(terms: Terms, locale: str, translate: Translate) -> list[Row]:
    """Every term but the parties (their own table) and the clauses (their own paragraphs)."""
    unit = unit_label(terms.unit.value, translate)
    low = ""
    if terms.low_code:
        words = low_description(terms.low_code, locale)
        low = f"{terms.low_code} {words}".strip()
    price = terms.price
    amount = translate(PRICE_KINDS["free"])
    if price.kind != "free":
        per = unit_label(price.per_unit.value, translate)
        amount = (
            f"{translate(PRICE_KINDS[price.kind])} — {money(price.amount_cents, locale)} / {per}"
        )
    yes, no = translate(N_("yes")), translate(N_("no"))
    rows = [
        Row(translate(FIELDS["material_label"]), terms.material_label),
        Row(translate(FIELDS["low_code"]), low or "—"),
        Row(translate(FIELDS["hazardous"]), yes if terms.hazardous else no),
        Row(
            translate(FIELDS["quantity_per_year"]),
            f"{quantity(terms.quantity_per_year, locale)} {unit}",
        ),
        Row(
            translate(FIELDS["regularity"]), label(REGULARITIES, terms.regularity.value, translate)
        ),
        Row(translate(FIELDS["quality_specification"]), terms.quality_specification, True),
        Row(translate(FIELDS["acceptance_tests"]), terms.acceptance_tests, True),
        Row(translate(FIELDS["price.kind"]), amount),
        Row(translate(FIELDS["delivery_point"]), terms.delivery_point),
        Row(translate(FIELDS["transport"]), terms.transport, True),
        Row(translate(FIELDS["start_date"]), format_day(terms.start_date, locale)),
        Row(translate(FIELDS["end_date"]), format_day(terms.end_date, locale)),
    ]
    return rows


def clause_rows(terms: Terms, translate: Translate) -> list[Row]:
    return [Row(translate(FIELDS[name]), getattr(terms, name), True) for name in CLAUSES]


def field_label(path: str, translate: Translate) -> str:
    """ "parties[1].site_name" → "Party 2 · Site"; "price.amount_cents" → "Amount (EUR)"."""
    if path.startswith("parties["):
        index, _, rest = path[len("parties[") :].partition("]")
        number = int(index) + 1 if index.isdigit() else index
        party = translate(N_("Party %(number)s"), number=number)
        name = rest.lstrip(".")
        return f"{party} · {translate(FIELDS[name])}" if name in FIELDS else str(party)
    words = FIELDS.get(path)
    return translate(words) if words else path


def change_views(changes: list[TermChange], locale: str, translate: Translate) -> list[ChangeView]:
    views = []
    for change in changes:
        before, after = change.before, change.after
        if change.field == "price.amount_cents":
            before, after = (money(int(v), locale) if v.isdigit() else v for v in (before, after))
        elif change.field == "hazardous":
            words = {"true": translate(N_("yes")), "false": translate(N_("no"))}
            before, after = words.get(before, before), words.get(after, after)
        views.append(ChangeView(field_label(change.field, translate), before, after))
    return views


# --- the regulatory status ----------------------------------------------------------------------


def condition_views(
    route: str | None, evidence: list[Any], missing: set[str], locale: str
) -> list[ConditionView]:
    """The decided route's conditions with the evidence given for each (the last one given)."""
    if route is None:
        return []
    given = {e.condition: e for e in evidence}
    views = []
    for item in CONDITIONS[Route(route)]:
        found = given.get(item.id)
        views.append(
            ConditionView(
                id=item.id,
                label=condition_label(item, locale),
                legal_basis=item.legal_basis,
                needs_document=item.needs_document,
                text=found.text if found else "",
                document_name=(found.document_name or "") if found else "",
                document_sha256=(found.document_sha256 or "") if found else "",
                missing=item.id in missing,
            )
        )
    return views


def contracts_of_introduction(
    session: Session, introduction_id: uuid.UUID
) -> dict[uuid.UUID, uuid.UUID]:
    """The contracts drafted from an introduction by giver (a pooled offer's contributor has
    its own), for the console's links to them (staff only)."""
    query = select(Contract.giver_company_id, Contract.id).where(
        Contract.introduction_id == introduction_id
    )
    return dict(session.exec(query).all())


def contract_of_introduction(
    session: Session, introduction_id: uuid.UUID, company_id: uuid.UUID | None
) -> uuid.UUID | None:
    """The contract drafted from an introduction of which ``company_id`` is a party: a member's
    link from its introduction's page (a pool's requester: the first of its contracts)."""
    query = select(Contract.id).where(
        Contract.introduction_id == introduction_id,
        (Contract.giver_company_id == company_id) | (Contract.taker_company_id == company_id),
    )
    return session.exec(query.order_by(col(Contract.created_at))).first()
