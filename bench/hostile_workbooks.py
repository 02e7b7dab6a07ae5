"""Hostile XLSX files, small on disk and built without holding what they unpack to: one cell of
hundreds of megabytes, one row of millions of cells, a sheet that lies about its extent, a zip
that lies about its sizes. Used by tests/test_import_xlsx_bounds.py and bench/import_hostile.py.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Territoire" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>'
)
_SHEET_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
_MB = 1024 * 1024


def _inline(value: str) -> str:
    return f'<c t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def _row(number: int, values: Sequence[str]) -> str:
    return f'<row r="{number}">' + "".join(_inline(v) for v in values) + "</row>"


def _workbook(sheet: Iterable[bytes], shared: Iterable[bytes] = ()) -> bytes:
    """A workbook whose sheet (and shared strings) parts are written chunk by chunk."""
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        for name, chunks in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", shared)):
            with archive.open(name, "w") as part:
                wrote = False
                for chunk in chunks:
                    part.write(chunk)
                    wrote = True
                if not wrote and name.endswith("sharedStrings.xml"):
                    part.write(
                        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
                        b' count="0" uniqueCount="0"/>'
                    )
    return target.getvalue()


def _repeat(unit: bytes, total: int) -> Iterable[bytes]:
    block = unit * max(1, _MB // len(unit))
    written = 0
    while written + len(block) <= total:
        yield block
        written += len(block)
    if total > written:
        yield unit * ((total - written) // len(unit))


def rows_workbook(rows: Sequence[Sequence[str]], dimension: str = "") -> bytes:
    """An ordinary workbook of inline strings; `dimension` as the sheet claims its extent."""
    head = _SHEET_OPEN + (f'<dimension ref="{dimension}"/>' if dimension else "") + "<sheetData>"
    body = "".join(_row(n, values) for n, values in enumerate(rows, start=1))
    return _workbook([(head + body + "</sheetData></worksheet>").encode()])


def huge_cell_workbook(
    header: Sequence[str], row: Sequence[str], megabytes: int, *, shared: bool
) -> bytes:
    """`row` on line 2 with its `label` cell `megabytes` long, as an inline or a shared string."""
    column = list(header).index("label")
    cells = [_inline(v) for v in row]
    opening = _SHEET_OPEN + "<sheetData>" + _row(1, header) + '<row r="2">'
    before = "".join(cells[:column])
    after = "".join(cells[column + 1 :]) + "</row></sheetData></worksheet>"
    if shared:
        reference = '<c t="s"><v>0</v></c>'
        sheet = [(opening + before + reference + after).encode()]
        strings = [
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1"'
            b' uniqueCount="1"><si><t>',
            *_repeat(b"A", megabytes * _MB),
            b"</t></si></sst>",
        ]
        return _workbook(sheet, strings)
    sheet = [
        (opening + before + '<c t="inlineStr"><is><t>').encode(),
        *_repeat(b"A", megabytes * _MB),
        ("</t></is></c>" + after).encode(),
    ]
    return _workbook(sheet)


def wide_row_workbook(header: Sequence[str], cells: int) -> bytes:
    """A header, then one row of `cells` numeric cells (no references: each is the next column)."""
    opening = _SHEET_OPEN + "<sheetData>" + _row(1, header) + '<row r="2">'
    return _workbook(
        [
            opening.encode(),
            *_repeat(b"<c><v>1</v></c>", cells * 15),
            b"</row></sheetData></worksheet>",
        ]
    )


def lie_about_size(content: bytes, member: str, size: int) -> bytes:
    """The same zip with `member`'s uncompressed size declared as `size` in both its headers
    (the zip64 extra field is not used here: the member must be under 4 GB)."""
    data = bytearray(content)
    name = member.encode()
    # Central directory entries: signature PK\1\2, uncompressed size at +24, name length at +28.
    position = data.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if bytes(data[position + 46 : position + 46 + name_length]) == name:
            struct.pack_into("<I", data, position + 24, size)
            local = struct.unpack_from("<I", data, position + 42)[0]
            struct.pack_into("<I", data, local + 22, size)
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)
