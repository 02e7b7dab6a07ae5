"""Read an uploaded XLSX workbook's first sheet as CSV text, within bounds checked before openpyxl.

An XLSX file is a zip of XML parts: a 200 KB upload can unpack to gigabytes, hold one cell of
200 MB, or one row of millions of cells, and openpyxl holds the shared strings and each row in
memory. So the workbook is first inspected part by part, decompressed through a capped stream
(a part's declared size may lie) and, for the first sheet and the shared strings, scanned by a
streaming XML parser that keeps nothing but counts. The limits (`import_max_xlsx_bytes`,
`import_max_xlsx_shared_bytes`, `import_max_cell_chars`, `import_max_columns`, `import_max_rows`)
are refused there, naming the limit and, where there is one, the line and column. Only then does
openpyxl (read-only) read the sheet, told the sheet's true extent so that a lying `<dimension>`
cannot make it pad millions of empty cells.
"""

from __future__ import annotations

import csv
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from xml.parsers import expat

from core.errors import DomainError, Invalid, TooLarge
from core.settings import get_settings
from marketplace.imports.errors import (
    CellBeyondColumn,
    CellTooLong,
    SharedTextsTooLarge,
    SharedTextTooLong,
    TooManyRows,
    UnreadableWorkbook,
    WorkbookTooLarge,
)

# Blank rows tolerated in a worksheet beyond the data row limit (and the header).
SPARE_ROWS = 1_000
# Decompressed bytes handed to the XML scanner at a time.
_CHUNK = 1 << 16
_WORKBOOK = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_SHARED_STRINGS = "xl/sharedstrings.xml"  # compared lower-cased
_WORKSHEETS = "xl/worksheets/"
_REFERENCE = re.compile(r"([A-Za-z]{1,3})(\d+)")
_MIB = 1024 * 1024


class _Refused(Exception):
    """Carries a refusal out of the XML parser's callbacks (expat wraps nothing else cleanly)."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.detail)
        self.error = error


@dataclass
class Limits:
    total_bytes: int
    shared_bytes: int
    cell_chars: int
    columns: int
    rows: int  # the data row limit plus the header and the spare blank rows

    @classmethod
    def from_settings(cls) -> Limits:
        settings = get_settings()
        return cls(
            total_bytes=settings.import_max_xlsx_bytes,
            shared_bytes=settings.import_max_xlsx_shared_bytes,
            cell_chars=settings.import_max_cell_chars,
            columns=settings.import_max_columns,
            rows=settings.import_max_rows + 1 + SPARE_ROWS,
        )


def xlsx_text(content: bytes) -> str:
    """The first sheet as CSV text, row for row (blank rows kept, so line numbers stay true)."""
    limits = Limits.from_settings()
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _unreadable(exc) from None
    with archive:
        try:
            extent = inspect(archive, limits)
        except _Refused as refused:
            raise refused.error from None
        except DomainError:
            raise
        except Exception as exc:
            # A damaged part: zlib, CRC, XML syntax... all mean "unreadable".
            raise _unreadable(exc) from None
    return _sheet_text(content, extent, limits)


# --- inspection, before openpyxl ---------------------------------------------------------------


@dataclass
class SheetExtent:
    """What the scan found of the first sheet: its last row and the widest column used."""

    last_row: int = 0
    last_column: int = 0


def inspect(archive: zipfile.ZipFile, limits: Limits) -> SheetExtent:
    """Check every part's real size and scan the first sheet and the shared strings."""
    members = [m for m in archive.infolist() if not m.is_dir()]
    declared = sum(m.file_size for m in members)
    if declared > limits.total_bytes:
        raise _too_large(limits, f"its parts declare {declared // _MIB} MB")
    first = _first_sheet(archive, limits)
    budget = _Budget(limits)
    extent = SheetExtent()
    for member in members:
        name = member.filename.lower()
        if name == _SHARED_STRINGS:
            _SharedStringsScan(limits).run(_capped(archive, member, budget, shared=True))
        elif name == first or (first is None and name.startswith(_WORKSHEETS)):
            scan = _SheetScan(limits)
            scan.run(_capped(archive, member, budget))
            extent.last_row = max(extent.last_row, scan.last_row)
            extent.last_column = max(extent.last_column, scan.widest)
        else:
            for _ in _capped(archive, member, budget):
                pass
    return extent


class _Budget:
    """Real decompressed bytes, counted across the parts as they are read."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.used = 0

    def take(self, size: int, shared: int | None) -> None:
        self.used += size
        if self.used > self.limits.total_bytes:
            raise _Refused(_too_large(self.limits, "read past that"))
        if shared is not None and shared > self.limits.shared_bytes:
            raise _Refused(
                SharedTextsTooLarge(field="file", count=self.limits.shared_bytes // _MIB)
            )


def _capped(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: _Budget, *, shared: bool = False
) -> Iterator[bytes]:
    """The part's bytes in chunks, stopped as soon as the budget is spent: the header's
    `file_size` is not trusted (zipfile stops at it, and a CRC error follows, if it lies)."""
    read = 0
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            read += len(chunk)
            budget.take(len(chunk), read if shared else None)
            yield chunk


def _unreadable(exc: Exception) -> Invalid:
    return UnreadableWorkbook(field="file", why=type(exc).__name__)


def _too_large(limits: Limits, why: str) -> TooLarge:
    return WorkbookTooLarge(field="file", count=limits.total_bytes // _MIB, why=why)


def _first_sheet(archive: zipfile.ZipFile, limits: Limits) -> str | None:
    """The path of the workbook's first sheet (what openpyxl reads as `worksheets[0]`); None if
    it cannot be told, and then every sheet is held to the first sheet's limits."""
    names = {m.filename.lower(): m for m in archive.infolist()}
    if _WORKBOOK not in names or _WORKBOOK_RELS not in names:
        return None
    budget = _Budget(limits)
    sheets = _Attributes("sheet")
    sheets.run(_capped(archive, names[_WORKBOOK], budget))
    relations = _Attributes("Relationship")
    relations.run(_capped(archive, names[_WORKBOOK_RELS], budget))
    if not sheets.found:
        return None
    wanted = next((v for k, v in sheets.found[0].items() if k.endswith(":id")), None)
    target = next((r.get("Target") for r in relations.found if r.get("Id") == wanted), None)
    if not target:
        return None
    path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    return posixpath.normpath(path).lower()


class _Scan:
    """A streaming XML pass that keeps counts, never the text; DTDs (entity bombs) refused."""

    def __init__(self) -> None:
        self.parser = expat.ParserCreate()
        self.parser.StartElementHandler = self.start
        self.parser.StartDoctypeDeclHandler = self._doctype
        self.parser.EntityDeclHandler = self._doctype

    def run(self, chunks: Iterator[bytes]) -> None:
        for chunk in chunks:
            self.parser.Parse(chunk, False)
        self.parser.Parse(b"", True)

    def start(self, name: str, attributes: dict[str, str]) -> None:
        raise NotImplementedError

    def _doctype(self, *args: Any) -> None:
        raise _Refused(
            UnreadableWorkbook(field="file", why="it declares a document type or XML entities")
        )


class _Attributes(_Scan):
    """The attributes of every element of one local name (a workbook's sheets, relations)."""

    def __init__(self, local: str) -> None:
        super().__init__()
        self.local = local
        self.found: list[dict[str, str]] = []

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name.rpartition(":")[2] == self.local and len(self.found) < 10_000:
            self.found.append(dict(attributes))


class _TextScan(_Scan):
    """Counts the characters of the current text (a cell, a shared text) against the limit."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits
        self.length = 0
        self.parser.CharacterDataHandler = self.text

    def text(self, data: str) -> None:
        self.length += len(data)
        if self.length > self.limits.cell_chars:
            raise _Refused(self.too_long())

    def too_long(self) -> Invalid:
        raise NotImplementedError


class _SharedStringsScan(_TextScan):
    """Each shared text (`<si>`, all its runs) within the cell length limit."""

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if name.rpartition(":")[2] == "si":
            self.length = 0

    def too_long(self) -> Invalid:
        # A shared text is not yet a cell: which cells use it is not known here.
        return SharedTextTooLong(field="file", count=self.limits.cell_chars)


class _SheetScan(_TextScan):
    """Rows, cells per row, column references and each cell's length, as the XML streams by."""

    def __init__(self, limits: Limits) -> None:
        super().__init__(limits)
        self.row = 0
        self.column = 0
        self.cells = 0
        self.last_row = 0
        self.widest = 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "c":
            self._cell(attributes.get("r"))
        elif local == "row":
            self._row(attributes.get("r"))

    def too_long(self) -> Invalid:
        return CellTooLong(
            field="file",
            line=self.row,
            number=self.column,
            column=column_letter(self.column),
            count=self.limits.cell_chars,
        )

    def _row(self, reference: str | None) -> None:
        self.row = int(reference) if reference and reference.isdigit() else self.row + 1
        self.column = self.cells = 0
        self.last_row = max(self.last_row, self.row)
        if self.row > self.limits.rows:
            raise _Refused(TooManyRows(field="file", count=self.limits.rows - 1 - SPARE_ROWS))

    def _cell(self, reference: str | None) -> None:
        found = _REFERENCE.fullmatch(reference) if reference else None
        self.column = column_number(found.group(1)) if found else self.column + 1
        self.cells += 1
        self.length = 0
        columns = self.limits.columns
        if self.column > columns or self.cells > columns:
            raise _Refused(
                CellBeyondColumn(
                    field="file", line=self.row, count=columns, column=column_letter(columns)
                )
            )
        self.widest = max(self.widest, self.column)


def column_number(letters: str) -> int:
    """A spreadsheet's column name as a number: A → 1, AA → 27."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def column_letter(number: int) -> str:
    """A spreadsheet's name of a column: 1 → A, 27 → AA."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# --- reading, with openpyxl --------------------------------------------------------------------


def _sheet_text(content: bytes, extent: SheetExtent, limits: Limits) -> str:
    # Imported here: openpyxl takes a while to import and most uploads are CSV.
    from openpyxl import load_workbook

    buffer = io.StringIO()
    # Every cell quoted: whatever the cells hold, "," is then the delimiter the job will sniff.
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            if extent.last_row == 0:
                return ""
            # The scanned extent, not the sheet's <dimension>, which may claim 16,384 columns.
            rows = sheet.iter_rows(
                max_row=extent.last_row, max_col=max(1, extent.last_column), values_only=True
            )
            for row in rows:
                writer.writerow([_cell_text(value) for value in row])
        finally:
            workbook.close()
    except DomainError:
        raise
    except Exception as exc:
        # openpyxl fails on a damaged or foreign zip in many ways; all mean "unreadable".
        raise _unreadable(exc) from None
    return buffer.getvalue()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        # A SIRET or a month typed as a number comes back as 12345678901234.0.
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)
