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
