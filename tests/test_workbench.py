"""The facilitator's workbench through a browser's eyes: the companies list searched and filtered,
one company's page (identity through the logged vault path, sites, flows, listings, history), its
size class corrected, and the list of pooled offers with their contributors and state."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from marketplace.accounts.models import Role
from marketplace.accounts.service import actor_of
from marketplace.catalogue import service as catalogue
from marketplace.catalogue.models import Listing
from marketplace.catalogue.pools import PoolCreate, create_pool
from marketplace.companies.models import Company
from marketplace.companies.service import siret_index
from marketplace.flows.models import Flow
from privacy.models import AuditEntry
from tests.factories import (
    create_company_row,
    create_flow_row,
    create_site_row,
    create_tenant,
    create_user_row,
    make_siret,
)
from tests.test_web import login, token_in


def _identity_reads(session: Session, company: Company) -> int:
    session.expire_all()
    query = select(AuditEntry).where(
        AuditEntry.action == "identity.read", col(AuditEntry.subject_id) == company.id
    )
    return len(session.exec(query).all())


def _names_listed(html: str) -> list[str]:
    return re.findall(r'<a href="/companies/[0-9a-f-]{36}">([^<]+)</a>', html)


@pytest.fixture
def territory(session: Session) -> dict[str, Company]:
    """A coal power station in the Nord (large), a cement plant in the Pas-de-Calais (medium) and
    a brick works in the Nord (small), with their sectors."""
    station = create_company_row(
        session, "Centrale Électrique du Littoral SAS", nace="35.11Z", size_class="large"
    )
    create_site_row(session, station, "Tranche 1", latitude=50.98, longitude=2.14)
    cement = create_company_row(
        session, "Béton du Boulonnais SA", nace="23.51Z", size_class="medium"
    )
    create_site_row(session, cement, "Carrière", latitude=50.72, longitude=1.61)
    bricks = create_company_row(
        session, "Briqueterie de Flandre SARL", nace="23.32Z", size_class="small"
    )
    create_site_row(session, bricks, "Four", latitude=50.95, longitude=2.45)
    return {"station": station, "cement": cement, "bricks": bricks}


def _facilitator(client: TestClient, session: Session) -> None:
    login(client, create_user_row(session, Role.FACILITATOR).email)


def test_the_list_opens_each_company_and_sorts_names_as_a_french_reader_does(
    client: TestClient, session: Session, territory: dict[str, Company]
) -> None:
    _facilitator(client, session)
    page = client.get("/companies")
    assert page.status_code == 200
    # « Béton » before « Briqueterie », « Centrale Électrique » after both: accents aside.
    assert _names_listed(page.text) == [
        "Béton du Boulonnais SA",
        "Briqueterie de Flandre SARL",
        "Centrale Électrique du Littoral SAS",
    ]
    assert f'href="/companies/{territory["station"].id}"' in page.text
    # The power station is a large business, not « Petite entreprise ».
    row = re.search(r"Centrale Électrique du Littoral SAS</a></td>.*?</tr>", page.text, re.S)
    assert row and "Grande entreprise" in row.group(0)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "centrale electrique"}, ["Centrale Électrique du Littoral SAS"]),
        ({"q": "BETON"}, ["Béton du Boulonnais SA"]),
        ({"sector": "23"}, ["Béton du Boulonnais SA", "Briqueterie de Flandre SARL"]),
        ({"sector": "23.51"}, ["Béton du Boulonnais SA"]),
        ({"sector": "3511Z"}, ["Centrale Électrique du Littoral SAS"]),
        (
            {"departement": "59"},
            ["Briqueterie de Flandre SARL", "Centrale Électrique du Littoral SAS"],
        ),
        ({"departement": "62"}, ["Béton du Boulonnais SA"]),
        ({"size": "large"}, ["Centrale Électrique du Littoral SAS"]),
        ({"sector": "23", "departement": "59"}, ["Briqueterie de Flandre SARL"]),
        ({"q": "Papeterie"}, []),
    ],
)
def test_search_and_filters_narrow_the_list(
    client: TestClient,
    session: Session,
    territory: dict[str, Company],
    params: dict[str, str],
    expected: list[str],
) -> None:
    _facilitator(client, session)
    page = client.get("/companies", params=params)
    assert page.status_code == 200
    assert _names_listed(page.text) == expected
    if not expected:
        assert "Aucune entreprise ne correspond à ces filtres." in page.text


def test_a_siret_is_found_by_its_blind_index_and_filters_open_no_other_identity(
    client: TestClient, session: Session, territory: dict[str, Company]
) -> None:
    siret = make_siret(4242)
    found = create_company_row(session, "Papeterie du Port SA", siret=siret, size_class="large")
    _facilitator(client, session)
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    assert _names_listed(client.get("/companies", params={"q": spaced}).text) == [
        "Papeterie du Port SA"
    ]
    # Filtering on what is stored in clear opens only the identities shown: the cement plant
    # (medium) was not decrypted for a search of large businesses.
    before = _identity_reads(session, territory["cement"])
    listed = client.get("/companies", params={"size": "large"}).text
    assert _names_listed(listed) == ["Centrale Électrique du Littoral SAS", "Papeterie du Port SA"]
    assert _identity_reads(session, territory["cement"]) == before
    assert _identity_reads(session, found) >= 2


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"sector": "ciment"}, "sector", "code NAF"),
        ({"size": "huge"}, "size", "Choisissez une taille dans la liste."),
        ({"departement": "999"}, "departement", "Choisissez un département dans la liste."),
    ],
)
def test_a_bad_filter_is_refused_naming_its_field(
    client: TestClient,
    session: Session,
    territory: dict[str, Company],
    params: dict[str, str],
    field: str,
    words: str,
) -> None:
    _facilitator(client, session)
    page = client.get("/companies", params=params)
    assert page.status_code == 422
    assert f'id="error-{field}"' in page.text
    assert words in page.text
    assert _names_listed(page.text) == []


def test_the_company_page_shows_identity_sites_flows_listings_and_history(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session, "Centrale Électrique du Littoral SAS")
    create_flow_row(session, tenant.site, label="Gypse de désulfuration", low_code="10 01 05")
    listing = catalogue.create_listing(session, actor_of(tenant.admin), tenant.flow.id)
    session.commit()
    _facilitator(client, session)
    before = _identity_reads(session, tenant.company)
    page = client.get(f"/companies/{tenant.company.id}")
    assert page.status_code == 200
    text = page.text
    # Identity, read through the vault's logged path: one more audit entry about it.
    assert "Centrale Électrique du Littoral SAS" in text and "Camille Martin" in text
    assert "rue du Port, 59140 Dunkerque" in text
    assert _identity_reads(session, tenant.company) == before + 1
    # Its site with its commune and département, both flows, its draft listing.
    assert "Dunkerque" in text and "Nord (59)" in text
    assert "Cendres volantes" in text and "Gypse de désulfuration" in text
    assert f"/listings/{listing.id}/preview" in text and "Brouillon" in text
    # The history names the read just made and who made it.
    history = text.split("Historique", 1)[1]
    assert (
        "Identité lue par l&#39;animateur" in history or "Identité lue par l'animateur" in history
    )


def test_the_facilitator_corrects_the_size_class_and_the_history_says_so(
    client: TestClient, session: Session
) -> None:
    company = create_company_row(session, "Centrale Électrique du Littoral SAS", size_class="small")
    facilitator = create_user_row(session, Role.FACILITATOR)
    login(client, facilitator.email)
    url = f"/companies/{company.id}"
    token = token_in(client.get(url).text)
    saved = client.post(
        f"{url}/size", data={"csrf_token": token, "size_class": "large"}, follow_redirects=False
    )
    assert saved.status_code == 303 and saved.headers["location"].startswith(url)
    session.expire_all()
    assert session.get(Company, company.id).size_class == "large"  # type: ignore[union-attr]
    page = client.get(saved.headers["location"]).text
    assert "La taille de l&#39;entreprise est enregistrée." in page
    assert "Taille modifiée" in page and "Petite entreprise → Grande entreprise" in page
    assert facilitator.email in page
    listed = client.get("/companies").text
    row = re.search(r"Centrale Électrique du Littoral SAS</a></td>.*?</tr>", listed, re.S)
    assert row and "Grande entreprise" in row.group(0)


def test_a_bad_size_class_is_refused_and_nothing_changes(
    client: TestClient, session: Session
) -> None:
    company = create_company_row(session, "Béton du Boulonnais SA", size_class="medium")
    _facilitator(client, session)
    url = f"/companies/{company.id}"
    token = token_in(client.get(url).text)
    refused = client.post(f"{url}/size", data={"csrf_token": token, "size_class": "gigantic"})
    assert refused.status_code == 422
    assert 'id="error-size_class"' in refused.text
    session.expire_all()
    assert session.get(Company, company.id).size_class == "medium"  # type: ignore[union-attr]
    size_changes = select(AuditEntry).where(AuditEntry.action == "company.size_class")
    assert session.exec(size_changes).first() is None


def test_an_unknown_company_is_not_found(client: TestClient, session: Session) -> None:
    _facilitator(client, session)
    assert client.get("/companies/not-a-uuid").status_code == 404
    assert client.get("/companies/00000000-0000-4000-8000-000000000000").status_code == 404


def test_pools_list_their_contributors_and_state(client: TestClient, session: Session) -> None:
    tenants = [
        create_tenant(session, name)
        for name in ("Alpha Ciments SAS", "Bravo Papeterie SA", "Charlie Recyclage SAS")
    ]
    facilitator = create_user_row(session, Role.FACILITATOR)
    pool = create_pool(
        session,
        actor_of(facilitator),
        PoolCreate(flow_ids=[t.flow.id for t in tenants], title="Cendres volantes du port"),
    )
    session.commit()
    login(client, facilitator.email)
    page = client.get("/pools")
    assert page.status_code == 200
    assert "Offres groupées" in page.text and "Cendres volantes du port" in page.text
    row = re.search(r"Cendres volantes du port.*?</tr>", page.text, re.S)
    assert row is not None
    for tenant in tenants:
        assert f'href="/companies/{tenant.company.id}"' in row.group(0)
    assert "Alpha Ciments SAS" in row.group(0) and "Charlie Recyclage SAS" in row.group(0)
    assert "10 01 02" in row.group(0) and "Nord (59)" in row.group(0)
    # Three shares of 1,200 t/yr each, summed, with each share beside its contributor.
    assert "3\u202f600 t/an" in row.group(0) and row.group(0).count("1\u202f200 t/an") == 3
    assert "Brouillon" in row.group(0)
    # Filtered by state: a draft is not among the published.
    assert "Cendres volantes du port" not in client.get("/pools?status=published").text
    assert f"/listings/{pool.id}/preview" in client.get("/pools?status=draft").text


# --- the size class from the import --------------------------------------------------------------

IMPORT_HEADER = ",".join(
    [
        "company,siret,nace,site,latitude,longitude",
        "direction,kind,label,quantity,unit",
        "temperature_c,size",
    ]
)


def _import(client: TestClient, session: Session, lines: list[str]) -> dict:
    from tests.factories import bearer
    from tests.test_import import import_file

    headers = bearer(session, create_user_row(session, Role.FACILITATOR))
    return import_file(client, headers, "\n".join([IMPORT_HEADER, *lines]).encode())


def test_the_import_gives_each_new_company_its_size_class(
    client: TestClient, session: Session
) -> None:
    station, bricks, farm = make_siret(5101), make_siret(5102), make_siret(5103)
    job = _import(
        client,
        session,
        [
            f"Centrale SAS,{station},35.11Z,Tranche,50.98,2.14,offer,heat,Vapeur,10,MWh,180,grande",
            f"Centrale SAS,{station},,Tranche,50.98,2.14,offer,water,Purges,10,m3,,",
            f"Briqueterie SAS,{bricks},23.32Z,Four,50.95,2.45,request,heat,Four,5,MWh,90,Moyenne",
            f"Ferme SCEA,{farm},01.13Z,Serres,50.99,2.22,request,heat,Serres,5,MWh,60,",
        ],
    )
    assert job["status"] == "done", job["report"]
    session.expire_all()
    sizes = {
        siret: session.exec(select(Company).where(Company.siret_index == siret_index(siret)))
        .one()
        .size_class
        for siret in (station, bricks, farm)
    }
    # Named in the file, in French or English, any case; not named: the default, to correct.
    assert sizes == {station: "large", bricks: "medium", farm: "small"}


def test_an_import_row_with_an_unknown_or_conflicting_size_is_refused_naming_the_column(
    client: TestClient, session: Session
) -> None:
    station, bricks = make_siret(5201), make_siret(5202)
    job = _import(
        client,
        session,
        [
            f"Centrale SAS,{station},35.11Z,Tranche,50.98,2.14,offer,heat,Vapeur,10,MWh,180,large",
            f"Centrale SAS,{station},,Tranche,50.98,2.14,offer,water,Purges,10,m3,,micro",
            f"Briqueterie SAS,{bricks},23.32Z,Four,50.95,2.45,request,heat,Four,5,MWh,90,PME",
        ],
    )
    assert job["status"] == "failed"
    errors = {(e["line"], e["field"]) for e in job["report"]["errors"]}
    assert errors == {(3, "size"), (4, "size")}
    session.expire_all()
    assert session.exec(select(Company)).first() is None


def test_the_demo_territory_names_each_company_size(client: TestClient, session: Session) -> None:
    """The demo's file has a `size` column: the coal power station is a large business and a
    farm a micro-enterprise, not every company « Petite entreprise »."""
    from marketplace.demo.loader import load_demo

    load_demo()
    _facilitator(client, session)
    page = client.get("/companies", params={"size": "large"}).text
    assert "Centrale Thermique du Littoral SAS" in page
    assert "GAEC des Trois Moulins" not in page
    micro = client.get("/companies", params={"size": "micro"}).text
    assert "GAEC des Trois Moulins" in micro
    assert "Centrale Thermique du Littoral SAS" not in micro
    # Each demo company has its postal address, sealed with its identity.
    row = re.search(r"Centrale Thermique du Littoral SAS</a></td>.*?</tr>", page, re.S)
    assert row and "59820 Gravelines" in row.group(0)


# --- pooling by subchapter -----------------------------------------------------------------------


def _three_offers(session: Session, codes: list[str]) -> list[Flow]:
    tenants = [
        create_tenant(session, name)
        for name in ("Alpha Ciments SAS", "Bravo Papeterie SA", "Charlie Recyclage SAS")
    ]
    return [
        create_flow_row(session, t.site, label=f"Cendres {i}", low_code=code, quantity=500)
        for i, (t, code) in enumerate(zip(tenants, codes, strict=True))
    ]


def test_offers_of_one_subchapter_are_pooled_and_published_at_the_subchapter(
    client: TestClient, session: Session
) -> None:
    # Fly ash, bottom ash and boiler dust of power stations: three codes of subchapter 10 01.
    flows = _three_offers(session, ["10 01 02", "10 01 01", "10 01 04*"])
    facilitator = create_user_row(session, Role.FACILITATOR)
    login(client, facilitator.email)
    token = token_in(client.get("/pools/new").text)
    form = {
        "csrf_token": token,
        "flow_ids": [str(f.id) for f in flows[:2]],
        "area": "departement",
        "title": "Cendres de combustion du port",
    }
    # By exact code, two different codes are refused; by subchapter they pool.
    refused = client.post("/pools/new", data={**form, "material": "code"})
    assert refused.status_code == 422 and "même code déchet" in refused.text
    created = client.post(
        "/pools/new", data={**form, "material": "subchapter"}, follow_redirects=False
    )
    assert created.status_code == 303, created.text
    pool_id = created.headers["location"].split("/")[2]
    client.post(f"/listings/{pool_id}/publish", data={"csrf_token": token})
    session.expire_all()
    listing = session.get(Listing, uuid.UUID(pool_id))
    assert listing is not None
    # Published at the subchapter, never at either code (two companies: brokered only).
    assert (listing.material_level, listing.low_subchapter) == ("subchapter", "1001")
    assert listing.public_low_code is None
    assert listing.quantity_per_year == 1000
    pools = client.get("/pools").text
    assert "10 01 (sous-chapitre)" in pools


def test_a_subchapter_pool_refuses_another_subchapter_or_a_mixed_hazard(
    client: TestClient, session: Session
) -> None:
    flows = _three_offers(session, ["10 01 02", "10 02 02", "10 01 04*"])
    facilitator = create_user_row(session, Role.FACILITATOR)
    login(client, facilitator.email)
    token = token_in(client.get("/pools/new").text)
    base = {"csrf_token": token, "area": "departement", "material": "subchapter", "title": "X"}
    ash, slag, dust = (str(f.id) for f in flows)
    other = client.post("/pools/new", data={**base, "flow_ids": [ash, slag]})
    assert other.status_code == 422 and "même sous-chapitre" in other.text
    mixed = client.post("/pools/new", data={**base, "flow_ids": [ash, dust]})
    assert mixed.status_code == 422 and "tous dangereux ou tous non dangereux" in mixed.text
    bad = client.post(
        "/pools/new",
        data={**base, "material": "chapter", "flow_ids": [ash, slag]},
    )
    assert bad.status_code == 422
    session.expire_all()
    assert session.exec(select(Listing).where(Listing.aggregated == True)).first() is None  # noqa: E712


def test_the_workbench_speaks_english_when_asked(
    client: TestClient, session: Session, territory: dict[str, Company]
) -> None:
    _facilitator(client, session)
    listed = client.get("/companies", params={"lang": "en", "size": "large"})
    assert listed.status_code == 200 and "Name or SIRET" in listed.text
    assert "Large business" in listed.text and "Grande entreprise" not in listed.text
    page = client.get(f"/companies/{territory['station'].id}", params={"lang": "en"}).text
    assert "History" in page and "Identity read by the facilitator" in page
    assert "Historique" not in page
    pools = client.get("/pools", params={"lang": "en"}).text
    assert "Pooled offers" in pools and "No pooled offer yet." in pools


def test_the_import_seals_each_new_company_address(client: TestClient, session: Session) -> None:
    station, bricks = make_siret(5301), make_siret(5302)
    header = f"{IMPORT_HEADER},address"
    lines = [
        f"Centrale SAS,{station},35.11Z,Tranche,50.98,2.14,offer,water,Purges,10,m3,,,"
        '"2 route du Port, 59820 Gravelines"',
        f"Centrale SAS,{station},,Tranche,50.98,2.14,offer,water,Eaux,10,m3,,,",
        f"Briqueterie SAS,{bricks},23.32Z,Four,50.95,2.45,request,water,Eau,5,m3,,,",
    ]
    from tests.factories import bearer
    from tests.test_import import import_file

    headers = bearer(session, create_user_row(session, Role.FACILITATOR))
    job = import_file(client, headers, "\n".join([header, *lines]).encode())
    assert job["status"] == "done", job["report"]
    session.expire_all()
    station_row = session.exec(
        select(Company).where(Company.siret_index == siret_index(station))
    ).one()
    # Sealed: the row holds no address in clear, the facilitator's page shows it.
    assert b"Gravelines" not in station_row.identity_ciphertext
    _facilitator(client, session)
    assert "2 route du Port, 59820 Gravelines" in client.get(f"/companies/{station_row.id}").text
    conflicting = import_file(
        client,
        headers,
        "\n".join(
            [
                header,
                f"Autre SAS,{make_siret(5303)},23.32Z,Four,50.95,2.45,request,water,Eau,5,m3,,,"
                "1 rue A",
                f"Autre SAS,{make_siret(5303)},,Four,50.95,2.45,request,water,Eau 2,5,m3,,,2 rue B",
            ]
        ).encode(),
    )
    assert conflicting["status"] == "failed"
    assert [(e["line"], e["field"]) for e in conflicting["report"]["errors"]] == [(3, "address")]


def test_the_api_pools_by_subchapter_and_names_a_bad_level(
    client: TestClient, session: Session
) -> None:
    from tests.factories import bearer

    flows = _three_offers(session, ["10 01 02", "10 01 01", "10 01 03"])
    headers = bearer(session, create_user_row(session, Role.FACILITATOR))
    body = {
        "flow_ids": [str(f.id) for f in flows],
        "area": "departement",
        "title": "Cendres de combustion",
    }
    refused = client.post("/api/v1/pools", headers=headers, json={**body, "material": "chapter"})
    assert refused.status_code == 422 and refused.json()["field"] == "material"
    by_code = client.post("/api/v1/pools", headers=headers, json=body)
    assert by_code.status_code == 422 and by_code.json()["field"] == "flow_ids"
    created = client.post("/api/v1/pools", headers=headers, json={**body, "material": "subchapter"})
    assert created.status_code == 201, created.text
    session.expire_all()
    listing = session.get(Listing, uuid.UUID(created.json()["id"]))
    assert listing is not None and listing.material_level == "subchapter"
    assert listing.quantity_per_year == 1500
