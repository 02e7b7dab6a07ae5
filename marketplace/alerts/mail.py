"""The alert e-mail, in the recipient's language (French unless they chose English): built from
the listing's public view only, never from its owner. Its words are in the gettext catalogues of
marketplace/alerts/locale (message ids in English, as the web pages' are)."""

from __future__ import annotations

from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path

from core.i18n import LOCALES, N_, Translate, compile_catalogue, translator_of
from core.mail import compose
from core.settings import get_settings
from marketplace.catalogue import explanations
from marketplace.catalogue.labels import low_label
from marketplace.catalogue.schemas import ListingPublic
from privacy.generalisation import FAMILIES, LocationLevel, quantity_label_en

LOCALE_DIR = Path(__file__).resolve().parent / "locale"

DIRECTIONS = {"offer": N_("Offer"), "request": N_("Request")}
REGULARITIES = {
    "continuous": N_("continuous"),
    "batch": N_("in batches"),
    "seasonal": N_("seasonal"),
    "one-off": N_("one-off"),
}
# The public view's word when one company dominates a cell (privacy/generalisation.py).
PRESENT_FR = "présent"


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / "mail.po"


@lru_cache
def translator(locale: str) -> Translate:
    return translator_of(compile_catalogue(catalogue_path(locale), locale))


def mail_locale(preferred: str | None) -> str:
    return preferred if preferred in LOCALES else get_settings().default_locale


def alert_subject(search_name: str, locale: str = "fr") -> str:
    _ = translator(mail_locale(locale))
    return _("New listing for your search “%(name)s”", name=search_name)


def _place(listing: ListingPublic) -> str:
    if listing.departement is not None:
        return f"{listing.departement.name} ({listing.departement.code}), {listing.region.name}"
    return listing.region.name


def _material(listing: ListingPublic, locale: str) -> str:
    family = FAMILIES.get(listing.family)
    name = listing.family_label
    if family is not None:
        name = family.label_fr if locale == "fr" else family.label_en
    for code in (listing.low_code, listing.low_subchapter):
        label = low_label(code, locale)
        if label:
            return f"{name} — {label}"
    return name


def _quantity(listing: ListingPublic, locale: str, _: Translate) -> str:
    if listing.quantity_class == PRESENT_FR:
        return _("present")
    if locale == "fr":
        return listing.quantity_class
    return quantity_label_en(listing.quantity_class) or listing.quantity_class


def alert_body(search_name: str, listing: ListingPublic, locale: str = "fr") -> str:
    """The text of one alert. It takes a ListingPublic, the catalogue's allow-list, so the owner,
    the site, the exact quantity and the prices cannot find their way into it."""
    locale = mail_locale(locale)
    _ = translator(locale)
    base = get_settings().base_url.rstrip("/")
    link = f"{base}/catalogue/{listing.id}"
    direction = _(DIRECTIONS[listing.direction]) if listing.direction in DIRECTIONS else ""
    regularity = REGULARITIES.get(listing.regularity)
    lines = [
        _("Hello,"),
        "",
        _("A listing matches your search “%(name)s”:", name=search_name),
        "",
        f"  {listing.title}",
        f"  {direction} · {_material(listing, locale)}",
    ]
    pooled = listing.aggregated
    level = explanations.shown_material_level(
        listing.low_code, listing.low_subchapter, listing.low_chapter
    )
    # Each generalised value with its plain words (the same as the pages'), indented below it.
    why = {
        "material": explanations.material_note(level, locale, pooled).text,
        "quantity": explanations.quantity_label_note(listing.quantity_class, locale, pooled).text,
        "place": explanations.location_note(
            LocationLevel(listing.location_level), locale, pooled
        ).text,
    }
    lines.append("    " + why["material"])
    if listing.hazardous:
        lines.append("  " + _("Hazardous waste"))
    lines += [
        "  " + _("Quantity: %(quantity)s", quantity=_quantity(listing, locale, _)),
        "    " + why["quantity"],
        "  "
        + _(
            "Regularity: %(regularity)s",
            regularity=_(regularity) if regularity else listing.regularity,
        ),
        "  " + _("Location: %(place)s", place=_place(listing)),
        "    " + why["place"],
        "",
        _("See the listing: %(link)s", link=link),
        _("How we protect anonymity: %(link)s", link=base + explanations.HELP_PATH),
        "",
        _("The company's identity is revealed only after an introduction accepted by both sides."),
        "",
        _(
            "You receive this message because you saved this search on Symbiose; you may delete "
            "it at any time."
        ),
    ]
    return "\n".join(lines) + "\n"


def alert_message(
    to: str, search_name: str, listing: ListingPublic, locale: str = "fr"
) -> EmailMessage:
    return compose(to, alert_subject(search_name, locale), alert_body(search_name, listing, locale))
