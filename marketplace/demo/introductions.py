"""Demo introductions: one at each step of the path, so a new user sees it whole (an interest
just expressed, one being screened, one proposed, one revealed, one declined).

Each is made by the introductions service, as members and the facilitator act, so its audit
entries, outbox notices and reveal are real. Made once: an interest already there is left alone,
so `symbiose demo` can run again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from core.settings import get_settings
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import Actor, actor_of
from marketplace.catalogue.models import Listing, is_public
from marketplace.catalogue.states import ListingStatus
from marketplace.companies.models import Company
from marketplace.companies.service import find_by_siret
from marketplace.flows.models import Direction, Flow, FlowStatus
from marketplace.introductions import service
from marketplace.introductions.models import Introduction
from marketplace.introductions.schemas import IntroductionCreate


@dataclass(frozen=True)
class Scenario:
    """A requester's request flow and an owner's published offer of the same LoW code, and how
    far their introduction goes."""

    requester_siret: str
    owner_siret: str
    low_code: str
    until: str  # interest_expressed | screening | proposed | revealed | declined
    # (side, text) relayed before the owner's answer; side is "requester" or "owner".
    messages: tuple[tuple[str, str], ...] = ()
    note: str = ""


SCENARIOS = (
    # Cendres volantes: the cement works asks the power plant, which accepts: both revealed.
    Scenario(
        "46470434500014",
        "35493264200011",
        "100102",
        "revealed",
        messages=(
            ("requester", "Bonjour, les cendres sont-elles enlevables toute l'année en citerne ?"),
            ("owner", "Oui, enlèvement possible toute l'année, en citerne pulvérulente."),
        ),
    ),
    # Boues de gypse: asked, then declined by the owner (the requester is not told so).
    Scenario("90617099800015", "59839545700016", "100107", "declined"),
    # Cartons en balles: proposed to the logistics firm, which has not answered yet.
    Scenario(
        "43054669700011",
        "53432022100011",
        "150101",
        "proposed",
        messages=(("requester", "Bonjour, les balles sont-elles triées et stockées à l'abri ?"),),
    ),
    # Laitier de haut fourneau: the facilitator is screening it.
    Scenario(
        "79158850200017",
        "67088509400011",
        "100202",
        "screening",
        note="Vérifier l'autorisation d'utiliser du laitier en sous-couche routière.",
    ),
    # Fibres de blé: an interest just expressed, waiting for the facilitator.
    Scenario("98831744200016", "30946616700017", "020399", "interest_expressed"),
)
SCREENED = frozenset({"interest_expressed", "screening"})


@dataclass
class DemoIntroductions:
    created: list[str] = field(default_factory=list)


@contextmanager
def _screening(on: bool) -> Iterator[None]:
    """The demo territory screens the interests it shows waiting for the facilitator; the
    others go straight to the owner, as the default territory does."""
    settings = get_settings()
    before = settings.introduction_screening
    settings.introduction_screening = on
    try:
        yield
    finally:
        settings.introduction_screening = before


def _member(session: Session, company: Company) -> Actor | None:
    query = (
        select(User)
        .where(User.company_id == company.id, User.role == Role.COMPANY_ADMIN)
        .order_by(col(User.email))
    )
    user = session.exec(query).first()
    return actor_of(user) if user else None


def _flow(session: Session, company: Company, direction: Direction, low_code: str) -> Flow | None:
    query = select(Flow).where(
        Flow.company_id == company.id,
        Flow.direction == str(direction),
        Flow.low_code == low_code,
        Flow.status == FlowStatus.ACTIVE,
    )
    return session.exec(query.order_by(col(Flow.created_at))).first()


def _listing(session: Session, flow: Flow) -> Listing | None:
    query = select(Listing).where(
        Listing.flow_id == flow.id, Listing.status == ListingStatus.PUBLISHED
    )
    listing = session.exec(query).first()
    return listing if listing is not None and is_public(listing) else None


def _already(session: Session, requester: Company, listing: Listing) -> bool:
    query = select(Introduction.id).where(
        Introduction.requester_company_id == requester.id,
        Introduction.listing_id == listing.id,
    )
    return session.exec(query).first() is not None


def create_demo_introductions(session: Session, facilitator: Actor) -> DemoIntroductions:
    """Play each scenario the demo does not hold yet; one whose companies, flows or listing the
    territory lacks (a cell short of k companies) is skipped."""
    done = DemoIntroductions()
    for scenario in SCENARIOS:
        requester = find_by_siret(session, scenario.requester_siret)
        owner = find_by_siret(session, scenario.owner_siret)
        if requester is None or owner is None:
            continue
        asked = _flow(session, requester, Direction.REQUEST, scenario.low_code)
        offered = _flow(session, owner, Direction.OFFER, scenario.low_code)
        listing = _listing(session, offered) if offered else None
        requester_actor, owner_actor = _member(session, requester), _member(session, owner)
        if asked is None or listing is None or requester_actor is None or owner_actor is None:
            continue
        if _already(session, requester, listing):
            continue
        data = IntroductionCreate(listing_id=listing.id, requester_flow_id=asked.id)
        with _screening(scenario.until in SCREENED):
            intro = service.express(session, requester_actor, data)
        if scenario.until == "screening":
            service.screen(session, facilitator, intro.id, scenario.note)
        sides = {"requester": requester_actor, "owner": owner_actor}
        for side, body in scenario.messages:
            service.post_message(session, sides[side], intro.id, body)
        if scenario.until == "revealed":
            service.accept(session, owner_actor, intro.id)
        elif scenario.until == "declined":
            service.decline(session, owner_actor, intro.id)
        done.created.append(scenario.until)
    return done
