"""What the introduction pages show of one introduction, shared by the member's inbox and the
facilitator's console: its state and deadline in the page's words, its subject, the buttons its
reader may press, the requester's anonymized card and the messages.

Everything comes from views.read (the reader's allow-list): the identity of the other side only
after the reveal, through the audited path that read takes."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_datetime
from sqlmodel import Session

from core.reference.sectors import sector_label
from marketplace.accounts.service import Actor
from marketplace.catalogue import explanations
from marketplace.catalogue.explanations import Note
from marketplace.introductions import inbox, service, views
from marketplace.introductions.models import Introduction
from marketplace.introductions.schemas import Counterpart, IntroductionRead
from marketplace.introductions.states import Party
from web.i18n import N_, Translate
from web.labels import BASE_UNITS, ICPE_REGIME_LABELS, label
from web.templating import format_number

STATES = {
    "interest_expressed": N_("Interest expressed"),
    "screening": N_("Being screened by the facilitator"),
    "proposed": N_("Proposed to the owner"),
    "accepted": N_("Accepted"),
    "revealed": N_("Identities revealed"),
    "declined": N_("Declined"),
    "withdrawn": N_("Introduction withdrawn"),
    "expired": N_("Expired"),
    "not_available": N_("Not available"),
}
# The owner's own words for what waits for it.
# A sector division shared by fewer than k companies of the requester's région is not shown.
SECTOR_HIDDEN = N_("Not shown: too few companies of its region share it")
OWNER_STATES = {"proposed": N_("Awaiting your answer")}
SIDES = {
    "requester": N_("Requester"),
    "owner": N_("Owner of the listing"),
    "facilitator": N_("Facilitator"),
}
ACTIONS = {
    "screen": N_("Take into screening"),
    "propose": N_("Propose to the owner"),
    "accept": N_("Accept"),
    "decline": N_("Decline"),
    "withdraw": N_("Withdraw"),
}
# The requester's acceptance is a confirmation (when the territory asks for one).
REQUESTER_ACTIONS = {"accept": N_("Confirm")}


@dataclass(frozen=True)
class RequesterCardView:
    sector: str
    distance_band: str | None
    quantity_class: str | None
    # The requesting site's declared permits, each a line ("" when not shown).
    permits: tuple[str, ...]
    # Why the sector, distance and quantity show as they do (marketplace/catalogue/explanations).
    notes: dict[str, Note]


@dataclass(frozen=True)
class IntroductionView:
    id: uuid.UUID
    side: str
    side_label: str
    state: str
    state_label: str
    created: str
    deadline: str | None
    listing_id: uuid.UUID | None
    listing_title: str | None
    own_flow_label: str | None
    from_match: bool
    actions: tuple[tuple[str, str], ...]  # (event, button text)
    messages_open: bool
    requester: RequesterCardView | None
    # The other side after the reveal; a pool's requester sees each contributor who accepted.
    counterparts: tuple[Counterpart, ...]
    screening_note: str | None


@dataclass(frozen=True)
class MessageView:
    side: str
    side_label: str
    own: bool
    body: str
    sent: str


def moment(value: datetime | None, locale: str) -> str:
    return format_datetime(value, format="medium", locale=locale) if value else ""


def state_label(state: str, party: Party, translate: Translate) -> str:
    words = OWNER_STATES.get(state) if party == Party.OWNER else None
    words = words or STATES.get(state)
    return translate(words) if words else state


_ENGLISH_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")


def quantity_class_text(label_en: str | None, locale: str, translate: Translate) -> str | None:
    """A quantity class as the API gives it ("1,000 – 10,000 t/yr") in the page's language
    ("1 000 – 10 000 t/an"): its numbers grouped the page's way, its base unit translated."""
    if not label_en:
        return label_en
    amount, _, unit = label_en.rpartition(" ")
    if unit in BASE_UNITS.values():
        label_en = f"{amount} {translate(unit)}"
    return _ENGLISH_NUMBER.sub(
        lambda number: format_number(int(number.group().replace(",", "")), locale), label_en
    )


def _card(read: IntroductionRead, locale: str, translate: Translate) -> RequesterCardView | None:
    card = read.requester
    if card is None:
        return None
    if card.sector_division is None:
        sector = translate(SECTOR_HIDDEN)
    else:
        words = sector_label(card.sector_division, locale) or card.sector_label or ""
        sector = f"{card.sector_division} {words}".strip()
    permits: list[str] = []
    if card.permits is not None:
        flags = card.permits
        if flags.icpe_regime is not None:
            regime = label(ICPE_REGIME_LABELS, flags.icpe_regime, translate)
            permits.append(translate(N_("ICPE regime: %(regime)s")) % {"regime": regime})
        for words, held in (
            (N_("Authorised to receive non-hazardous waste"), flags.non_hazardous_waste),
            (N_("Authorised to receive hazardous waste"), flags.hazardous_waste),
            (N_("Animal by-products approval (agrément sanitaire)"), flags.animal_by_products),
        ):
            if held:
                permits.append(translate(words))
    notes = {"sector": explanations.requester_sector_note(locale)}
    if card.distance_band:
        notes["distance"] = explanations.distance_note(card.distance_band, locale, True)
    if card.quantity_class:
        notes["quantity"] = explanations.requester_quantity_note(locale)
    return RequesterCardView(
        sector=sector,
        distance_band=card.distance_band,
        quantity_class=quantity_class_text(card.quantity_class, locale, translate),
        permits=tuple(permits),
        notes=notes,
    )


def view_of(
    session: Session,
    actor: Actor,
    intro: Introduction,
    party: Party,
    locale: str,
    translate: Translate,
    *,
    with_counterpart: bool = False,
) -> IntroductionView:
    """One introduction as `actor` may see it. The other side's identity is read only when
    asked (the detail page), never for a list: each read is an audit entry."""
    read = (
        views.read(session, actor, intro, party)
        if with_counterpart
        else _read_list(session, actor, intro, party)
    )
    subject = inbox.subject_of(session, intro, party)
    words = REQUESTER_ACTIONS if party == Party.REQUESTER else {}
    actions = tuple(
        (event, translate(words.get(event) or ACTIONS[event]))
        for event in inbox.actions_for(intro, party, read.state)
    )
    return IntroductionView(
        id=intro.id,
        side=read.side,
        side_label=translate(SIDES[read.side]),
        state=read.state,
        state_label=state_label(read.state, party, translate),
        created=moment(read.created_at, locale),
        deadline=moment(read.expires_at, locale) or None,
        listing_id=subject.listing_id,
        listing_title=subject.listing_title,
        own_flow_label=subject.own_flow_label,
        from_match=subject.from_match,
        actions=actions,
        messages_open=inbox.messages_open(intro, read.state),
        requester=_card(read, locale, translate),
        counterparts=(read.counterpart,) if read.counterpart else tuple(read.contributors or ()),
        screening_note=read.screening_note,
    )


def _read_list(
    session: Session, actor: Actor, intro: Introduction, party: Party
) -> IntroductionRead:
    """views.read without the counterpart: a list shows no identity, so none is decrypted."""
    state = service.state_for(session, intro, party, actor.company_id)
    read = IntroductionRead(
        id=intro.id,
        side=party.value,
        state=state,
        listing_id=intro.listing_id,
        match_id=intro.match_id,
        created_at=intro.created_at,
        expires_at=intro.expires_at if state in service.PENDING_VIEWS else None,
        next_action=None,
    )
    if views.shows_card(party, state):
        read.requester = views.requester_card(session, intro, views.reader_of(actor))
    if party == Party.FACILITATOR:
        read.screening_note = intro.screening_note
    return read


def messages_of(
    session: Session, actor: Actor, intro_id: uuid.UUID, party: Party, locale: str, t: Translate
) -> list[MessageView]:
    return [
        MessageView(
            side=m.author_side,
            side_label=t(SIDES.get(m.author_side, m.author_side)),
            own=m.author_side == party.value,
            body=m.body,
            sent=moment(m.created_at, locale),
        )
        for m in service.messages(session, actor, intro_id)
    ]
