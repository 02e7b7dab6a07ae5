"""Listings: lifecycle, preview, placement between and at publication runs, k-anonymity of every
published cell, scrubbing, pooled offers."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.errors import Conflict
from marketplace.accounts.models import Role
from marketplace.accounts.service import actor_of
from marketplace.catalogue import service
from marketplace.catalogue.models import Listing
from marketplace.catalogue.states import ListingEvent, ListingStatus, transition
from tests.factories import (
    bearer,
    create_flow_row,
    create_site_row,
    create_tenant,
    create_user_row,
)

NEAR = [(51.0100, 2.3000), (51.0120, 2.3050), (51.0080, 2.2950), (51.0110, 2.2980)]


def _publish(client: TestClient, headers: dict[str, str], flow_id: Any) -> dict[str, Any]:
    draft = client.post("/api/v1/listings", headers=headers, json={"flow_id": str(flow_id)})
    assert draft.status_code == 201, draft.text
    listing_id = draft.json()["listing"]["id"]
    published = client.post(f"/api/v1/listings/{listing_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    return published.json()


def run_publication() -> int:
    """The publication run, as beat starts it: the catalogue's composition changes only here."""
    from marketplace.catalogue.tasks import publish_catalogue

    return int(publish_catalogue.apply().get())


def _tenants(session: Session, count: int, **flow: Any) -> list:
    tenants = []
    for i in range(count):
        tenant = create_tenant(session, f"Entreprise Numéro {i} SAS")
        lat, lon = NEAR[i % len(NEAR)]
        site = create_site_row(session, tenant.company, f"Site {i}", lat, lon)
        tenant.flow = create_flow_row(session, site, **flow)
        tenants.append(tenant)
    return tenants


def test_the_state_machine_allows_only_its_transitions() -> None:
    assert transition("draft", ListingEvent.PUBLISH) == ListingStatus.PUBLISHED
    assert transition("published", ListingEvent.PAUSE) == ListingStatus.PAUSED
    assert transition("paused", ListingEvent.RESUME) == ListingStatus.PUBLISHED
    for state in ("withdrawn", "expired", "fulfilled"):
        for event in ListingEvent:
            with pytest.raises(Conflict):
                transition(state, event)
    with pytest.raises(Conflict):
        transition("draft", ListingEvent.PAUSE)


def test_listings_wait_for_the_run_which_publishes_three_companies_at_the_exact_cell(
    client: TestClient, session: Session
) -> None:
    tenants = _tenants(session, 4)
    first = _publish(client, tenants[0].headers, tenants[0].flow.id)
    assert first["brokered_only"] is True and first["waiting"] is True
    assert first["next_publication_at"] is not None
    _publish(client, tenants[1].headers, tenants[1].flow.id)
    third = _publish(client, tenants[2].headers, tenants[2].flow.id)
    # Nothing is shown before the run, however many have published since.
    assert third["brokered_only"] is True and third["waiting"] is True
    assert client.get("/api/v1/catalogue").json()["items"] == []
    assert run_publication() == 3
    mine = client.get(f"/api/v1/listings/{third['id']}", headers=tenants[2].headers).json()
    assert mine["brokered_only"] is False and mine["waiting"] is False
    public = mine["public"]
    assert public["low_code"] == "100102" and public["location_level"] == "cell"
    assert (
        public["departement"]["code"] == "59" and public["quantity_class"] == "1 000 – 10 000 t/an"
    )
    session.expire_all()
    listings = session.exec(select(Listing)).all()
    assert all(not x.brokered_only for x in listings)
    # Between runs, a listing that belongs to a shown cell joins it at once.
    fourth = _publish(client, tenants[3].headers, tenants[3].flow.id)
    assert fourth["brokered_only"] is False and fourth["public"]["location_level"] == "cell"
    assert run_publication() == 0  # a second run finds nothing to change
    from core.worker import celery_app

    schedule = {e["task"]: e["schedule"] for e in celery_app.conf.beat_schedule.values()}
    assert schedule["catalogue.run_publication"].hour == {4}  # once a day, 04:00 UTC


def test_the_preview_is_exactly_what_others_see_once_published(
    client: TestClient, session: Session
) -> None:
    tenants = _tenants(session, 3)
    for tenant in tenants[:2]:
        _publish(client, tenant.headers, tenant.flow.id)
    draft = client.post(
        "/api/v1/listings", headers=tenants[2].headers, json={"flow_id": str(tenants[2].flow.id)}
    ).json()
    preview = draft["preview"]
    listing_id = draft["listing"]["id"]
    published = client.post(f"/api/v1/listings/{listing_id}/publish", headers=tenants[2].headers)
    public = published.json()["public"]
    assert {k: v for k, v in preview.items() if k != "published_on"} == {
        k: v for k, v in public.items() if k != "published_on"
    }


def test_withdrawing_one_listing_leaves_the_others_until_its_ghost_expires(
    client: TestClient, session: Session
) -> None:
    from datetime import timedelta

    from core.models import utcnow
    from marketplace.catalogue.models import ListingGhost

    tenants = _tenants(session, 3)
    ids = [_publish(client, t.headers, t.flow.id)["id"] for t in tenants]
    run_publication()
    client.post(f"/api/v1/listings/{ids[0]}/withdraw", headers=tenants[0].headers)
    session.expire_all()
    remaining = session.exec(select(Listing).where(Listing.status == "published")).all()
    # The withdrawal takes out that listing only; its ghost keeps the cell at the next run.
    assert len(remaining) == 2 and not any(x.brokered_only for x in remaining)
    run_publication()
    session.expire_all()
    assert not any(
        x.brokered_only for x in session.exec(select(Listing)) if x.status == "published"
    )
    ghost = session.exec(select(ListingGhost)).one()
    ghost.left_at = utcnow() - timedelta(days=31)
    session.add(ghost)
    session.commit()
    run_publication()
    session.expire_all()
    remaining = session.exec(select(Listing).where(Listing.status == "published")).all()
    assert len(remaining) == 2 and all(x.brokered_only for x in remaining)
    assert session.exec(select(ListingGhost)).all() == []


def test_pausing_hides_and_resuming_restores(client: TestClient, session: Session) -> None:
    tenants = _tenants(session, 4)
    ids = [_publish(client, t.headers, t.flow.id)["id"] for t in tenants]
    run_publication()
    paused = client.post(f"/api/v1/listings/{ids[3]}/pause", headers=tenants[3].headers)
    assert paused.json()["status"] == "paused"
    again = client.post(f"/api/v1/listings/{ids[3]}/pause", headers=tenants[3].headers)
    assert again.status_code == 409
    resumed = client.post(f"/api/v1/listings/{ids[3]}/resume", headers=tenants[3].headers)
    assert resumed.json()["status"] == "published" and not resumed.json()["brokered_only"]


def test_text_that_names_its_owner_is_refused_and_nothing_is_listed(
    client: TestClient, session: Session
) -> None:
    tenants = _tenants(
        session,
        3,
        label="Cendres de Entreprise Numéro 0",
        description="Appelez le 03 28 12 34 56 ou ecrivez a vente@numero0.fr",
    )
    headers, flow_id = tenants[0].headers, str(tenants[0].flow.id)
    refused = client.post("/api/v1/listings", headers=headers, json={"flow_id": flow_id})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "Invalid" and body["field"] == "label"
    assert "remove the phone number from the description" in body["detail"]
    assert body["rewrite"] == [
        {"field": "label", "remove": ["name"]},
        {"field": "description", "remove": ["phone", "email"]},
    ]
    # The message names what to rewrite, never the offending text.
    assert "03 28" not in refused.text and "vente@" not in refused.text
    assert client.get("/api/v1/listings", headers=headers).json() == []
    # Rewritten, it publishes as written, without holes.
    client.patch(
        f"/api/v1/flows/{flow_id}",
        headers=headers,
        json={"label": "Cendres de chaudière", "description": "Lot hebdomadaire, big bags"},
    )
    listing = _publish(client, headers, tenants[0].flow.id)
    assert listing["public"]["title"] == "Cendres de chaudière"
    assert listing["public"]["description"] == "Lot hebdomadaire, big bags"


def test_a_listed_flow_cannot_be_edited_into_text_that_names_its_owner(
    client: TestClient, session: Session
) -> None:
    tenants = _tenants(session, 3)
    listing = _publish(client, tenants[0].headers, tenants[0].flow.id)
    edit = client.patch(
        f"/api/v1/flows/{tenants[0].flow.id}",
        headers=tenants[0].headers,
        json={"description": "Contact : M. Dupont, 06 12 34 56 78", "quantity": 500},
    )
    assert edit.status_code == 422 and edit.json()["field"] == "description"
    # Nothing changed: neither the flow nor its public card.
    flow = client.get(f"/api/v1/flows/{tenants[0].flow.id}", headers=tenants[0].headers).json()
    assert "Dupont" not in flow["description"] and flow["quantity"] != 500
    mine = client.get(f"/api/v1/listings/{listing['id']}", headers=tenants[0].headers).json()
    assert mine["public"]["description"] == listing["public"]["description"]


def test_editing_or_withdrawing_the_flow_follows_on_its_listing(
    client: TestClient, session: Session
) -> None:
    tenants = _tenants(session, 3)
    ids = [_publish(client, t.headers, t.flow.id)["id"] for t in tenants]
    run_publication()
    client.patch(
        f"/api/v1/flows/{tenants[0].flow.id}", headers=tenants[0].headers, json={"quantity": 500}
    )
    mine = client.get(f"/api/v1/listings/{ids[0]}", headers=tenants[0].headers).json()
    assert mine["public"]["quantity_class"] == "100 – 1 000 t/an"
    client.post(f"/api/v1/flows/{tenants[0].flow.id}/withdraw", headers=tenants[0].headers)
    mine = client.get(f"/api/v1/listings/{ids[0]}", headers=tenants[0].headers).json()
    assert mine["status"] == "withdrawn"


def test_one_live_listing_per_flow_and_foreign_flows_are_not_found(
    client: TestClient, session: Session
) -> None:
    a, b = _tenants(session, 2)
    _publish(client, a.headers, a.flow.id)
    twice = client.post("/api/v1/listings", headers=a.headers, json={"flow_id": str(a.flow.id)})
    assert twice.status_code == 409
    foreign = client.post("/api/v1/listings", headers=a.headers, json={"flow_id": str(b.flow.id)})
    assert foreign.status_code == 404


def test_a_single_listing_shows_its_own_class_and_dominance_is_for_pools(
    client: TestClient, session: Session
) -> None:
    tenants = _tenants(session, 3)
    client.patch(
        f"/api/v1/flows/{tenants[0].flow.id}",
        headers=tenants[0].headers,
        json={"quantity": 900_000},
    )
    ids = [_publish(client, t.headers, t.flow.id)["id"] for t in tenants]
    run_publication()
    classes = [client.get(f"/api/v1/catalogue/{i}").json()["quantity_class"] for i in ids]
    assert classes == ["≥ 100 000 t/an", "1 000 – 10 000 t/an", "1 000 – 10 000 t/an"]
    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    body = {"flow_ids": [str(t.flow.id) for t in tenants], "area": "region", "title": "Lot"}
    pool_id = client.post("/api/v1/pools", headers=staff, json=body).json()["id"]
    pool = client.post(f"/api/v1/listings/{pool_id}/publish", headers=staff).json()
    assert pool["public"]["quantity_class"] == "présent"


def test_the_facilitator_pools_flows_of_several_companies(
    client: TestClient, session: Session
) -> None:
    tenants = _tenants(session, 3, quantity=300)
    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    body = {
        "flow_ids": [str(t.flow.id) for t in tenants],
        "area": "departement",
        "title": "Cendres volantes mutualisées",
        "description": "Lot commun de trois sites",
    }
    member = client.post("/api/v1/pools", headers=tenants[0].headers, json=body)
    assert member.status_code == 403
    pool = client.post("/api/v1/pools", headers=staff, json=body)
    assert pool.status_code == 201, pool.text
    published = client.post(f"/api/v1/listings/{pool.json()['id']}/publish", headers=staff).json()
    assert published["brokered_only"] is False
    public = published["public"]
    assert public["aggregated"] is True and public["quantity_class"] == "100 – 1 000 t/an"
    assert public["departement"]["code"] == "59" and public["location_level"] == "departement"
    mixed = client.post(
        "/api/v1/pools",
        headers=staff,
        json=body | {"flow_ids": [str(tenants[0].flow.id), str(tenants[0].flow.id)]},
    )
    assert mixed.status_code == 422


def test_a_gas_metered_in_energy_shows_its_class_in_mwh_and_is_never_pooled_with_volumes(
    client: TestClient, session: Session
) -> None:
    gas: dict[str, Any] = {"kind": "gas", "low_code": None, "label": "Gaz de haut fourneau"}
    # 5,000 MWh PCS a year: 4,500 MWh PCI.
    tenants = _tenants(session, 3, **gas, quantity=5000, unit="MWh PCS")
    assert tenants[0].flow.base_unit == "MWh/yr"
    ids = [_publish(client, t.headers, t.flow.id)["id"] for t in tenants]
    run_publication()
    cards = [client.get(f"/api/v1/catalogue/{i}").json() for i in ids]
    assert [c["quantity_class"] for c in cards] == ["1 000 – 10 000 MWh/an"] * 3
    english = client.get(f"/catalogue/{ids[0]}?lang=en")
    assert english.status_code == 200 and "1,000 – 10,000 MWh/yr" in english.text
    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    body = {"flow_ids": [str(t.flow.id) for t in tenants], "area": "region", "title": "Gaz"}
    pool = client.post("/api/v1/pools", headers=staff, json=body)
    assert pool.status_code == 201, pool.text
    published = client.post(f"/api/v1/listings/{pool.json()['id']}/publish", headers=staff)
    assert published.json()["public"]["quantity_class"].endswith(" MWh/an")
    [volume] = _tenants(session, 1, **gas, quantity=5000, unit="Nm3")
    mixed = client.post(
        "/api/v1/pools",
        headers=staff,
        json=body | {"flow_ids": [*body["flow_ids"], str(volume.flow.id)]},
    )
    assert mixed.status_code == 422 and mixed.json()["field"] == "flow_ids"
    assert "one unit" in mixed.json()["detail"]


def test_every_published_cell_holds_k_legal_units_after_random_churn_and_runs(
    client: TestClient, session: Session
) -> None:
    import random

    rng = random.Random(7)
    tenants = []
    for i in range(8):
        tenant = create_tenant(session, f"Churn {i} SA")
        lat, lon = rng.choice([(51.01, 2.30), (50.95, 2.25), (50.70, 3.10), (49.9, 2.3)])
        site = create_site_row(session, tenant.company, f"S{i}", lat, lon)
        tenant.flow = create_flow_row(
            session, site, low_code=rng.choice(["10 01 02", "10 01 05", "10 02 02"])
        )
        tenants.append(tenant)
    live: dict[int, str] = {}
    for step in range(40):
        i = rng.randrange(len(tenants))
        if step % 5 == 4:
            run_publication()
        elif i in live:
            client.post(f"/api/v1/listings/{live.pop(i)}/withdraw", headers=tenants[i].headers)
        else:
            live[i] = _publish(client, tenants[i].headers, tenants[i].flow.id)["id"]
        session.expire_all()
        # Counting the ghosts of the last 30 days (the hysteresis), as the runs do.
        for cell, units in service.published_cells(session, with_ghosts=True).items():
            assert len(units) >= 3, (step, cell)


def test_a_pool_follows_its_contributors(client: TestClient, session: Session) -> None:
    tenants = _tenants(session, 3, quantity=300)
    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    body = {"flow_ids": [str(t.flow.id) for t in tenants], "area": "region", "title": "Lot"}
    pool_id = client.post("/api/v1/pools", headers=staff, json=body).json()["id"]
    client.post(f"/api/v1/listings/{pool_id}/publish", headers=staff)
    client.post(f"/api/v1/flows/{tenants[0].flow.id}/withdraw", headers=tenants[0].headers)
    pool = client.get(f"/api/v1/listings/{pool_id}", headers=staff).json()
    # A contributor's change shows at the next publication run, not as an echo of its action.
    assert pool["status"] == "published" and pool["brokered_only"] is False
    run_publication()
    pool = client.get(f"/api/v1/listings/{pool_id}", headers=staff).json()
    # Two contributors are left: below k, the pool is brokered only.
    assert pool["status"] == "published" and pool["brokered_only"] is True
    client.post(f"/api/v1/flows/{tenants[1].flow.id}/withdraw", headers=tenants[1].headers)
    assert client.get(f"/api/v1/listings/{pool_id}", headers=staff).json()["status"] == "withdrawn"


def test_listings_past_their_date_expire_and_leave_a_ghost(
    client: TestClient, session: Session
) -> None:
    from datetime import timedelta

    from core.models import utcnow
    from marketplace.catalogue.tasks import expire_listings

    tenants = _tenants(session, 3)
    ids = [_publish(client, t.headers, t.flow.id)["id"] for t in tenants]
    run_publication()
    listing = session.get(Listing, uuid.UUID(ids[0]))
    assert listing is not None
    listing.expires_at = utcnow() - timedelta(days=1)
    session.add(listing)
    session.commit()
    assert expire_listings.apply().get() == 1
    assert expire_listings.apply().get() == 0
    session.expire_all()
    statuses = {str(x.id): (x.status, x.brokered_only) for x in session.exec(select(Listing))}
    assert statuses[ids[0]][0] == "expired"
    # The two others keep their cell: the expired listing's ghost still counts there.
    assert not any(brokered for status, brokered in statuses.values() if status == "published")


def test_import_with_publish_lists_the_flows(client: TestClient, session: Session) -> None:
    from tests.factories import make_siret

    staff = bearer(session, create_user_row(session, Role.FACILITATOR))
    header = (
        "company,siret,nace,site,latitude,longitude,direction,kind,low_code,label,quantity,unit"
    )
    rows = [
        f"Publie {i} SAS,{make_siret(5000 + i)},23.51Z,Usine,{lat},{lon},offer,material,"
        f"10 01 02,Cendres,{100 + i},t"
        for i, (lat, lon) in enumerate(NEAR[:3])
    ]
    response = client.post(
        "/api/v1/flows/import",
        headers=staff,
        data={"publish": "true"},
        files={"file": ("t.csv", ("\n".join([header, *rows]) + "\n").encode(), "text/csv")},
    )
    assert response.status_code == 201, response.text
    session.expire_all()
    listings = session.exec(select(Listing)).all()
    assert len(listings) == 3
    assert all(x.status == "published" and not x.brokered_only for x in listings)


def test_two_live_listings_of_one_flow_are_refused_by_the_database(session: Session) -> None:
    from sqlalchemy.exc import IntegrityError

    tenant = _tenants(session, 1)[0]
    actor = actor_of(tenant.admin)
    first = service.create_listing(session, actor, tenant.flow.id)
    session.commit()
    # As if a concurrent request had passed the service's check at the same moment.
    twin = Listing(**{n: getattr(first, n) for n in Listing.model_fields if n != "id"})
    session.add(twin)
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
    service.withdraw(session, actor, first)
    session.commit()
    assert service.create_listing(session, actor, tenant.flow.id).status == "draft"


def test_a_listing_edited_into_another_region_leaves_its_ghost_where_it_was_shown(
    client: TestClient, session: Session
) -> None:
    from marketplace.catalogue.models import ListingGhost

    tenants = _tenants(session, 3)
    ids = [_publish(client, t.headers, t.flow.id)["id"] for t in tenants]
    run_publication()
    rennes = create_site_row(session, tenants[0].company, "Rennes", 48.11, -1.68)
    moved = client.patch(
        f"/api/v1/flows/{tenants[0].flow.id}",
        headers=tenants[0].headers,
        json={"site_id": str(rennes.id)},
    )
    assert moved.status_code == 200, moved.text
    # Out of its cell, the old listing is closed and the flow gets a new one (a new id), which
    # waits for the run: one id never shows two cards.
    old = client.get(f"/api/v1/listings/{ids[0]}", headers=tenants[0].headers).json()
    assert old["status"] == "withdrawn" and old["brokered_only"] is True
    own = client.get("/api/v1/listings", headers=tenants[0].headers).json()
    (mine,) = [x for x in own if x["flow_id"] == str(tenants[0].flow.id) and x["id"] != ids[0]]
    assert mine["status"] == "published"
    assert mine["waiting"] is True and mine["brokered_only"] is True
    ghost = session.exec(select(ListingGhost)).one()
    assert ghost.region_code == "32" and ghost.step == 0
    # The two left in the Nord keep their cell at the next run, thanks to that ghost.
    run_publication()
    session.expire_all()
    kept = [session.get(Listing, uuid.UUID(i)) for i in ids[1:]]
    assert all(x is not None and x.location_level == "cell" for x in kept)
