"""Issue 7, property 5: a member tries to publish identifying text in its own listings.

The attacker writes each text of the adversarial corpus (tests/data/scrub_corpus.json) as the title
then as the description of a flow of its own, and asks to list it. Every identifying text must be
refused with a message naming the field and what to rewrite (never quoting it); every clean text
publishes as written; and afterwards no public card, no listing row and no stored search text
carries an identifier or one of the company's names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.text import fold
from marketplace.accounts.models import Role
from marketplace.catalogue.models import Listing
from privacy.scrubbing import find
from tests.factories import bearer, create_company_row, create_tenant, create_user_row
from tests.members import publication_run

CORPUS = json.loads((Path(__file__).parent / "data" / "scrub_corpus.json").read_text("utf-8"))
POSITION = {"latitude": 51.0343, "longitude": 2.3768}


def deny_of(company: dict[str, Any]) -> list[str]:
    """The names the company's text must not carry, as companies.service.deny_terms lists them."""
    sites = company["sites"]
    return [
        company["legal_name"],
        *company["brands"],
        *company["contacts"],
        *[s["name"] for s in sites],
        *[s["commune"] for s in sites],
    ]


def _attacker(session: Session, client: TestClient, company: dict[str, Any]) -> dict[str, Any]:
    row = create_company_row(
        session,
        company["legal_name"],
        siret=company["siret"],
        brands=company["brands"],
        contacts=[{"name": name, "email": "contact@example.fr"} for name in company["contacts"]],
    )
    headers = bearer(session, create_user_row(session, Role.COMPANY_ADMIN, row))
    site = company["sites"][0]
    created = client.post(
        "/api/v1/sites",
        headers=headers,
        json={"name": site["name"], "commune": site["commune"], **POSITION},
    )
    assert created.status_code == 201, created.text
    return {"headers": headers, "site_id": created.json()["id"], "deny": deny_of(company)}


def _try_to_list(
    client: TestClient, attacker: dict[str, Any], label: str, description: str
) -> tuple[Any, Any]:
    flow = client.post(
        "/api/v1/flows",
        headers=attacker["headers"],
        json={
            "site_id": attacker["site_id"],
            "direction": "offer",
            "kind": "material",
            "low_code": "10 01 02",
            "quantity": 100,
            "unit": "t",
            "label": label,
            "description": description,
        },
    )
    assert flow.status_code == 201, flow.text
    draft = client.post(
        "/api/v1/listings", headers=attacker["headers"], json={"flow_id": flow.json()["id"]}
    )
    return flow.json(), draft


def test_no_corpus_text_that_names_or_locates_its_company_is_published(
    client: TestClient, session: Session
) -> None:
    attackers = {
        key: _attacker(session, client, company) for key, company in CORPUS["companies"].items()
    }
    # A third company in the same cell, so that the cell holds k companies and cards are public.
    neighbour = create_tenant(session, "Voisin Honnête SAS")
    listed = client.post(
        "/api/v1/listings", headers=neighbour.headers, json={"flow_id": str(neighbour.flow.id)}
    )
    client.post(
        f"/api/v1/listings/{listed.json()['listing']['id']}/publish", headers=neighbour.headers
    )

    refused, published, leaked = 0, 0, []
    for entry in CORPUS["texts"]:
        attacker, text = attackers[entry["company"]], entry["text"]
        for field in ("label", "description"):
            label, description = (text, "") if field == "label" else ("Lot", text)
            _flow, draft = _try_to_list(client, attacker, label, description)
            if entry["expect"] is None:
                assert draft.status_code == 201, (text, draft.text)
                listing_id = draft.json()["listing"]["id"]
                done = client.post(
                    f"/api/v1/listings/{listing_id}/publish", headers=attacker["headers"]
                )
                assert done.status_code == 200, (text, done.text)
                card = done.json()["public"]
                # Published as written: no hole, no placeholder.
                assert (card["title"], card["description"]) == (label, description)
                published += 1
                continue
            if draft.status_code != 422:
                leaked.append((field, text))
                continue
            body = draft.json()
            assert body["error"] == "Invalid" and body["field"] == field, body
            assert body["rewrite"][0]["field"] == field and body["rewrite"][0]["remove"]
            assert body["detail"].startswith("remove ") and text not in draft.text
            refused += 1
    assert leaked == [], f"{len(leaked)} identifying texts were listed: {leaked}"
    identifying = sum(1 for e in CORPUS["texts"] if e["expect"]) * 2
    assert refused == identifying and published > 0

    # What is stored for the public, and what the public reads, names no one.
    publication_run(session)
    session.expire_all()
    every_deny = [name for a in attackers.values() for name in a["deny"]]
    distinctive = ["kervella", "mardyck", "dunkerque", "gall", "gravelines", "fontaine"]
    sirets = [c["siret"] for c in CORPUS["companies"].values()]
    for listing in session.exec(select(Listing)).all():
        assert find(listing.title, every_deny) == [], listing.title
        assert find(listing.description, every_deny) == [], listing.description
        compact = listing.search_text.replace(" ", "")
        assert not any(word in listing.search_text.split() for word in distinctive)
        assert not any(siret[:9] in compact for siret in sirets)
    page = client.get("/api/v1/catalogue", params={"limit": 100})
    assert page.status_code == 200 and page.json()["items"], page.text
    for card in page.json()["items"]:
        assert find(f"{card['title']}\n{card['description']}", every_deny) == []
    for word in distinctive:
        assert word not in fold(page.text)


def test_the_refusal_names_what_to_rewrite_in_french_on_the_web(
    client: TestClient, session: Session
) -> None:
    from web.forms import explain
    from web.i18n import translator

    company = CORPUS["companies"]["kervella"]
    attacker = _attacker(session, client, company)
    _flow, draft = _try_to_list(client, attacker, "Tél (03) 28 61 22 33", "Contact Y. Le Gall")
    detail = draft.json()["detail"]
    assert explain(detail, translator("fr")) == (
        "Retirez le numéro de téléphone du titre. Retirez le nom de la personne de la description."
    )
    assert explain(detail, translator("en")) == (
        "Remove the phone number from the title. Remove the person's name from the description."
    )


def test_import_publish_holds_rows_whose_text_names_the_company_and_says_why(
    client: TestClient, session: Session
) -> None:
    from tests.test_import import HEADER, SIRET_A, csv_of, import_file, staff_headers

    company = f"Fonderie Kerbrat SAS,{SIRET_A},24.51Z,Usine Nord,51.0343,2.3768,offer,material"
    rows = [
        f"{company},10 01 02,Cendres volantes,1200,t,year,continuous,,,Big bags",
        f"{company},10 01 03,Cendres Kerbrat,1200,t,year,continuous,,,",
        f"{company},10 01 05,Gypse,1200,t,year,continuous,,,Tél (03) 28 61 22 33",
    ]
    job = import_file(client, staff_headers(session), csv_of(*rows, header=HEADER), publish=True)
    assert job["status"] == "done" and job["report"]["created"]["flows"] == 3
    assert job["report"]["unpublished"] == [
        {
            "line": 3,
            "field": "label",
            "reason": "remove the name of your company, a brand, a site, its town or a contact "
            "(in any spelling) from the title",
        },
        {
            "line": 4,
            "field": "description",
            "reason": "remove the phone number from the description",
        },
    ]
    # The report quotes no cell; only the clean row was published.
    assert "Kerbrat" not in json.dumps(job["report"]) and "28 61" not in json.dumps(job["report"])
    session.expire_all()
    titles = [listing.title for listing in session.exec(select(Listing)).all()]
    assert titles == ["Cendres volantes"]


def test_the_web_publish_button_refuses_in_french_and_lists_nothing(
    client: TestClient, session: Session
) -> None:
    from tests.factories import create_flow_row
    from tests.test_web import login, token_in

    tenant = create_tenant(session, "Serres de Kervella SAS")
    flow = create_flow_row(session, tenant.site, label="Tomates Kerv3lla", description="")
    login(client, tenant.admin.email)
    token = token_in(client.get("/flows").text)
    refused = client.post(f"/flows/{flow.id}/publish", data={"csrf_token": token})
    assert refused.status_code == 422
    assert "Retirez le nom de votre entreprise" in refused.text and "du titre" in refused.text
    assert "Kerv3lla" not in refused.text
    session.expire_all()
    assert session.exec(select(Listing)).all() == []
