"""Words shown for the domain's codes (offer, heat, per year...), in PRODUCT.md's vocabulary."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from babel.dates import get_month_names

from marketplace.accounts.models import Role
from marketplace.flows.models import (
    Direction,
    FlowStatus,
    Kind,
    Period,
    PhysicalState,
    Precision,
    Regularity,
)
from web.i18n import N_, Translate

DIRECTIONS = {Direction.OFFER: N_("Offer"), Direction.REQUEST: N_("Request")}
KINDS = {
    Kind.MATERIAL: N_("Material"),
    Kind.HEAT: N_("Heat"),
    Kind.WATER: N_("Water"),
    Kind.GAS: N_("Gas"),
}
PERIODS = {
    Period.YEAR: N_("per year"),
    Period.MONTH: N_("per month"),
    Period.WEEK: N_("per week"),
    Period.DAY: N_("per day"),
}
REGULARITIES = {
    Regularity.CONTINUOUS: N_("Continuous"),
    Regularity.BATCH: N_("In batches"),
    Regularity.SEASONAL: N_("Seasonal"),
    Regularity.ONE_OFF: N_("One-off"),
}
PHYSICAL_STATES = {
    PhysicalState.SOLID: N_("Solid"),
    PhysicalState.POWDER: N_("Powder"),
    PhysicalState.SLUDGE: N_("Sludge"),
    PhysicalState.LIQUID: N_("Liquid"),
    PhysicalState.GAS: N_("Gaseous"),
}
PRECISIONS = {Precision.MEASURED: N_("Measured"), Precision.ESTIMATED: N_("Estimated")}
STATUSES = {FlowStatus.ACTIVE: N_("Active"), FlowStatus.WITHDRAWN: N_("Withdrawn")}
# A declared quantity's rate, written as the base units are ("t/an", "Nm³/an"), so a flow's two
# quantities side by side read alike (not « Nm3 par an » beside « m³/an »).
PERIOD_RATES: dict[str, str] = {
    Period.YEAR: N_("%(unit)s/yr"),
    Period.MONTH: N_("%(unit)s/month"),
    Period.WEEK: N_("%(unit)s/week"),
    Period.DAY: N_("%(unit)s/day"),
}
BASE_UNITS = {"t/yr": N_("t/yr"), "MWh/yr": N_("MWh/yr"), "m3/yr": N_("m³/yr")}
SIZE_CLASSES = {
    "micro": N_("Micro-enterprise"),
    "small": N_("Small business"),
    "medium": N_("Medium-sized business"),
    "large": N_("Large business"),
}
ROLES = {
    Role.MEMBER: N_("Member"),
    Role.COMPANY_ADMIN: N_("Company administrator"),
    Role.FACILITATOR: N_("Facilitator"),
    Role.PLATFORM_ADMIN: N_("Platform administrator"),
}
LISTING_STATUSES = {
    "draft": N_("Draft"),
    "published": N_("Published"),
    "paused": N_("Paused"),
    # Not "Withdrawn": the French adjective agrees with "annonce", unlike a withdrawn flow.
    "withdrawn": N_("Withdrawn from the catalogue"),
    "expired": N_("Expired"),
    "fulfilled": N_("Fulfilled"),
}
ICPE_REGIME_LABELS = {
    "authorisation": N_("Authorisation"),
    "enregistrement": N_("Registration (enregistrement)"),
    "declaration": N_("Declaration"),
    "none": N_("Not classified"),
}
SORT_ORDERS = {
    "relevance": N_("Relevance"),
    "distance": N_("Distance from my site"),
    "date": N_("Most recent"),
}
IMPORT_STATUSES = {
    "pending": N_("Waiting to start"),
    "validating": N_("Checking the rows"),
    "writing": N_("Writing the flows"),
    "done": N_("Done"),
    "failed": N_("Failed: nothing was imported"),
}


def label(table: Mapping[Any, str], value: str | None, translate: Translate) -> str:
    """The translated word for a code; an unknown code is shown as it is rather than hidden."""
    if value is None:
        return ""
    message = table.get(value)
    return translate(message) if message else value


_CUBIC = re.compile(r"(m)3\b", re.IGNORECASE)


def unit_symbol(unit: str) -> str:
    """A unit as printed: "m3", "Nm3" and "kNm3", typed so on a keyboard, read m³, Nm³, kNm³."""
    return _CUBIC.sub(r"\1³", unit.strip())


def rate(unit: str, period: str | None, translate: Translate) -> str:
    """ "Nm3" per year → "Nm³/an" in French; a unit without a known period is shown alone."""
    message = PERIOD_RATES.get(period) if period else None
    symbol = unit_symbol(unit)
    return translate(message, unit=symbol) if message else symbol


def month_names(locale: str) -> dict[int, str]:
    """January..December in the page's language (from CLDR via Babel, no catalogue entry)."""
    return dict(get_month_names("wide", locale=locale))


# Shown once after a form succeeded: the redirect carries the key (?notice=flow-saved).
NOTICES = {
    "password-reset": N_("Your password is changed and every session is closed: log in with it."),
    "site-saved": N_("The site is saved."),
    "flow-saved": N_("The flow is saved."),
    "flow-withdrawn": N_("The flow is withdrawn."),
    "company-saved": N_("Your company's details are saved."),
    "listing-published": N_("The listing is published."),
    "listing-paused": N_("The listing is paused: it has left the catalogue until you resume it."),
    "listing-resumed": N_("The listing is back in the catalogue."),
    "listing-withdrawn": N_("The listing is withdrawn."),
    "listing-fulfilled": N_("The listing is marked as fulfilled."),
    "search-saved": N_("The search is saved: you will be alerted of new listings that fit it."),
    "search-deleted": N_("The saved search is deleted."),
    "interest-expressed": N_(
        "Your interest is sent: the facilitator brokers the introduction, without naming you."
    ),
    "introduction-accepted": N_("The introduction is accepted."),
    "introduction-declined": N_("The introduction is declined."),
    "introduction-withdrawn": N_("The introduction is withdrawn."),
    "introduction-screened": N_("The interest is being screened."),
    "introduction-proposed": N_("The introduction is proposed to the owner."),
    "message-sent": N_("The message is sent."),
    "contract-drafted": N_("The contract is drafted from the revealed introduction."),
    "contract-submitted": N_("The contract is submitted to the parties for review."),
    "contract-ready": N_("The terms are frozen: the contract is ready for signature."),
    "contract-signed": N_("Your signature is recorded on the contract's PDF."),
    "contract-completed": N_("The contract is marked as completed."),
    "contract-terminated": N_("The contract is terminated."),
    "comment-posted": N_("The comment is posted."),
    "terms-proposed": N_("Your terms are the contract's new version."),
    "status-saved": N_("The regulatory status is saved."),
    "delivery-recorded": N_("The delivery is recorded."),
    "match-suggested": N_(
        "The match is suggested: both members are told you have a possible counterpart."
    ),
    "size-saved": N_("The company's size class is saved."),
}
