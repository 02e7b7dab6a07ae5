"""Read an uploaded territory file (CSV or XLSX) into numbered rows of named cells.

The parser only knows the file's shape: encodings, delimiters, the header and its columns, and
the limits. What a cell means (numbers, codes, positions) is the service's business.

Line numbers are those a spreadsheet shows: the header is line 1, the first data row line 2.
Column names are matched case-, accent- and space-insensitively ("Low code" is `low_code`).

Every limit is checked while reading, and a refusal names the line and the column: a cell longer
than `import_max_cell_chars`, a row wider than `import_max_columns`. A text file's encoding is
never guessed: UTF-8 (with or without BOM) and UTF-16 with a BOM are read as such, Windows-1252
only when the detection is confident it is a Western text, and anything else is refused asking
for UTF-8 (or an explicit encoding).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from core.settings import get_settings
from core.text import fold
from marketplace.imports.errors import (
    BinaryContent,
    ByteNotInEncoding,
    CellTooLong,
    ColumnTwice,
    EncodingUnsure,
    FileEmpty,
    MissingColumns,
    NoDataRows,
    NotInEncoding,
    NotUtf16,
    OldExcel,
    TooManyRows,
    UnknownEncoding,
    UnreadableCsv,
    UploadTooLarge,
    ValueBeyondColumn,
)
from marketplace.imports.workbook import column_letter, xlsx_text

REQUIRED_COLUMNS = (
    "company",
    "siret",
    "site",
    "latitude",
    "longitude",
    "direction",
    "kind",
    "label",
    "quantity",
    "unit",
)
# The documented optional columns, then every other field of a flow declaration (FlowFields),
# so an import can say as much as the form.
OPTIONAL_COLUMNS = (
    "nace",
    "size",
    "address",
    "low_code",
    "hazardous",
    "period",
    "regularity",
    "months",
    "temperature_c",
    "description",
    "commune",
    "physical_state",
    "medium",
    "power_kw",
    "water_quality",
    "quality_spec",
    "precision",
    "current_operation",
    "current_cost_eur_per_unit",
    "replaces_material",
    "virgin_price_eur_per_unit",
)
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
# Key under which a row's values beyond the header are kept: in a ';' file, an unquoted
# "10;11;12" spills into the next cells, and silently dropping them would lose data.
OVERFLOW = "_overflow"

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_DELIMITERS = (",", ";", "\t")
# Text files have almost no control characters; binary data decoded as cp1252 has plenty.
_MAX_CONTROL_RATIO = 0.01
# The single-byte encoding Excel writes on French Windows when not asked for UTF-8.
_WESTERN = "cp1252"
# The csv module's own limit (131,072 characters a field) raises a bare csv.Error without the
# column; the parser's limit, `import_max_cell_chars`, is checked on every cell instead and names
# it. The upload limit bounds what a field can hold anyway.
csv.field_size_limit(2**31 - 1)


class SheetRow(NamedTuple):
    line: int
    values: dict[str, str]


@dataclass(frozen=True)
class Table:
    """An uploaded file whose header has been checked, as delimited text (a workbook is turned
    into CSV once, as openpyxl is slow). Rows are read on demand, each time from the start, so a
    100,000-row file is never held as 100,000 dicts."""

    format: str  # "csv" | "xlsx": what was uploaded
    columns: tuple[str, ...]  # the known columns present, normalised
    text: str  # the file as delimited text, line for line
    delimiter: str

    def rows(self) -> Iterator[SheetRow]:
        """The non-blank data rows, with the known columns present (values stripped)."""
        yield from _csv_rows(self.text, self.delimiter)[1]


def column_name(raw: str) -> str:
    """ "Low code", "LOW-CODE", " low_code " → "low_code"."""
    return "_".join(fold(raw).split())


def open_table(content: bytes, encoding: str | None = None) -> Table:
    """Check an upload's size, format and header; raises Invalid or TooLarge on "file".

    `encoding` names a text file's encoding when the uploader knows it (ignored for XLSX)."""
    limit = get_settings().max_upload_bytes
    if len(content) > limit:
        raise UploadTooLarge(field="file", megabytes=limit // (1024 * 1024), limit=limit)
    if not content.strip():
        raise FileEmpty(field="file")
    if content.startswith(_XLS_MAGIC):
        raise OldExcel(field="file")
    if content.startswith(_XLSX_MAGIC):
        return text_table(xlsx_text(content), "xlsx")
    return text_table(_decode(content, encoding or None), "csv")


def text_table(text: str, fmt: str = "csv") -> Table:
    """A table of delimited text (such as `Table.text`, stored by a job); checks the header."""
    delimiter = _delimiter(text)
    columns, _ = _csv_rows(text, delimiter)
    return Table(fmt, columns, text, delimiter)


def count_rows(table: Table) -> int:
    """The number of non-blank data rows; refuses none, or more than the configured maximum."""
    limit = get_settings().import_max_rows
    total = 0
    for _ in table.rows():
        total += 1
        if total > limit:
            raise TooManyRows(field="file", count=limit)
    if total == 0:
        raise NoDataRows(field="file")
    return total


# --- CSV ---------------------------------------------------------------------------------------


def _decode(content: bytes, encoding: str | None) -> str:
    text: str | None
    if encoding:
        text = _explicit(content, encoding)
    elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export.
        text = _try_decode(content, "utf-16")
    elif content.count(0, 0, 4096) > _MAX_CONTROL_RATIO * min(len(content), 4096):
        # (A stray NUL in a text file is the row's problem, reported with its line.)
        raise BinaryContent(field="file")
    else:
        text = _try_decode(content, "utf-8-sig")
        if text is None:
            _refuse_binary(content.decode("latin-1"))
            text = _western(content)
    if text is None:
        raise NotUtf16(field="file")
    _refuse_binary(text)
    return text


def _explicit(content: bytes, encoding: str) -> str:
    try:
        codec = codecs.lookup(encoding)
        return content.decode(codec.name)
    except LookupError:
        raise UnknownEncoding(field="encoding") from None
    except UnicodeDecodeError as exc:
        raise ByteNotInEncoding(field="encoding", encoding=codec.name, byte=exc.start + 1) from None
    except ValueError:
        # Codecs such as idna or punycode fail in their own ways (UnicodeError): not readable.
        raise NotInEncoding(field="encoding", encoding=codec.name) from None


def _western(content: bytes) -> str:
    """Windows-1252, if the detector is confident a Western text was encoded so; else refused."""
    # Imported here: only files that are not UTF-8 need it.
    from charset_normalizer import from_bytes

    best = from_bytes(content).best()
    if best is None or _WESTERN not in best.could_be_from_charset:
        raise EncodingUnsure(field="file")
    text = _try_decode(content, _WESTERN)
    if text is None:
        raise EncodingUnsure(field="file")
    return text


def _refuse_binary(text: str) -> None:
    sample = text[:65536]
    controls = sum(1 for c in sample if c < " " and c not in "\t\r\n")
    if controls > _MAX_CONTROL_RATIO * len(sample):
        raise BinaryContent(field="file")


def _try_decode(content: bytes, encoding: str) -> str | None:
    try:
        return content.decode(encoding)
    except UnicodeDecodeError:
        return None


def _delimiter(text: str) -> str:
    """Whichever of , ; TAB splits the header line into the most cells (quotes respected)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    cells = {d: len(next(csv.reader([first], delimiter=d), [])) for d in _DELIMITERS}
    return max(_DELIMITERS, key=lambda d: cells[d])  # ties go to the first: ","


def _csv_rows(text: str, delimiter: str) -> tuple[tuple[str, ...], Iterator[SheetRow]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _rows_of(_guard_csv(reader))


def _guard_csv(reader: Any) -> Iterator[list[str]]:
    """csv's own errors become Invalid on "file" with the line; the cell limits are checked."""
    settings = get_settings()
    line = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnreadableCsv(field="file", line=line + 1, why=str(exc)) from None
        line += 1
        _check_record(record, line, settings.import_max_cell_chars, settings.import_max_columns)
        yield record


def _check_record(record: Sequence[str], line: int, max_chars: int, max_columns: int) -> None:
    if len(record) > max_columns and any(cell.strip() for cell in record[max_columns:]):
        raise ValueBeyondColumn(
            field="file", line=line, count=max_columns, column=column_letter(max_columns)
        )
    for index, cell in enumerate(record):
        if len(cell) > max_chars:
            raise CellTooLong(
                field="file",
                line=line,
                number=index + 1,
                column=column_letter(index + 1),
                count=max_chars,
            )


# --- shared ------------------------------------------------------------------------------------


def _rows_of(records: Iterator[list[str]]) -> tuple[tuple[str, ...], Iterator[SheetRow]]:
    """Read the header (first non-blank record) now, and return the data rows lazily."""
    line = 0
    header: list[str] | None = None
    for record in records:
        line += 1
        if any(cell.strip() for cell in record):
            header = record
            break
    if header is None:
        raise FileEmpty(field="file")
    names = [column_name(cell) for cell in header]
    seen: set[str] = set()
    for name in names:
        if name in KNOWN_COLUMNS and name in seen:
            raise ColumnTwice(field="file", column=name)
        seen.add(name)
    missing = [c for c in REQUIRED_COLUMNS if c not in seen]
    if missing:
        raise MissingColumns(field="file", columns=", ".join(missing), line=line)
    positions = [(i, n) for i, n in enumerate(names) if n in KNOWN_COLUMNS]
    width = len(names)
    columns = tuple(n for _, n in positions)
    return columns, _data_rows(records, line, positions, width)


def _data_rows(
    records: Iterator[list[str]], header_line: int, positions: list[tuple[int, str]], width: int
) -> Iterator[SheetRow]:
    line = header_line
    for record in records:
        line += 1
        if not any(cell.strip() for cell in record):
            continue
        size = len(record)
        values = {name: record[i].strip() if i < size else "" for i, name in positions}
        if size > width and any(cell.strip() for cell in record[width:]):
            values[OVERFLOW] = "1"
        yield SheetRow(line, values)
