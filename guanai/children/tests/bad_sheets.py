"""Spreadsheets that are small on disk and huge once read, built by hand with zipfile.

Shared by the reader's tests and bench/bad_sheets.py. Each builder writes the fewest parts
python-calamine needs ([Content_Types].xml, the relationships, workbook.xml, one sheet) and
streams the sheet XML, so a 1 GB cell or 16 million rows never sit in memory here either.
"""

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<workbook xmlns="{NS}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="花名册" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def text_cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xml(rows: Iterable[str | bytes], *, dimension: str | None = None) -> Iterator[bytes]:
    """The worksheet XML around pieces of <sheetData> (each a string or bytes)."""
    head = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{NS}">'
    if dimension:
        head += f'<dimension ref="{dimension}"/>'
    yield (head + "<sheetData>").encode()
    for row in rows:
        yield row if isinstance(row, bytes) else row.encode()
    yield b"</sheetData></worksheet>"


def workbook(
    path: Path,
    sheet: Iterable[bytes],
    *,
    level: int = 6,
    extra: dict[str, str | bytes] | None = None,
) -> Path:
    """Write an .xlsx around the sheet XML, streamed into the zip."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        zf.writestr("[Content_Types].xml", CONTENT_TYPES)
        zf.writestr("_rels/.rels", ROOT_RELS)
        zf.writestr("xl/workbook.xml", WORKBOOK)
        zf.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            for piece in sheet:
                fh.write(piece)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def far_cell(path: Path, *, dimension: str | None = None, ref: str = "XFD1048576") -> Path:
    """A1 and one far cell: calamine asks for rows x columns x 32 bytes (549 GB for XFD1048576)."""
    row = int("".join(ch for ch in ref if ch.isdigit()))
    rows = [
        f'<row r="1">{text_cell("A1", "姓名")}</row>',
        f'<row r="{row}">{text_cell(ref, "x")}</row>',
    ]
    return workbook(path, sheet_xml(rows, dimension=dimension))


def huge_cell(path: Path, size: int, *, level: int = 6) -> Path:
    """One inline-string cell of `size` bytes of "a" (1 GB is about 1 MB zipped)."""

    def rows() -> Iterator[bytes]:
        yield f'<row r="1">{text_cell("A1", "姓名")}</row><row r="2"><c r="A2" t="inlineStr"><is><t>'.encode()
        block = b"a" * (1 << 20)
        left = size
        while left > 0:
            yield block[: min(left, len(block))]
            left -= len(block)
        yield b"</t></is></c></row>"

    return workbook(path, sheet_xml(rows()), level=level)


def many_rows(path: Path, count: int, *, dimension: str | None = None, refs: bool = False) -> Path:
    """A header row and `count` one-cell rows. Without `refs` the rows carry no r= attributes
    (calamine counts them) and repeat byte for byte, so 16 million of them zip to almost
    nothing."""

    def rows() -> Iterator[bytes]:
        yield f'<row r="1">{text_cell("A1", "姓名")}</row>'.encode()
        if refs:
            for n in range(2, count + 2):
                yield f'<row r="{n}"><c r="A{n}"><v>1</v></c></row>'.encode()
            return
        one = b"<row><c><v>1</v></c></row>"
        left = count
        while left > 0:
            step = min(left, 100_000)
            yield one * step
            left -= step

    return workbook(path, sheet_xml(rows(), dimension=dimension))


def plain(path: Path, rows: list[list[str]], *, dimension: str | None = None) -> Path:
    """A small sheet of text cells with r= attributes, and a <dimension> only when given."""
    xml = []
    for r, row in enumerate(rows, 1):
        cells = "".join(
            text_cell(f"{chr(65 + c)}{r}", value) for c, value in enumerate(row) if value
        )
        xml.append(f'<row r="{r}">{cells}</row>')
    return workbook(path, sheet_xml(xml, dimension=dimension))
