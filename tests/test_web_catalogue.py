"""The catalogue pages through a TestClient: public cards, member distance bands, filters, cursor
pages, rate limit, the publish-with-preview flow, « Mes annonces », pooled offers, saved searches
and alerts; and that no page shows another company's identity, site or exact quantity."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core import ratelimit
from core.settings import get_settings
from marketplace.accounts.models import Role, User
from marketplace.accounts.service import actor_of
from marketplace.alerts import service as alerts
from marketplace.catalogue import search as catalogue_search
from marketplace.catalogue import service as catalogue
from marketplace.catalogue.models import Listing
from marketplace.catalogue.schemas import Area, ListingPublic
from marketplace.companies.models import Company, Site
from marketplace.flows.models import Flow
from privacy.generalisation import FAMILIES
from tests.factories import create_company_row, create_flow_row, create_site_row, create_user_row
from tests.test_web import csrf_of, login, reloaded, token_in
from web.cards import card_of
from web.i18n import translator

MINERALS_FR = FAMILIES["mineraux"].label_fr
MINERALS_EN = FAMILIES["mineraux"].label_en

# Three sites this close share their public cell: three companies there make a listing public.
NEAR = [(51.0100, 2.3000), (51.0120, 2.3050), (51.0080, 2.2950), (51.0110, 2.2980)]
RENNES = (48.11, -1.68)  # alone in its région: brokered only
ASH: dict[str, Any] = {
    "label": "Cendres volantes du silo",
    "low_code": "10 01 02",
    "quantity": 1357.9,
    "unit": "t",
    "description": "Cendres sèches, livrées en vrac.",
}
HEAT: dict[str, Any] = {
    "kind": "heat",
    "label": "Chaleur fatale du four",
    "low_code": None,
    "quantity": 4321.5,
    "unit": "MWh",
    "temperature_c": 95,
}
SOLVENT: dict[str, Any] = {
    "label": "Solvants usagés",
    "low_code": "14 06 03",
    "hazardous": True,
    "quantity": 15,
    "unit": "t",
}
PALLETS: dict[str, Any] = {
    "direction": "request",
    "label": "Palettes",
    "low_code": "15 01 03",
    "unit": "t",
}
NAMES = ("Cimenterie Alpha SAS", "Papeterie Bravo SA", "Aciérie Charlie SAS")


@dataclass
class Member:
    name: str  # the company's legal name (the row holds it encrypted)
    site_name: str
    company: Company
    admin: User
    site: Site
    flows: dict[str, Flow] = field(default_factory=dict)
    listings: dict[str, uuid.UUID] = field(default_factory=dict)


def member(session: Session, name: str, site_name: str, position: tuple[float, float]) -> Member:
    company = create_company_row(session, name)
    admin = create_user_row(session, Role.COMPANY_ADMIN, company)
    site = create_site_row(session, company, site_name, *position)
    return Member(name, site_name, company, admin, site)


def publish(session: Session, owner: Member, key: str, **flow: Any) -> uuid.UUID:
    owner.flows[key] = create_flow_row(session, owner.site, **flow)
    actor = actor_of(owner.admin)
    listing = catalogue.create_listing(session, actor, owner.flows[key].id)
    catalogue.publish(session, actor, listing)
    session.commit()
    owner.listings[key] = listing.id
    return listing.id


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    ratelimit.reset()
    yield
    ratelimit.reset()


@pytest.fixture
def world(session: Session) -> list[Member]:
    """Three companies side by side, each offering ash, heat and a hazardous solvent (all public),
    and a fourth alone in Brittany whose request is brokered only."""
    members = [member(session, name, f"Usine secrète {i}", NEAR[i]) for i, name in enumerate(NAMES)]
    for owner in members:
        publish(session, owner, "ash", **ASH)
        publish(session, owner, "heat", **HEAT)
        publish(session, owner, "solvent", **SOLVENT)
    lone = member(session, "Menuiserie Delta SARL", "Atelier de Rennes", RENNES)
    publish(session, lone, "pallets", **PALLETS, quantity=50)
    members.append(lone)
    # The publication run places them: until then, every published listing waits.
    catalogue.run_publication(session)
    session.commit()
    return members


def secrets_of(members: list[Member]) -> list[str]:
    """What no other party may read: names, site names, exact quantities, coordinates."""
    found = [m.name for m in members] + [m.site_name for m in members]
    # Separators included: a bare "1357" could occur in any id on the page.
    exact = ["1357.9", "1357,9", "357,9", "4321.5", "4321,5", "321,5", "51.01", "51,01"]
    return [*found, *exact]


def titles(page: str) -> list[str]:
    return [
        html.unescape(t) for t in re.findall(r'class="card-title"><a href="[^"]+">([^<]+)<', page)
    ]


def shown(page: str) -> str:
    """The page's text as read: escaped characters (&#39;) back to themselves."""
    return html.unescape(page)


def switch_to(client: TestClient, email: str) -> None:
    client.cookies.clear()
    login(client, email)


def next_link(page: str) -> str | None:
    match = re.search(r'<a class="button" href="([^"]+)"[^>]*>Annonces suivantes', page)
    return html.unescape(match.group(1)) if match else None


# --- the public catalogue ----------------------------------------------------------------------


def test_anonymous_visitor_sees_public_cards_in_french(
    client: TestClient, world: list[Member]
) -> None:
    response = client.get("/catalogue")
    assert response.status_code == 200
    page = response.text
    assert "Catalogue des annonces" in page and '<html lang="fr">' in page
    assert sorted(titles(page)) == sorted([ASH["label"], HEAT["label"], SOLVENT["label"]] * 3), (
        "the nine public listings, not the brokered one"
    )
    assert "Palettes" not in page
    for text in (
        "Offre",
        MINERALS_FR,
        "10 01 02",
        "cendres volantes de charbon",
        "1 000 – 10 000 t/an",
        "Chaleur fatale",
        "90–150 °C",
        "dangereux",
        "Nord (59)",
        "Continu",
        "Publiée le",
    ):
        assert text in page, text
    # No distances for a visitor: no site select, no distance sort, no saving.
    assert 'name="from_site"' not in page and 'value="distance"' not in page
    assert "Enregistrer cette recherche" not in page
    assert "Se connecter" in page and 'href="/catalogue" aria-current="page"' in page
    for secret in secrets_of(world):
        assert secret not in page, secret


def test_the_form_updates_the_results_with_htmx_and_works_without(
    client: TestClient, world: list[Member]
) -> None:
    page = client.get("/catalogue").text
    form = re.search(r'<form class="catalogue-filters[^>]*>', page)
    assert form, "the filter form"
    for attribute in ('method="get"', 'action="/catalogue"', 'hx-get="/catalogue"'):
        assert attribute in form.group(0)
    assert 'hx-target="#results"' in form.group(0) and 'hx-push-url="true"' in form.group(0)

    fragment = client.get("/catalogue?family=heat", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "catalogue-filters" not in fragment.text
    assert titles(fragment.text) == [HEAT["label"]] * 3
    # htmx asks for the whole page when its history cache misses.
    restore = client.get(
        "/catalogue?family=heat",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.text


def test_filters_narrow_the_results(client: TestClient, world: list[Member]) -> None:
    cases = {
        "family=heat": [HEAT["label"]],
        "kind=material&hazardous=true": [SOLVENT["label"]],
        "hazardous=false&kind=material": [ASH["label"]],
        "low_code=10+01+02": [ASH["label"]],
        "low_chapter=14": [SOLVENT["label"]],
        "direction=offer&departement=59&q=chaleur": [HEAT["label"]],
        "region=32&quantity_band=1": [SOLVENT["label"]],
        "direction=request": [],
        "departement=13": [],
    }
    for query, expected in cases.items():
        response = client.get(f"/catalogue?{query}")
        assert response.status_code == 200, query
        assert sorted(titles(response.text)) == sorted(expected * 3), query
    empty = client.get("/catalogue?departement=13").text
    assert "Aucune annonce ne correspond à ces critères." in empty
    # The form shows the chosen filters again.
    assert '<option value="heat" selected>' in client.get("/catalogue?family=heat").text


def test_pages_come_from_the_catalogue_cache_until_the_catalogue_changes(
    client: TestClient, world: list[Member], session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders: list[str] = []
    real_search = catalogue_search.search

    def counted(*args: Any, **kwargs: Any) -> Any:
        renders.append("search")
        return real_search(*args, **kwargs)

    monkeypatch.setattr(catalogue_search, "search", counted)
    first = client.get("/catalogue?family=heat")
    assert titles(first.text) == [HEAT["label"]] * 3 and renders == ["search"]
    assert titles(client.get("/catalogue?family=heat").text) == titles(first.text)
    assert renders == ["search"]  # the second page came from the cache

    # A change renews the catalogue's version: this process shows it on its next read.
    heat = session.exec(select(Listing).where(Listing.title == HEAT["label"])).first()
    assert heat is not None
    facilitator = actor_of(
        User(id=uuid.uuid4(), email="f", password_hash="", role=Role.FACILITATOR)
    )
    catalogue.pause(session, facilitator, heat)
    session.commit()
    # Only the paused listing leaves: the two others keep their cell until a run (its ghost).
    assert titles(client.get("/catalogue?family=heat").text) == [HEAT["label"]] * 2
    assert renders == ["search", "search"]
    assert client.get(f"/catalogue/{heat.id}").status_code == 404  # "not found" is not cached


def test_a_refused_filter_is_explained_in_french(client: TestClient, world: list[Member]) -> None:
    response = client.get("/catalogue?low_code=123")
    assert response.status_code == 422
    assert "Un code à 6 chiffres, ex. 10 01 02." in response.text
    assert titles(response.text) == []
    # A visitor's distance parameters are dropped, not refused (it has no site to measure from).
    site = world[0].site.id
    visitor = client.get(f"/catalogue?from_site={site}&distance_band=lt10&sort=distance")
    assert visitor.status_code == 200 and len(titles(visitor.text)) == 9
    # No band (the « Pourquoi ? » of a place speaks of a 36 km² cell, never of a distance).
    assert 'class="distance"' not in visitor.text and " km<" not in visitor.text


def test_member_measures_distances_from_its_own_sites_only(
    client: TestClient, session: Session, world: list[Member]
) -> None:
    alpha, bravo = world[0], world[1]
    second = create_site_row(session, alpha.company, "Dépôt de Gravelines", 50.99, 2.13)
    login(client, alpha.admin.email)
    page = client.get("/catalogue").text
    select = re.search(r'<select id="field-from_site" name="from_site".*?</select>', page, re.S)
    assert select, "a member chooses one of its own sites"
    assert "Usine secrète 0" in select.group(0) and "Dépôt de Gravelines" in select.group(0)
    assert "Usine secrète 1" not in page and "Usine secrète 2" not in page
    assert 'value="distance"' in page  # the distance sort
    assert 'name="latitude"' not in page and 'name="longitude"' not in page

    near = client.get(f"/catalogue?from_site={alpha.site.id}&sort=distance").text
    assert len(re.findall(r'class="distance" aria-describedby="[^"]+">&lt; 10 km<', near)) == 9
    assert f"/catalogue/{bravo.listings['ash']}?from_site={alpha.site.id}" in near
    farther = client.get(f"/catalogue?from_site={second.id}&distance_band=10-30").text
    assert len(re.findall(r'class="distance" aria-describedby="[^"]+">10–30 km<', farther)) == 9
    assert titles(client.get(f"/catalogue?from_site={second.id}&distance_band=lt10").text) == []

    foreign = client.get(f"/catalogue?from_site={bravo.site.id}")
    assert foreign.status_code == 422
    assert "Choisissez l'un de vos sites." in shown(foreign.text) and titles(foreign.text) == []
    band_alone = client.get("/catalogue?distance_band=lt10")
    assert band_alone.status_code == 422
    assert "Choisissez l'un de vos sites pour filtrer par distance." in shown(band_alone.text)
    for secret in secrets_of(world[1:]):
        assert secret not in near, secret


def test_the_next_listings_link_carries_the_cursor(
    client: TestClient, world: list[Member], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("web.catalogue_form.PAGE_SIZE", 4)
    seen: list[str] = []
    url: str | None = "/catalogue?kind=material"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        seen += titles(response.text)
        assert "kind=material" in url
        url = next_link(response.text)
        pages += 1
    assert pages == 2 and sorted(seen) == sorted([ASH["label"], SOLVENT["label"]] * 3)
    assert "Premières annonces" in response.text
    forged = client.get("/catalogue?kind=material&cursor=not-a-cursor")
    assert forged.status_code == 422
    assert "Cette page de résultats n'est plus valide" in shown(forged.text)


def test_brokered_and_unpublished_listings_are_not_found(
    client: TestClient, session: Session, world: list[Member]
) -> None:
    lone = world[3]
    assert "Palettes" not in client.get("/catalogue").text
    brokered = client.get(f"/catalogue/{lone.listings['pallets']}")
    assert brokered.status_code == 404 and "Annonce plus disponible" in brokered.text
    draft = catalogue.create_listing(
        session, actor_of(world[0].admin), create_flow_row(session, world[0].site, **ASH).id
    )
    session.commit()
    assert client.get(f"/catalogue/{draft.id}").status_code == 404
    assert client.get(f"/catalogue/{uuid.uuid4()}").status_code == 404

    public = client.get(f"/catalogue/{world[1].listings['ash']}")
    assert public.status_code == 200
    assert ASH["description"] in public.text and "10 01 02" in public.text
    for secret in secrets_of(world):
        assert secret not in public.text, secret


def test_too_many_searches_bring_a_french_message_not_a_failure(
    client: TestClient, world: list[Member], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "search_rate_per_minute", 2)
    monkeypatch.setattr(ratelimit, "_now", lambda: 6_000_030.0)  # mid-window: no minute rolls
    assert client.get("/catalogue").status_code == 200
    assert client.get("/catalogue").status_code == 200
    limited = client.get("/catalogue")
    assert limited.status_code == 429
    assert "Trop de recherches en peu de temps" in limited.text and titles(limited.text) == []
    fragment = client.get("/catalogue", headers={"HX-Request": "true"})
    assert fragment.status_code == 429 and "Trop de recherches" in fragment.text
    listing = client.get(f"/catalogue/{world[0].listings['ash']}")
    assert listing.status_code == 429
    assert "Trop de requêtes" in listing.text and "Trop de recherches" in listing.text


def test_english_cards(client: TestClient, world: list[Member]) -> None:
    page = client.get("/catalogue?lang=en&family=mineraux").text
    assert "Listings catalogue" in page and MINERALS_EN in page
    assert "1,000 – 10,000 t/yr" in page and "Coal fly ash" in page and "Offer" in page


def test_a_card_shows_the_material_and_place_at_their_public_level() -> None:
    """A listing generalised to its subchapter and région, dominated in its cell."""
    listing = ListingPublic(
        id=uuid.uuid4(),
        direction="request",
        kind="material",
        aggregated=True,
        family="mineraux",
        family_label=MINERALS_FR,
        hazardous=False,
        low_chapter="10",
        low_subchapter="1001",
        low_subchapter_label="ignored: the card reads the reference labels",
        low_code=None,
        low_label=None,
        location_level="region",
        departement=None,
        region=Area(code="32", name="Hauts-de-France"),
        quantity_class="présent",
        temperature_class=None,
        regularity="seasonal",
        months=[6, 7],
        title="Gypse",
        description="",
        published_on=date(2026, 3, 3),
    )
    card = card_of(listing, "fr", translator("fr"))
    assert card.material is not None and card.material.code == "10 01"
    assert card.material.label.startswith("déchets provenant de centrales électriques")
    assert card.place == "Hauts-de-France" and card.quantity == "présent"
    # Each generalised value with its plain words: a pool dominated by one company, a région.
    assert "plus de 85 %" in card.notes["quantity"].text
    assert card.notes["quantity"].href == "/aide/anonymat#quantite"
    assert card.notes["place"].text.startswith("Offre groupée : zone choisie par l'animateur")
    assert card.notes["material"].text.startswith("Offre groupée : les flux réunis")
    assert "distance" not in card.notes  # a visitor's card has no band
    assert card.direction == "Demande" and card.months == "juin, juillet"
    assert card.published_on == "3 mars 2026"
    chapter_only = card_of(
        listing.model_copy(update={"low_subchapter": None}), "en", translator("en")
    )
    assert chapter_only.material is not None and chapter_only.material.code == "10"
    assert chapter_only.material.label == "Wastes from thermal processes"
    assert chapter_only.quantity == "present"


# --- publishing through the preview ------------------------------------------------------------


def test_publish_a_flow_through_its_preview(
    client: TestClient, session: Session, world: list[Member]
) -> None:
    alpha = world[0]
    flow = create_flow_row(session, alpha.site, **{**ASH, "label": "Cendres du second silo"})
    login(client, alpha.admin.email)
    flows = client.get("/flows").text
    assert f'action="/flows/{flow.id}/publish"' in flows
    assert f'action="/flows/{alpha.flows["ash"].id}/publish"' not in flows  # already listed
    token = token_in(flows)

    refused = client.post(f"/flows/{flow.id}/publish", data={"csrf_token": "nope"})
    assert refused.status_code == 403
    created = client.post(
        f"/flows/{flow.id}/publish", data={"csrf_token": token}, follow_redirects=False
    )
    assert created.status_code == 303
    preview_url = created.headers["location"]
    listing_id = uuid.UUID(preview_url.split("/")[2])
    assert preview_url == f"/listings/{listing_id}/preview"

    preview = shown(client.get(preview_url).text)
    assert "Aperçu de l'annonce" in preview and "Cendres du second silo" in preview
    assert "10 01 02" in preview and "Nord (59)" in preview and "1 000 – 10 000 t/an" in preview
    assert "en attente de la prochaine publication" not in preview
    assert alpha.name not in preview and "Usine secrète 0" not in preview
    assert reloaded(session, Listing, listing_id).status == "draft"
    assert f"/catalogue/{listing_id}" not in client.get("/catalogue").text
    # A second click goes to the same draft.
    again = client.post(
        f"/flows/{flow.id}/publish", data={"csrf_token": token}, follow_redirects=False
    )
    assert again.headers["location"] == preview_url

    confirmed = client.post(
        f"/listings/{listing_id}/publish", data={"csrf_token": token}, follow_redirects=False
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"] == "/listings?notice=listing-published"
    mine = shown(client.get(confirmed.headers["location"]).text)
    assert "L'annonce est publiée." in mine and "Mes annonces" in mine
    assert "Cendres du second silo" in mine and "Publiée" in mine
    assert reloaded(session, Listing, listing_id).status == "published"
    assert "Cendres du second silo" in titles(client.get("/catalogue").text)


def test_the_preview_says_when_a_listing_will_wait_for_the_next_publication(
    client: TestClient, session: Session, world: list[Member]
) -> None:
    lone = world[3]
    flow = create_flow_row(session, lone.site, **ASH)
    login(client, lone.admin.email)
    token = csrf_of(client, "/flows")
    created = client.post(f"/flows/{flow.id}/publish", data={"csrf_token": token})
    assert created.status_code == 200
    page = shown(created.text)
    assert "votre annonce sera en attente de la prochaine publication (" in page
    assert " UTC)" in page
    listing_id = re.search(r'action="/listings/([0-9a-f-]+)/publish"', created.text)
    assert listing_id
    client.post(f"/listings/{listing_id.group(1)}/publish", data={"csrf_token": token})
    mine = shown(client.get("/listings").text)
    assert "En attente de la prochaine publication (" in mine
    # The run finds no two other companies beside it: brokered only, the owner is told so.
    catalogue.run_publication(session)
    session.commit()
    mine = shown(client.get("/listings").text)
    assert "Diffusée par l'animateur uniquement" in mine
    assert "En attente de la prochaine publication" not in mine


def test_pause_resume_withdraw_and_fulfil_from_my_listings(
    client: TestClient, session: Session, world: list[Member]
) -> None:
    alpha = world[0]
    ash, heat = alpha.listings["ash"], alpha.listings["heat"]
    login(client, alpha.admin.email)
    page = client.get("/listings").text
    token = token_in(page)
    assert f'action="/listings/{ash}/pause"' in page
    assert page.count('class="label"') == 3  # its own three listings only

    def act(listing_id: uuid.UUID, action: str) -> str:
        response = client.post(f"/listings/{listing_id}/{action}", data={"csrf_token": token})
        assert response.status_code == 200, (action, response.status_code)
        return shown(response.text)

    paused = act(ash, "pause")
    assert "L'annonce est en pause" in paused and "En pause" in paused
    assert f'action="/listings/{ash}/resume"' in paused
    assert reloaded(session, Listing, ash).status == "paused"
    # Out of the catalogue; its owner still sees its state there (tests/test_listing_gone.py).
    assert "Statut : En pause" in shown(client.get(f"/catalogue/{ash}").text)
    assert "L'annonce est de retour au catalogue." in act(ash, "resume")
    assert reloaded(session, Listing, ash).status == "published"
    assert "L'annonce est marquée satisfaite." in act(heat, "fulfil")
    withdrawn = act(ash, "withdraw")
    assert "L'annonce est retirée." in withdrawn and "Retirée" in withdrawn
    assert reloaded(session, Listing, ash).status == "withdrawn"
    assert f'action="/listings/{ash}/' not in withdrawn  # no action left on a withdrawn one
    stale = client.post(f"/listings/{ash}/pause", data={"csrf_token": token})
    assert stale.status_code == 409
    assert "pas possible dans le statut actuel de l'annonce" in shown(stale.text)
    assert client.post(f"/listings/{ash}/explode", data={"csrf_token": token}).status_code == 404


def test_another_companys_listings_and_flows_are_not_found(
    client: TestClient, session: Session, world: list[Member]
) -> None:
    alpha, bravo = world[0], world[1]
    draft = catalogue.create_listing(
        session, actor_of(alpha.admin), create_flow_row(session, alpha.site, **HEAT).id
    )
    session.commit()
    login(client, bravo.admin.email)
    token = csrf_of(client, "/listings")
    mine = client.get("/listings").text
    assert str(alpha.listings["ash"]) not in mine and str(draft.id) not in mine
    for action in ("pause", "withdraw", "fulfil", "publish"):
        response = client.post(
            f"/listings/{alpha.listings['ash']}/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 404, action
    assert client.get(f"/listings/{draft.id}/preview").status_code == 404
    assert (
        client.post(f"/listings/{draft.id}/publish", data={"csrf_token": token}).status_code == 404
    )
    assert (
        client.post(f"/flows/{alpha.flows['solvent'].id}/publish", data={"csrf_token": token})
    ).status_code == 404
    assert reloaded(session, Listing, alpha.listings["ash"]).status == "published"
    assert reloaded(session, Listing, draft.id).status == "draft"


# --- the facilitator ---------------------------------------------------------------------------


def test_facilitator_sees_every_listing_and_pools_offers(
    client: TestClient, session: Session, world: list[Member]
) -> None:
    facilitator = create_user_row(session, Role.FACILITATOR)
    flows = [create_flow_row(session, m.site, **{**ASH, "quantity": 300}) for m in world[:3]]
    login(client, facilitator.email)
    listings = client.get("/listings").text
    assert "Annonces" in listings and "Regrouper des offres" in listings
    assert listings.count(ASH["label"]) >= 3 and "Palettes" in listings

    form = client.get("/pools/new").text
    for m in world[:3]:
        assert m.name in form  # the facilitator may see identities (audited)
    token = token_in(form)
    too_few = client.post(
        "/pools/new",
        data={"csrf_token": token, "flow_ids": [str(flows[0].id)], "title": "Cendres"},
    )
    assert too_few.status_code == 422 and "Choisissez au moins deux offres." in too_few.text
    mixed = client.post(
        "/pools/new",
        data={
            "csrf_token": token,
            "flow_ids": [str(flows[0].id), str(world[1].flows["heat"].id)],
            "area": "departement",
            "title": "Mélange",
        },
    )
    assert mixed.status_code == 422 and "même nature" in mixed.text

    created = client.post(
        "/pools/new",
        data={
            "csrf_token": token,
            "flow_ids": [str(f.id) for f in flows],
            "area": "departement",
            "title": "Cendres volantes de la zone portuaire",
            "description": "Trois producteurs, un seul lot.",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    preview = client.get(created.headers["location"]).text
    assert "Annonce groupée" in preview and "Cendres volantes de la zone portuaire" in preview
    assert "Trop peu" not in preview
    pool_id = created.headers["location"].split("/")[2]
    client.post(f"/listings/{pool_id}/publish", data={"csrf_token": token})
    public = client.get(f"/catalogue/{pool_id}").text
    assert "Annonce groupée" in public
    for m in world[:3]:
        assert m.name not in public


def test_pool_form_is_the_facilitators_only(client: TestClient, world: list[Member]) -> None:
    login(client, world[0].admin.email)
    assert client.get("/pools/new").status_code == 403


# --- saved searches and alerts -----------------------------------------------------------------


def test_save_the_current_search_then_delete_it(
    client: TestClient, session: Session, world: list[Member]
) -> None:
    login(client, world[0].admin.email)
    page = client.get("/catalogue?family=mineraux&departement=59&sort=date").text
    form = re.search(r'<form class="save-search.*?</form>', page, re.S)
    assert form, "the catalogue offers to save the search"
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)))
    assert hidden.pop("csrf_token")
    assert hidden == {"family": "mineraux", "departement": "59"}  # no sort, no cursor

    saved = client.post(
        "/saved-searches",
        data={"csrf_token": token_in(page), "name": "Cendres du Nord", **hidden},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    listed = shown(client.get(saved.headers["location"]).text)
    assert "La recherche est enregistrée" in listed and "Cendres du Nord" in listed
    assert MINERALS_FR in listed and "59 · Nord" in listed
    assert "Alertes dans l'application uniquement." in listed  # the box was not ticked
    assert 'href="/catalogue?family=mineraux&departement=59"' in listed

    empty_name = client.post(
        "/saved-searches", data={"csrf_token": token_in(page), "name": "  ", **hidden}
    )
    assert empty_name.status_code == 422 and "Donnez un nom" in empty_name.text

    search = alerts.list_searches(session, actor_of(world[0].admin))[0]
    switch_to(client, world[1].admin.email)
    foreign = client.post(
        f"/saved-searches/{search.id}/delete", data={"csrf_token": csrf_of(client, "/listings")}
    )
    assert foreign.status_code == 404
    switch_to(client, world[0].admin.email)
    deleted = client.post(
        f"/saved-searches/{search.id}/delete", data={"csrf_token": csrf_of(client, "/listings")}
    )
    assert "La recherche enregistrée est supprimée." in deleted.text
    assert "Cendres du Nord" not in deleted.text


def test_notifications_list_alerts_and_mark_them_read(
    client: TestClient, session: Session, world: list[Member]
) -> None:
    alpha, bravo = world[0], world[1]
    alerts.save_search(
        session, actor_of(alpha.admin), "Chaleur proche", {"kind": "heat"}, email_alerts=False
    )
    session.commit()
    created = alerts.notify_matches(session, [bravo.listings["heat"], alpha.listings["heat"]])
    session.commit()
    assert len(created) == 1  # never about one's own listing

    login(client, alpha.admin.email)
    page = client.get("/notifications").text
    assert re.search(r'Alertes <span class="count">1</span>', page), "the unread count"
    assert "Pour votre recherche « Chaleur proche »" in page and "Nouveau" in page
    assert HEAT["label"] in page and "90–150 °C" in page
    assert bravo.name not in page and "Usine secrète 1" not in page
    read = client.post(f"/notifications/{created[0]}/read", data={"csrf_token": token_in(page)})
    assert read.status_code == 200
    assert 'class="count"' not in read.text and "Marquer comme lu" not in read.text

    switch_to(client, bravo.admin.email)
    assert (
        client.post(
            f"/notifications/{created[0]}/read", data={"csrf_token": csrf_of(client, "/flows")}
        ).status_code
        == 404
    )


def test_the_navigation_by_role(client: TestClient, session: Session, world: list[Member]) -> None:
    anonymous = client.get("/catalogue").text
    assert 'href="/catalogue"' in anonymous and 'href="/listings"' not in anonymous
    login(client, world[0].admin.email)
    member_nav = client.get("/flows").text
    for link in ("/catalogue", "/listings", "/saved-searches", "/notifications"):
        assert f'href="{link}"' in member_nav, link
    assert "Mes annonces" in member_nav and "Recherches" in member_nav and "Alertes" in member_nav
