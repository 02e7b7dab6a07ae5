"""The pages' words for each case of domain error, by class: a service speaks English to every
client (its `detail`); a page says the same in its own language, formatted with the parameters
the error carries. tests/test_error_messages.py fails when a case has no entry here, or its
entry no translation in a catalogue."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from core import errors as core
from core.errors import DomainError
from core.text import collation_key
from marketplace.accounts import errors as accounts
from marketplace.alerts import errors as alerts
from marketplace.catalogue import errors as catalogue
from marketplace.catalogue.public_text import WHAT, WHERE, TextNotPublic
from marketplace.companies import errors as companies
from marketplace.exchanges import errors as exchanges
from marketplace.flows import errors as flows
from marketplace.imports import errors as imports
from marketplace.introductions import errors as introductions
from marketplace.matching import errors as matching
from marketplace.territory import errors as territory
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
    # Accounts, roles and API tokens.
    accounts.WrongCredentials: N_("Wrong e-mail or password."),
    accounts.TooManyFailedLogins: N_("Too many failed logins. Try again in %(seconds)s seconds."),
    accounts.TokenRequired: N_("An API token is required."),
    accounts.TokenNotValid: N_("This API token is not valid or was revoked."),
    accounts.StaffOnly: N_("This is reserved to the facilitating association."),
    accounts.CompanyAccountOnly: N_("This action belongs to a company account."),
    accounts.CompanyAdminOnly: N_("Only your company's administrator may do this."),
    accounts.PasswordTooShort: N_("The password needs at least %(count)s characters."),
    accounts.NotAnEmail: N_("Not a valid e-mail address."),
    accounts.CompanyRoleNeedsCompany: N_("A company role needs a company."),
    accounts.StaffHaveNoCompany: N_("The association's staff belong to no company."),
    accounts.EmailTaken: N_("An account with this e-mail already exists."),
    accounts.TooManyPasswordResets: N_(
        "Too many password reset requests. Try again in %(seconds)s seconds."
    ),
    accounts.ResetLinkNotValid: N_(
        "This password reset link no longer works: it was used, it expired, or it is incomplete."
    ),
    accounts.PasswordsDiffer: N_("The two passwords differ."),
    accounts.AddingUsersAdminOnly: N_("Only a company administrator may add users."),
    accounts.CompanyRolesOnly: N_("A company administrator adds company roles only."),
    accounts.PlatformAdminsOnly: N_("Only a platform administrator adds platform administrators."),
    accounts.TokenLifetimeNotPositive: N_("A token's lifetime must be positive."),
    accounts.NoSuchToken: N_("No such token."),
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
    companies.NoSuchCompany: N_("No such company."),
    companies.IdentityAdminOnly: N_("Only your company's administrator may change its identity."),
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
    flows.UnknownMonth: N_(
        "« %(part)s » is not a month: write 1 to 12 or a month's name, such as 10-3 or oct-mars."
    ),
    flows.MonthRangeIncomplete: N_(
        "« %(part)s » is not a range of months: write it as 10-3 or oct-mars."
    ),
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
    flows.FlowAlreadyWithdrawn: N_("This flow is already withdrawn."),
    flows.WithdrawnFlowNotEdited: N_("A withdrawn flow cannot be edited."),
    flows.NoSuchLowCode: N_("No such List of Waste code."),
    # Matching.
    matching.NoSuchMatch: N_("This match no longer exists."),
    matching.NotAnOffer: N_("Prospects are found for an offer, not for a request."),
    # Introductions.
    introductions.NoSuchIntroduction: N_("No such introduction."),
    introductions.NoSuchNotice: N_("No such notice."),
    introductions.NotAvailable: N_("This listing is not available."),
    introductions.StateRefuses: N_("Not possible now: the introduction is %(state)s."),
    introductions.NotYourDecision: N_(
        "This decision belongs to the other side or the facilitator."
    ),
    introductions.OneSourceNeeded: N_("Choose either a listing or a match."),
    introductions.OwnListing: N_("This is your own company's listing."),
    introductions.RequesterNeeded: N_("Choose the company on whose behalf you ask."),
    introductions.NotYourFlow: N_("Choose one of your own flows."),
    introductions.AlreadyExpressed: N_("Your company already expressed interest in this listing."),
    introductions.TooManyInterests: N_(
        "At most %(limit)s interests per company in 24 hours. Try again later."
    ),
    introductions.MessageNotPublic: N_(
        "This message would name or locate a company (%(kinds)s): rewrite it without that."
    ),
    introductions.MessagesClosed: N_("No more messages: the introduction is %(state)s."),
    introductions.RevealUnavailable: N_(
        "Identities cannot be revealed right now (the encryption key is unavailable on the "
        "server). Nothing was changed: try again later."
    ),
    # Contracts.
    exchanges.NoSuchContract: N_("No such contract."),
    exchanges.NoSuchVersion: N_("This contract has no version %(number)s."),
    exchanges.NoSuchContractNotice: N_("No such notice."),
    exchanges.NoSuchDocument: N_("No such document attached to this contract."),
    exchanges.IntroductionNotRevealed: N_(
        "A contract is drafted from an introduction whose identities were revealed only."
    ),
    exchanges.PooledIntroduction: N_(
        "An introduction to a pooled offer gives one contract per contributor: choose the "
        "contributor who accepted."
    ),
    exchanges.NotAnAcceptingContributor: N_(
        "This company is not a contributor who accepted this pooled introduction."
    ),
    exchanges.AlreadyDrafted: N_("This introduction already has its contract."),
    exchanges.ContractStateRefuses: N_("Not possible now: the contract is %(state)s."),
    exchanges.NotYourStep: N_("This step belongs to another party of the contract."),
    exchanges.WrongPassword: N_("The password is not right: signing asks for your password again."),
    exchanges.PartiesByFacilitator: N_(
        "The parties come from the identity reveal: only the facilitator changes them."
    ),
    exchanges.AlreadySigned: N_("This party already signed this version."),
    exchanges.StaleVersion: N_(
        "The contract changed meanwhile (version %(current)s): read it again."
    ),
    exchanges.StatusNotQualified: N_(
        "Answer the status questions before the contract is ready for signature."
    ),
    exchanges.EvidenceMissing: N_("Evidence missing for a condition: %(label)s"),
    exchanges.UnknownEvidenceDocument: N_(
        "No document with this fingerprint is attached to the contract."
    ),
    exchanges.UnknownCondition: N_("This is not a condition of the regulatory status."),
    exchanges.UnitNotContracted: N_("Deliveries of this contract are counted in %(unit)s."),
    exchanges.DeliveryInFuture: N_(
        "A delivery is recorded once made: its date cannot be in the future."
    ),
    exchanges.ConformityStatementNeeded: N_(
        "An end-of-waste delivery needs the statement of conformity of its lot."
    ),
    exchanges.RegisterNotKept: N_(
        "This register is not kept for this contract's regulatory status."
    ),
    exchanges.DocumentTooLarge: N_("A document is at most %(limit)s MB."),
    exchanges.DocumentEmpty: N_("The document is empty."),
    exchanges.SigningUnavailable: N_(
        "The contract cannot be signed right now (the certificate authority is unavailable). "
        "Nothing was changed: try again later."
    ),
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
    catalogue.PoolMixesSubchapters: N_(
        "Pooled flows must share one List of Waste subchapter (the code's first four digits)."
    ),
    catalogue.PoolMixesHazard: N_(
        "Pooled flows must be all hazardous or all non-hazardous: one listing has one flag."
    ),
    catalogue.PoolMixesUnits: N_(
        "Pooled flows must share one unit: a gas metered in energy (MWh) is not pooled with a "
        "gas metered in volume (m³)."
    ),
    catalogue.PoolArea: N_("A pooled offer covers a département or a région."),
    catalogue.PoolSpansDepartements: N_("Pooled flows must lie in the same département."),
    catalogue.PoolSpansRegions: N_("Pooled flows must lie in the same région."),
    catalogue.PoolOfOneCompany: N_("A pooled offer gathers flows of at least two companies."),
    catalogue.NoSuchListing: N_("No such listing."),
    catalogue.SignInForDistances: N_("Sign in to measure distances from one of your sites."),
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
    imports.NoSuchImport: N_("No such import."),
    imports.NotUtf16: N_("The file starts as UTF-16 but is not valid UTF-16."),
    imports.UnknownEncoding: N_("Unknown text encoding."),
    imports.ByteNotInEncoding: N_(
        "The file is not valid %(encoding)s (byte %(byte)s cannot be read)."
    ),
    imports.NotInEncoding: N_("The file is not valid %(encoding)s."),
    imports.UnreadableCsv: N_("Unreadable CSV at line %(line)s."),
    imports.ColumnTwice: N_("The column “%(column)s” appears twice in the header."),
    # An import's rows, each refused with the first reason found (the report keeps its name).
    imports.RowTooWide: N_(
        "This row has more cells than the header has columns: "
        "a value containing the delimiter must be quoted."
    ),
    imports.ValueRequired: N_("This field is required."),
    imports.OtherCompanyName: N_("This SIRET has another company name on line %(line)s."),
    imports.OtherNace: N_("This SIRET has another NACE code on line %(line)s."),
    imports.OtherAddress: N_("This SIRET has another address on line %(line)s."),
    imports.OtherSizeClass: N_("This SIRET has another size class on line %(line)s."),
    imports.OtherSitePosition: N_(
        "This company's site of the same name is at another position on line %(line)s."
    ),
    imports.NaceRequired: N_("The NACE code is required for a company not registered yet."),
    imports.NotANumber: N_("Not a number."),
    imports.NotAFiniteNumber: N_("Not a finite number."),
    imports.AmountTooLarge: N_("Too large an amount."),
    imports.ValueNotValid: N_("Invalid value."),
    imports.MonthsPartNotRead: N_(
        "Part %(position)s of the months is not a month: write numbers from 1 to 12 or month "
        "names, as a list or ranges such as 10;11;12, 10-3 or janv.-mars."
    ),
    imports.NotABoolean: N_("Expected true/false (or oui/non)."),
    imports.NumberNotFinite: N_("The number is too large once converted."),
    imports.NumberNotStorable: N_("The number is too large to be stored."),
    imports.ContainsNul: N_("This value contains a NUL character."),
    imports.RowNotChecked: N_("This row could not be checked."),
    # Territory statistics.
    territory.NoFiguresReleased: N_("No exchange figures have been released yet."),
    # Saved searches and their alerts.
    alerts.SearchNameLength: N_("Give a name of at most %(count)s characters."),
    alerts.TooManySavedSearches: N_("You already have %(count)s saved searches: delete one first."),
    alerts.SearchesForMembers: N_("Saved searches belong to company members and the facilitator."),
    alerts.PagingNotSaved: N_("A saved search keeps filters only, not %(keys)s."),
    alerts.NoSuchSavedSearch: N_("No such saved search."),
    alerts.NoSuchNotification: N_("No such notification."),
}


# The words of a schema's refusal (pydantic), by its type and limits (core.inputs.schema_refusal):
# a form's, and one a service met (ValueRefused) or an import's row (RowValueRefused).
_SCHEMA_TYPES = {
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "int_parsing": N_("Enter a number."),
    "int_type": N_("Enter a number."),
    "finite_number": N_("Enter a number."),
    "enum": N_("Choose a value from the list."),
    "literal_error": N_("Choose a value from the list."),
    "uuid_parsing": N_("Choose a value from the list."),
    "uuid_type": N_("Choose a value from the list."),
    # The shared input checks' own types (core.inputs).
    "text_character": CASES[core.RefusedCharacter],
    "months": N_("Months go from 1 to 12."),
}


def schema_message(params: Mapping[str, object], translate: Translate) -> str:
    kind = params.get("type", "")
    if kind == "missing" or (kind == "string_too_short" and params.get("min_length") == 1):
        return translate(N_("This field is required."))
    if kind == "string_too_short":
        return translate(N_("At least %(count)s characters."), count=params.get("min_length"))
    if kind == "string_too_long" or (kind == "too_long" and params.get("text")):
        return translate(N_("At most %(count)s characters."), count=params.get("max_length"))
    if kind == "too_long":
        return translate(N_("Too many entries."))
    if kind in ("greater_than", "greater_than_equal"):
        limit = params.get("gt", params.get("ge"))
        return translate(N_("Must be at least %(limit)s."), limit=limit)
    if kind in ("less_than", "less_than_equal"):
        limit = params.get("lt", params.get("le"))
        return translate(N_("Must be at most %(limit)s."), limit=limit)
    if kind == "value_error" and "email" in str(params.get("reason", "")):
        return translate(N_("Not a valid e-mail address."))
    if kind == "value_error":
        known = _VALUE_ERRORS.get(str(params.get("reason", "")).removeprefix("Value error, "))
        if known is not None:
            return translate(known)
    return translate(_SCHEMA_TYPES.get(str(kind), N_("Invalid value.")))


# A validator's own refusals (pydantic value_error), by their English reason.
_VALUE_ERRORS: Mapping[str, str] = {
    "this List of Waste code is always hazardous": N_(
        "This List of Waste code is always hazardous: tick « hazardous »."
    ),
    "this List of Waste code is never hazardous": N_(
        "This List of Waste code is never hazardous: untick « hazardous »."
    ),
}


# The values an import's enumerated columns take (marketplace/imports/rows.py), which the import
# also reads in French: a French report lists the French ones, not the English codes.
CHOICE_WORDS: Mapping[str, str] = {
    "offer": N_("offer"),
    "request": N_("request"),
    "material": N_("material"),
    "heat": N_("heat"),
    "water": N_("water"),
    "gas": N_("gas"),
    "year": N_("year"),
    "month": N_("month"),
    "week": N_("week"),
    "day": N_("day"),
    "continuous": N_("continuous"),
    "batch": N_("batch"),
    "seasonal": N_("seasonal"),
    "one-off": N_("one-off"),
}


def _not_one_of(params: Mapping[str, object], translate: Translate) -> str:
    choices = [part for part in str(params.get("choices", "")).split(", ") if part]
    words = sorted(
        (translate(CHOICE_WORDS[c]) if c in CHOICE_WORDS else c for c in choices),
        key=collation_key,
    )
    return translate(N_("Not one of: %(choices)s."), choices=", ".join(words))


# The cases whose words follow their parameters rather than one message.
FROM_PARAMS: Mapping[type[DomainError], Callable[[Mapping[str, object], Translate], str]] = {
    core.ValueRefused: schema_message,
    imports.RowValueRefused: schema_message,
    imports.NotOneOf: _not_one_of,
}
# By name, for the refusals stored with their case's name and parameters (an import's report).
BY_NAME = {case.__name__: case for case in (*CASES, *FROM_PARAMS)}


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
    from_params = FROM_PARAMS.get(case)
    if from_params is not None:
        return from_params(params, translate)
    message = CASES.get(case)
    return None if message is None else translate(message, **params)


def error_message(error: DomainError, translate: Translate) -> str | None:
    """A domain error's words in the page's language, by its class; None for a bare kind."""
    compose = COMPOSED.get(type(error))
    if compose is not None:
        return compose(error, translate)
    return case_message(type(error), error.params, translate)
