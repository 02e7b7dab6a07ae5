"""The pages' words for each case of domain error, by class: a service speaks English to every
client (its `detail`); a page says the same in its own language, formatted with the parameters
the error carries. tests/test_error_messages.py fails when a case has no entry here, or its
entry no translation in a catalogue."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from core import errors as core
from core.errors import DomainError
from marketplace.accounts import errors as accounts
from marketplace.alerts import errors as alerts
from marketplace.catalogue import errors as catalogue
from marketplace.catalogue.public_text import WHAT, WHERE, TextNotPublic
from marketplace.companies import errors as companies
from marketplace.flows import errors as flows
from marketplace.imports import errors as imports
from marketplace.matching import errors as matching
from web.i18n import N_, Translate

CASES: Mapping[type[DomainError], str] = {
    # Shared input checks and limits (core).
    core.RefusedCharacter: N_(
        "This text contains a character that is not allowed "
        "(a control or text-direction character)."
    ),
    core.TooManySearches: N_(
        "Too many searches in a short time. Please wait a minute, then search again."
    ),
    # Accounts.
    accounts.WrongCredentials: N_("Wrong e-mail or password."),
    accounts.TooManyFailedLogins: N_("Too many failed logins. Try again in %(seconds)s seconds."),
    # Companies and sites.
    companies.InvalidSiret: N_("Not a valid SIRET: 14 digits with a valid checksum."),
    companies.InvalidNace: N_(
        "Not a sector code: a NACE class or NAF subclass such as 23.51 or 23.51Z."
    ),
    companies.UnknownNace: N_("%(code)s is not a code of the NAF / NACE nomenclature."),
    companies.UnknownSizeClass: N_("Choose a size from the list."),
    companies.SiretTaken: N_("A company with this SIRET is already registered."),
    companies.SiteNameTaken: N_("Your company already has a site with this name."),
    companies.MovedTooOften: N_(
        "This site, or your company's sites, moved too often in the last 24 hours: "
        "the position can change again later."
    ),
    companies.OutsideFrance: N_(
        "This position is outside France (metropolitan and overseas départements)."
    ),
    companies.NotInDepartement: N_("This position is not within a French département."),
    companies.NoSuchSite: N_("Choose one of your sites."),
    # Flows.
    flows.UnknownLowCode: N_(
        "Unknown List of Waste code: a six-digit entry is expected, e.g. 10 01 02."
    ),
    flows.HeatHasNoLowCode: N_("Heat carries no List of Waste code."),
    flows.HazardousCodeDeclaredSafe: N_(
        "This code is hazardous: the flow cannot be declared non-hazardous."
    ),
    flows.SafeCodeDeclaredHazardous: N_(
        "This code is non-hazardous: a hazardous waste takes its mirror entry."
    ),
    flows.MaterialNeedsLowCode: N_("A material offer needs its List of Waste code."),
    flows.HazardousNeedsLowCode: N_("A hazardous flow needs its List of Waste code."),
    flows.BadMonths: N_("Months go from 1 to 12."),
    flows.SeasonalNeedsMonths: N_("A seasonal flow needs the months it runs."),
    flows.HeatNeedsTemperature: N_("Heat needs its temperature."),
    flows.OfferOnly: N_("The current route and its cost belong to an offer."),
    flows.RequestOnly: N_("The virgin material replaced belongs to a request."),
    flows.UnknownOperation: N_(
        "Unknown recovery or disposal operation (R 1 to R 13, D 1 to D 15)."
    ),
    flows.QuantityNotPositive: N_("The quantity must be greater than zero."),
    flows.QuantityTooLarge: N_("The quantity is too large once converted to a quantity per year."),
    flows.UnknownUnit: N_("Unknown unit for this kind of flow (use one of: %(units)s)."),
    flows.FlowWithdrawn: N_("A withdrawn flow cannot be edited."),
    flows.NoSuchFlow: N_("Choose flows from the list."),
    # Matching.
    matching.NoSuchMatch: N_("This match no longer exists."),
    # Catalogue, listings and pooled offers.
    catalogue.CursorNotValid: N_(
        "This page of results is no longer valid: start the search again."
    ),
    catalogue.NotYourSite: N_("Choose one of your sites."),
    catalogue.ListingExists: N_("This flow already has a listing."),
    catalogue.WithdrawnFlowNotListed: N_("A withdrawn flow cannot be published."),
    catalogue.ListingStatusRefuses: N_(
        "This action is not possible in the listing's current status."
    ),
    catalogue.WithdrawnFlowNotPooled: N_("A withdrawn flow cannot be pooled."),
    catalogue.PoolMixesKinds: N_("Pooled flows must all be offers of the same kind."),
    catalogue.PoolMixesMaterials: N_(
        "Pooled flows must share one material (the same List of Waste code)."
    ),
    catalogue.PoolArea: N_("A pooled offer covers a département or a région."),
    catalogue.PoolSpansDepartements: N_("Pooled flows must lie in the same département."),
    catalogue.PoolSpansRegions: N_("Pooled flows must lie in the same région."),
    catalogue.PoolOfOneCompany: N_("A pooled offer gathers flows of at least two companies."),
    # An import's file checks.
    imports.UploadTooLarge: N_("The file is larger than the upload limit."),
    imports.FileEmpty: N_("The file is empty."),
    imports.OldExcel: N_("Old Excel .xls files are not read: save it as .xlsx or CSV."),
    imports.BinaryContent: N_("This is not a CSV or XLSX file."),
    imports.EncodingUnsure: N_(
        "The file's text encoding could not be determined: save it as CSV UTF-8."
    ),
    imports.NoDataRows: N_("The file has a header but no data rows."),
    imports.TooManyRows: N_("The file has more than %(count)s rows."),
    imports.MissingColumns: N_("Required columns are missing: %(columns)s."),
    imports.CellTooLong: N_(
        "Line %(line)s, column %(column)s: the cell is longer than %(count)s characters."
    ),
    imports.SharedTextTooLong: N_("A text of the workbook is longer than %(count)s characters."),
    imports.ValueBeyondColumn: N_(
        "Line %(line)s has a value beyond column %(count)s, the most a file may have."
    ),
    imports.CellBeyondColumn: N_(
        "Line %(line)s has a value beyond column %(count)s, the most a file may have."
    ),
    imports.UnreadableWorkbook: N_("This XLSX workbook cannot be read."),
    imports.WorkbookTooLarge: N_(
        "The workbook unpacks to more than %(count)s MB, the most an import reads."
    ),
    imports.SharedTextsTooLarge: N_(
        "The workbook unpacks to more than %(count)s MB, the most an import reads."
    ),
    # Saved searches.
    alerts.SearchNameLength: N_("Give a name of at most %(count)s characters."),
    alerts.TooManySavedSearches: N_("You already have %(count)s saved searches: delete one first."),
}
# By name, for the refusals stored with their case's name (an import's report).
BY_NAME = {case.__name__: case for case in CASES}


# What a listing's text must lose (TextNotPublic): one sentence per part to remove, the parts
# named in English by marketplace.catalogue.public_text (WHAT, WHERE).
REWRITE_WORDS: dict[str, str] = {
    "the company number (SIREN, SIRET or VAT)": N_("the company number (SIREN, SIRET or VAT)"),
    "the bank account number (IBAN)": N_("the bank account number (IBAN)"),
    "the phone number": N_("the phone number"),
    "the e-mail address": N_("the e-mail address"),
    "the web address": N_("the web address"),
    "the GPS coordinates": N_("the GPS coordinates"),
    "the postcode": N_("the postcode"),
    "the name of your company, a brand, a site, its town or a contact (in any spelling)": N_(
        "the name of your company, a brand, a site, its town or a contact (in any spelling)"
    ),
    "the person's name": N_("the person's name"),
    "title": N_("from the title"),
    "description": N_("from the description"),
}


def remove_sentence(what: str, where: str, translate: Translate) -> str:
    """ "Remove WHAT from the WHERE." in the page's language, from their English words."""
    return translate(
        N_("Remove %(what)s %(where)s."),
        what=translate(REWRITE_WORDS[what]),
        where=translate(REWRITE_WORDS[where]),
    )


def _rewrites(error: DomainError, translate: Translate) -> str:
    assert isinstance(error, TextNotPublic)
    return " ".join(
        remove_sentence(WHAT[kind], WHERE[rewrite.field], translate)
        for rewrite in error.rewrites
        for kind in rewrite.kinds
    )


# The cases whose words are composed from their parameters rather than one message.
COMPOSED: Mapping[type[DomainError], Callable[[DomainError, Translate], str]] = {
    TextNotPublic: _rewrites,
}


def case_message(
    case: type[DomainError], params: Mapping[str, object], translate: Translate
) -> str | None:
    """The case's words in the page's language, or None for a kind or an unlisted case."""
    message = CASES.get(case)
    return None if message is None else translate(message, **params)


def error_message(error: DomainError, translate: Translate) -> str | None:
    """A domain error's words in the page's language, by its class; None for a bare kind."""
    compose = COMPOSED.get(type(error))
    if compose is not None:
        return compose(error, translate)
    return case_message(type(error), error.params, translate)
