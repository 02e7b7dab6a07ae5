"""Errors of this domain: the shared hierarchy, re-exported so callers import from their domain,
and one class per case a user can meet (translated by class in web/messages.py)."""

from core.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge, Unauthorized

__all__ = ["Conflict", "Forbidden", "Invalid", "NotFound", "TooLarge", "Unauthorized"]


class UploadTooLarge(TooLarge):
    message = "the file exceeds the upload limit of {megabytes} MB ({limit} bytes)"


class FileEmpty(Invalid):
    message = "the file is empty"


class OldExcel(Invalid):
    message = "old Excel .xls files are not read: save it as .xlsx or CSV"


class BinaryContent(Invalid):
    message = "not a CSV or XLSX file (binary content)"


class EncodingUnsure(Invalid):
    message = (
        "the text encoding of the file could not be determined (it is not UTF-8 and does not "
        "read as a Western European text): save it as CSV UTF-8, or give its encoding"
    )


class NoDataRows(Invalid):
    message = "the file has a header but no data rows"


class TooManyRows(TooLarge):
    message = "the file has more than {count} data rows"


class MissingColumns(Invalid):
    message = "missing required columns: {columns} (line {line} is read as the header)"


class CellTooLong(Invalid):
    message = (
        "line {line}, column {number} ({column}): the cell is longer than {count} characters, "
        "the most a cell may hold"
    )


class SharedTextTooLong(Invalid):
    message = "a text of the workbook is longer than {count} characters, the most a cell may hold"


class ValueBeyondColumn(Invalid):
    message = "line {line} has a value beyond column {count} ({column}), the most a file may have"


class CellBeyondColumn(Invalid):
    message = "line {line} has a cell beyond column {count} ({column}), the most a file may have"


class UnreadableWorkbook(Invalid):
    message = "not a readable XLSX workbook ({why})"


class WorkbookTooLarge(TooLarge):
    message = "the workbook unpacks to more than {count} MB, the most an import reads ({why})"


class SharedTextsTooLarge(TooLarge):
    message = "the workbook's shared texts unpack to more than {count} MB, the most an import reads"


class NoSuchImport(NotFound):
    # The same for an import that does not exist and someone else's.
    message = "no such import"


class NotUtf16(Invalid):
    message = "the file starts as UTF-16 but is not valid UTF-16"


class UnknownEncoding(Invalid):
    message = "unknown text encoding"


class ByteNotInEncoding(Invalid):
    message = "the file is not valid {encoding} (byte {byte} cannot be read)"


class NotInEncoding(Invalid):
    message = "the file is not valid {encoding}"


class UnreadableCsv(Invalid):
    message = "unreadable CSV at line {line}: {why}"


class ColumnTwice(Invalid):
    message = "the column {column!r} appears twice in the header"


# --- one row's refusals, stored in the report with their name and parameters --------------------


class RowTooWide(Invalid):
    message = (
        "this row has more cells than the header has columns (a value containing the "
        "delimiter must be quoted)"
    )


class ValueRequired(Invalid):
    message = "a value is required"


class OtherCompanyName(Invalid):
    message = "this SIRET has another company name on line {line}"


class OtherNace(Invalid):
    message = "this SIRET has another NACE code on line {line}"


class OtherAddress(Invalid):
    message = "this SIRET has another address on line {line}"


class OtherSizeClass(Invalid):
    message = "this SIRET has another size class on line {line}"


class OtherSitePosition(Invalid):
    message = "this company's site of the same name is at another position on line {line}"


class NaceRequired(Invalid):
    message = "the NACE code is required for a company not registered yet"


class NotANumber(Invalid):
    message = "not a number"


class NotAFiniteNumber(Invalid):
    message = "not a finite number"


class AmountTooLarge(Invalid):
    message = "too large an amount"


class NotOneOf(Invalid):
    message = "not one of: {choices}"


class ValueNotValid(Invalid):
    message = "not a valid value ({why})"


class MonthsPartNotRead(Invalid):
    message = (
        "part {position} of the months is not a month: write numbers from 1 to 12 or month "
        "names, as a list or ranges such as 10;11;12, 10-3 or janv.-mars"
    )


class NotABoolean(Invalid):
    message = "not true/false (or oui/non)"


class NumberNotFinite(Invalid):
    message = "too large a number (not finite once converted)"


class NumberNotStorable(Invalid):
    message = "too large a number to be stored"


class ContainsNul(Invalid):
    message = "contains a NUL character"


class RowValueRefused(Invalid):
    """The forms' model refusing a cell (pydantic): said by its `type` and limits, as a form's."""

    message = "{reason}"


class RowNotChecked(Invalid):
    """An unexpected failure on one row (a bug, a library's surprise): only its type is said."""

    message = "this row could not be checked ({why})"
