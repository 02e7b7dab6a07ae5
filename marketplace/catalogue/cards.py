"""A listing's public card: the generalised view stored on it and the allow-listed card shown.

Shared by the publication rules (service) and the pooled offers (pools), which both place
listings; kept apart from both so neither imports the other's module.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from core.text import fold
from marketplace.catalogue.labels import departement_names, low_label, region_names
from marketplace.catalogue.models import Listing, PoolShare, is_public
from marketplace.catalogue.schemas import Area, ListingPublic
from marketplace.companies.models import Company
from marketplace.flows.months import months_of
from privacy.generalisation import (
    FAMILIES,
    TEMPERATURE_LABELS,
    Generalised,
    LocationLevel,
    MaterialLevel,
    class_representative,
    quantity_class,
    temperature_class,
)
from privacy.places import published_cell, published_point

PRESENT_FR = "présent"


def group_key_of(kind: str, low_code: str | None) -> str:
    return low_code[:2] if kind == "material" and low_code else kind


def legal_units(session: Session, company_ids: Iterable[uuid.UUID | None]) -> dict[Any, str]:
    """The legal unit (blind index of the SIREN) of each company: what k and dominance count."""
    ids = sorted({i for i in company_ids if i is not None})
    units: dict[Any, str] = {}
    for start in range(0, len(ids), 1000):
        query = select(Company.id, Company.legal_unit_index).where(
            col(Company.id).in_(ids[start : start + 1000])
        )
        units.update(dict(session.exec(query).all()))
    return units


def companies_behind(
    session: Session, listings: Iterable[Listing]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """The companies behind each listing: its owner, or every contributor of a pooled offer
    (what k counts, and whom an alert must not tell about its own listing)."""
    listings = list(listings)
    owners = {x.id: {x.company_id} if x.company_id is not None else set() for x in listings}
    pooled = [x.id for x in listings if x.aggregated]
    for start in range(0, len(pooled), 1000):
        shares = session.exec(
            select(PoolShare.listing_id, PoolShare.company_id).where(
                col(PoolShare.listing_id).in_(pooled[start : start + 1000])
            )
        ).all()
        for listing_id, company_id in shares:
            owners[listing_id].add(company_id)
    return owners


def apply_view(listing: Listing, view: Generalised) -> bool:
    """Store the generalised view on the listing; True when anything public changed."""
    code = listing.low_code if listing.kind == "material" else None
    level = view.material_level
    values = {
        "brokered_only": view.brokered_only,
        "material_level": level.value,
        "material_key": view.material_key,
        "family": view.family.key,
        "low_chapter": code[:2] if code else None,
        "low_subchapter": code[:4]
        if code and level in (MaterialLevel.CODE, MaterialLevel.SUBCHAPTER)
        else None,
        "public_low_code": code if code and level == MaterialLevel.CODE else None,
        "location_level": view.location_level.value,
        "location_key": view.location_key,
        "public_departement": listing.departement_code
        if view.location_level in (LocationLevel.CELL, LocationLevel.DEPARTEMENT)
        else None,
        "quantity_band": view.quantity_class.band if view.quantity_class else None,
        "temperature_band": temperature_class(listing.temperature_c)[0]
        if listing.kind == "heat" and listing.temperature_c is not None
        else None,
    }
    changed = any(getattr(listing, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(listing, name, value)
    # Distance bands are measured to this point, never to the site (privacy/places.py).
    listing.latitude, listing.longitude = published_point(view.location_level, view.location_key)
    listing.search_text = _search_text(listing)
    return changed


def _search_text(listing: Listing) -> str:
    """Folded words a full-text search may match: the listing's own words, and only what its
    public card shows. The title opens it (words.title_text); then its description, the label of
    the finest List of Waste level the card shows (the entry, else the subchapter, else the
    chapter; French and English), and for heat, water and gas the kind, which is their family.
    Never a material's family label: « Minéraux, cendres et laitiers » made demolition concrete
    answer « cendres ». Migration 0008 recomputed the stored texts when this rule changed: a
    further change needs its own."""
    parts = [listing.title, listing.description]
    code = listing.public_low_code or listing.low_subchapter or listing.low_chapter
    parts += [low_label(code, "fr") or "", low_label(code, "en") or ""]
    family = FAMILIES.get(listing.family)
    if family and listing.kind != "material":
        parts += [family.label_fr, family.label_en]
    return fold(" ".join(parts))


def _quantity_label(listing: Listing) -> str:
    # From the stored band only: a pool's band is not its exact sum's (classes of sums of classes).
    if listing.quantity_band is None:
        return PRESENT_FR
    representative = class_representative(listing.quantity_band)
    return quantity_class(listing.kind, representative, base_unit=listing.base_unit).label


def to_public(listing: Listing, distance_band: str | None = None) -> ListingPublic:
    """The allow-listed public view; reads only the generalised columns (and the quantity through
    its band)."""
    family = FAMILIES.get(listing.family)
    departement = listing.public_departement
    return ListingPublic(
        id=listing.id,
        direction=listing.direction,
        kind=listing.kind,
        aggregated=listing.aggregated,
        family=listing.family,
        family_label=family.label_fr if family else listing.family,
        hazardous=listing.hazardous,
        low_chapter=listing.low_chapter,
        low_subchapter=listing.low_subchapter,
        low_subchapter_label=low_label(listing.low_subchapter) or low_label(listing.low_chapter),
        low_code=listing.public_low_code,
        low_label=low_label(listing.public_low_code),
        location_level=listing.location_level,
        cell=published_cell(listing.location_level, listing.location_key),
        departement=Area(code=departement, name=departement_names().get(departement, departement))
        if departement
        else None,
        region=Area(
            code=listing.region_code,
            name=region_names().get(listing.region_code, listing.region_code),
        ),
        quantity_class=_quantity_label(listing),
        temperature_class=TEMPERATURE_LABELS[listing.temperature_band]
        if listing.temperature_band is not None
        else None,
        regularity=listing.regularity,
        months=months_of(listing.months_mask),
        title=listing.title,
        description=listing.description,
        published_on=listing.published_at.date() if listing.published_at else None,
        distance_band=distance_band,
    )


def card_shown(listing: Listing) -> dict[str, Any] | None:
    """The listing's public card as everyone sees it (without the viewer's distance band), or
    None while the catalogue does not show it: what alerts compare."""
    if not is_public(listing):
        return None
    return to_public(listing).model_dump(mode="json", exclude={"distance_band"})


def card_revision(listing: Listing) -> str:
    """A digest of the public card: equal digests, nothing public changed."""
    card = json.dumps(card_shown(listing), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(card.encode()).hexdigest()[:32]
