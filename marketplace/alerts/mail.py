"""The alert e-mail, in French: built from the listing's public view only, never from its owner."""

from __future__ import annotations

from email.message import EmailMessage

from core.mail import compose
from core.settings import get_settings
from marketplace.catalogue.schemas import ListingPublic

DIRECTIONS_FR = {"offer": "Offre", "request": "Demande"}
REGULARITIES_FR = {
    "continuous": "continu",
    "batch": "par lots",
    "seasonal": "saisonnier",
    "one-off": "ponctuel",
}


def alert_subject(search_name: str) -> str:
    return f"Nouvelle annonce pour votre recherche « {search_name} »"


def _place(listing: ListingPublic) -> str:
    if listing.departement is not None:
        return f"{listing.departement.name} ({listing.departement.code}), {listing.region.name}"
    return listing.region.name


def alert_body(search_name: str, listing: ListingPublic) -> str:
    """The text of one alert. It takes a ListingPublic, the catalogue's allow-list, so the owner,
    the site, the exact quantity and the prices cannot find their way into it."""
    link = f"{get_settings().base_url.rstrip('/')}/catalogue/{listing.id}"
    material = listing.family_label
    if listing.low_code and listing.low_label:
        material += f" — {listing.low_label}"
    elif listing.low_subchapter_label:
        material += f" — {listing.low_subchapter_label}"
    lines = [
        "Bonjour,",
        "",
        f"Une annonce correspond à votre recherche « {search_name} » :",
        "",
        f"  {listing.title}",
        f"  {DIRECTIONS_FR.get(listing.direction, listing.direction)} · {material}",
    ]
    if listing.hazardous:
        lines.append("  Déchet dangereux")
    lines += [
        f"  Quantité : {listing.quantity_class}",
        f"  Régularité : {REGULARITIES_FR.get(listing.regularity, listing.regularity)}",
        f"  Localisation : {_place(listing)}",
        "",
        f"Voir l'annonce : {link}",
        "",
        "L'identité de l'entreprise n'est révélée qu'après une mise en relation acceptée par les "
        "deux parties.",
        "",
        "Vous recevez ce message car vous avez enregistré cette recherche sur Symbiose ; "
        "vous pouvez la supprimer à tout moment.",
    ]
    return "\n".join(lines) + "\n"


def alert_message(to: str, search_name: str, listing: ListingPublic) -> EmailMessage:
    return compose(to, alert_subject(search_name), alert_body(search_name, listing))
