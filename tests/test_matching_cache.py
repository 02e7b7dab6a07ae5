"""A worker's chunks of a whole-territory recompute share the requests it loaded, and see a
request's edit or its site's move as soon as it is committed."""

from __future__ import annotations

import uuid

from sqlmodel import Session

from core.db import unit_of_work
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import Actor, actor_of
from marketplace.companies.models import Company, Site
from marketplace.companies.schemas import CompanyUpdate, SiteUpdate
from marketplace.companies.service import update_company, update_site
from marketplace.flows.models import Flow
from marketplace.flows.schemas import FlowUpdate
from marketplace.flows.service import update_flow
from marketplace.matching import service
from tests.factories import create_company_row, create_flow_row, create_site_row

DUNKERQUE = (51.0343, 2.3768)
MARDYCK = (51.0200, 2.3400)  # ~3 km
PORT_OUEST = (51.0300, 2.3100)  # ~5 km
LILLE = (50.6292, 3.0573)  # ~65 km: beyond what heat travels
HEAT = {"kind": "heat", "low_code": None, "unit": "MWh", "quantity": 5000}
HEAT_REQUESTS = ("heat", "request")


def _staff() -> Actor:
    return actor_of(
        User(id=uuid.uuid4(), email="x", password_hash="", role=Role.FACILITATOR, company_id=None)
    )


def _requests_matched(offer: Flow) -> set[uuid.UUID]:
    """The requests a chunk task pairs with ``offer``, in a transaction of its own as a worker's."""
    with unit_of_work() as session:
        return {pair.request.ref for pair in service.compute_pairs(session, [offer.id])}


def _territory(session: Session) -> tuple[Flow, Flow, Flow]:
    _, plant = _company_site(session, "Usine Cache SAS", "10.62Z", MARDYCK)
    _, other = _company_site(session, "Usine Cache Deux SAS", "10.62Z", PORT_OUEST)
    first = create_flow_row(session, plant, label="Chaleur fatale", temperature_c=80, **HEAT)
    second = create_flow_row(session, other, label="Chaleur fatale", temperature_c=80, **HEAT)
    _, greenhouse = _company_site(session, "Serres Cache SAS", "01.13Z", DUNKERQUE)
    need = create_flow_row(
        session,
        greenhouse,
        direction="request",
        label="Chauffage des serres",
        temperature_c=60,
        **HEAT,
    )
    return first, second, need


def _company_site(
    session: Session, name: str, nace: str, position: tuple[float, float]
) -> tuple[Company, Site]:
    company = create_company_row(session, name, nace=nace)
    return company, create_site_row(session, company, f"Site {name}", *position)


def test_chunks_in_a_row_load_the_requests_once(session: Session) -> None:
    first, second, need = _territory(session)
    service.forget_requests_sides()
    loads = service.territory_loads[HEAT_REQUESTS]
    with unit_of_work() as worker:
        service.recompute_chunk(worker, [first.id])
    with unit_of_work() as worker:
        service.recompute_chunk(worker, [second.id])
    assert service.territory_loads[HEAT_REQUESTS] == loads + 1
    assert _requests_matched(first) == _requests_matched(second) == {need.id}
    assert service.territory_loads[HEAT_REQUESTS] == loads + 1


def test_an_edited_request_is_read_again_by_the_next_chunk(session: Session) -> None:
    first, _, need = _territory(session)
    far = create_site_row(session, session.get_one(Company, need.company_id), "Loin", *LILLE)
    service.forget_requests_sides()
    assert _requests_matched(first) == {need.id}
    loads = service.territory_loads[HEAT_REQUESTS]
    # Through the flows' service, so the edit's events fire as a member's edit does.
    update_flow(session, _staff(), session.get_one(Flow, need.id), FlowUpdate(site_id=far.id))
    session.commit()
    assert _requests_matched(first) == set()  # 65 km: beyond what heat travels
    assert service.territory_loads[HEAT_REQUESTS] == loads + 1


def test_a_moved_site_is_read_again_by_the_next_chunk(session: Session) -> None:
    first, _, need = _territory(session)
    service.forget_requests_sides()
    assert _requests_matched(first) == {need.id}
    site = session.get_one(Site, need.site_id)
    # A move changes the site's cell, not the flow's row: the site moves are in the fingerprint.
    update_site(session, _staff(), site, SiteUpdate(latitude=LILLE[0], longitude=LILLE[1]))
    session.commit()
    assert _requests_matched(first) == set()


def test_a_requesters_new_sector_is_read_again_by_the_next_chunk(session: Session) -> None:
    """The requester's sector is evidence for the material criterion: a company's NACE changed
    through its service is seen by the next chunk (and its flows are matched again)."""
    first, _, need = _territory(session)
    service.forget_requests_sides()

    def score() -> float:
        with unit_of_work() as worker:
            (pair,) = service.compute_pairs(worker, [first.id])
            assert pair.request.ref == need.id
            return pair.score

    before = score()
    loads = service.territory_loads[HEAT_REQUESTS]
    greenhouse = session.get_one(Company, need.company_id)
    changed_at = session.get_one(Flow, need.id).updated_at
    update_company(session, _staff(), greenhouse, CompanyUpdate(nace="62.01Z"))
    session.commit()
    assert session.get_one(Flow, need.id).updated_at > changed_at
    after = score()
    assert service.territory_loads[HEAT_REQUESTS] == loads + 1
    # A software house is no greenhouse: the sector no longer says it takes waste heat.
    assert after < before
