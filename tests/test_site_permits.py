"""Permit flags of a receiving site (ICPE regime, waste it may receive, animal by-products
approval): declared through the site API and the site form (French and English), refused with
the field named when wrong, and shown as flags on the requester's anonymized card."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlmodel import Session

from core.settings import get_settings
from marketplace.companies.models import Site
from tests.factories import create_tenant
from tests.introduction_world import express, leaks, world
from tests.test_web import csrf_of, login, reloaded

FLAGS = {
    "icpe_regime": "enregistrement",
    "receives_non_hazardous_waste": True,
    "receives_hazardous_waste": False,
    "animal_by_products_approved": True,
}


def test_permits_are_declared_through_the_site_api_and_refused_when_wrong(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    url = f"/api/v1/sites/{tenant.site.id}"
    before = client.get(url, headers=tenant.headers).json()
    assert before["icpe_regime"] is None and before["receives_hazardous_waste"] is False
    changed = client.patch(url, headers=tenant.headers, json=FLAGS)
    assert changed.status_code == 200, changed.text
    assert {k: changed.json()[k] for k in FLAGS} == FLAGS
    for wrong in (
        {"icpe_regime": "seveso"},
        {"receives_hazardous_waste": "yes"},
        {"animal_by_products_approved": 1},
    ):
        refused = client.patch(url, headers=tenant.headers, json=wrong | {"commune": "Ailleurs"})
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == next(iter(wrong)), refused.json()
    kept = client.get(url, headers=tenant.headers).json()
    assert {k: kept[k] for k in FLAGS} == FLAGS and kept["commune"] != "Ailleurs"
    # Null undeclares the regime; a field left out keeps its value.
    cleared = client.patch(url, headers=tenant.headers, json={"icpe_regime": None}).json()
    assert cleared["icpe_regime"] is None and cleared["animal_by_products_approved"] is True
    created = client.post(
        "/api/v1/sites",
        headers=tenant.headers,
        json={"name": "Quai 2", "latitude": 50.99, "longitude": 2.13, **FLAGS},
    )
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in FLAGS} == FLAGS


def test_permits_are_declared_through_the_site_form_in_french_and_english(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session)
    login(client, tenant.admin.email)
    path = f"/sites/{tenant.site.id}/edit"
    french = client.get(path)
    assert "Régime ICPE" in french.text and "Agrément sanitaire" in french.text
    assert "Enregistrement" in french.text and "Non renseigné" in french.text
    english = client.get(f"{path}?lang=en")
    assert "ICPE regime" in english.text and "Animal by-products approval" in english.text
    token = csrf_of(client, path)
    form = {
        "csrf_token": token,
        "name": "Site principal",
        "latitude": "51,01",
        "longitude": "2,30",
        "icpe_regime": "declaration",
        "receives_hazardous_waste": "on",
    }
    saved = client.post(path, data=form)
    assert saved.status_code == 200 and saved.url.path == "/sites", saved.text
    site = reloaded(session, Site, tenant.site.id)
    assert (site.icpe_regime, site.receives_hazardous_waste) == ("declaration", True)
    assert site.receives_non_hazardous_waste is False
    page = client.get(path).text
    assert re.search(r'<option value="declaration" selected>', page)
    assert re.search(r'name="receives_hazardous_waste" checked', page)
    refused = client.post(path, data=form | {"icpe_regime": "seveso"})
    assert refused.status_code == 422
    assert 'id="error-icpe_regime"' in refused.text
    assert reloaded(session, Site, tenant.site.id).icpe_regime == "declaration"
    # Left blank: undeclared.
    assert client.post(path, data=form | {"icpe_regime": ""}).status_code == 200
    assert reloaded(session, Site, tenant.site.id).icpe_regime is None


def test_the_owner_reads_the_requesters_permits_as_flags_and_nothing_more(
    client: TestClient, session: Session
) -> None:
    """Flags only, and only when at least k legal units of the requester's région (of its
    division, shown on the card) declare the same: the ICPE register is public, and a rare
    combination of permits with a sector and a région would name the requester."""
    w = world(client, session)
    assert get_settings().k_anonymity == 1 + len(w.neighbours)
    site_url = f"/api/v1/sites/{w.requester.member.site_id}"
    assert client.patch(site_url, headers=w.requester.headers, json=FLAGS).status_code == 200
    assert express(client, w).status_code == 201
    (owned,) = client.get("/api/v1/introductions", headers=w.owner.headers).json()
    assert owned["requester"]["sector_division"] == "23"
    assert owned["requester"]["permits"] is None  # the only one of its région to declare them

    # The two other companies of the same division and région declare the same permits.
    for neighbour in w.neighbours[:-1]:
        url = f"/api/v1/sites/{neighbour.site_id}"
        assert client.patch(url, headers=neighbour.headers, json=FLAGS).status_code == 200
    (owned,) = client.get("/api/v1/introductions", headers=w.owner.headers).json()
    assert owned["requester"]["permits"] is None  # k - 1 of them
    last = w.neighbours[-1]
    url = f"/api/v1/sites/{last.site_id}"
    assert client.patch(url, headers=last.headers, json=FLAGS).status_code == 200
    (owned,) = client.get("/api/v1/introductions", headers=w.owner.headers).json()
    assert owned["requester"]["permits"] == {
        "icpe_regime": "enregistrement",
        "non_hazardous_waste": True,
        "hazardous_waste": False,
        "animal_by_products": True,
    }
    assert leaks(str(owned), w.requester) == []
