"""Reading spreadsheet files without letting one file take the process down.

python-calamine builds a dense grid of the used range before Python sees a row: a 1.6 KB .xlsx
holding A1 and XFD1048576 asks for 549 GB and aborts the process (a Rust allocation failure is
an abort, not an exception). So every workbook is read in a child process (`python -m
guanai.lib.xlsx FILE`) that:

1. checks the .xlsx zip before calamine opens it: no duplicate parts, the parts calamine reads
   stay under their decompressed size (counted while streaming, not trusted from the header),
   no run of text longer than a cell can hold, and the first sheet's `<dimension>` within the
   limits — or, when it is absent or beyond them, a scan of the sheet XML for the cells that
   really hold data;
2. runs under an address-space ceiling (`READER_MEMORY_BYTES`) and a CPU-time ceiling, so
   whatever slips past the checks (a lying `<dimension>`, an .xls) costs the child, never the
   web or worker process;
3. checks the loaded extent and every text cell's length, then streams the rows to the parent.

CSV is read in-process, streamed, with the same row, column and cell limits. Every refusal is a
`SheetError` with a message for the teacher, in Chinese.
"""

import codecs
import csv
import io
import logging
import os
import pickle
import re
import resource
import signal
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MAX_ROWS = 200_000
MAX_COLUMNS = 200
MAX_CELLS = 8_000_000  # rows x columns of the used range (calamine holds it densely, 32 B a cell)
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_SHEET_XML_BYTES = 768 * 1024 * 1024  # a 200,000 x 31 sheet with inline strings is ~320 MB
MAX_SHARED_STRINGS_BYTES = 256 * 1024 * 1024
MAX_SHARED_STRINGS = MAX_CELLS
MAX_PART_BYTES = 32 * 1024 * 1024  # workbook.xml, styles.xml, relationships
MAX_ZIP_ENTRIES = 10_000
MAX_CSV_LINE_CHARS = 1024 * 1024
READER_MEMORY_BYTES = 1280 * 1024 * 1024  # the child's address space, Python and calamine included
READER_CPU_SECONDS = 600
ROWS_PER_MESSAGE = 1000

logger = logging.getLogger(__name__)

_LIMITS = f"最多 {MAX_ROWS} 行、{MAX_COLUMNS} 列"
_TOO_BIG = (
    "读取时超出了内存上限：工作表的范围太大（可能有离数据很远的单元格）或文件已损坏。"
    "请删除多余的行和列，或把花名册复制到新的工作簿后再上传"
)


class SheetError(ValueError):
    """The file cannot be read, or is beyond the limits; the message is for the teacher."""


def column_letters(index: int) -> str:
    """0-based column index → Excel letters (0 → A, 16383 → XFD)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _parse_ref(ref: bytes) -> tuple[int, int] | None:
    """b"XFD1048576" → (1048575, 16383), 0-based like calamine; None when malformed."""
    m = re.fullmatch(rb"([A-Za-z]{1,7})0*(\d{1,12})", ref.strip())
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ch - 64
    return max(int(m.group(2)) - 1, 0), col - 1


def check_extent(rows: int, columns: int, *, far: str = "") -> None:
    """Refuse a used range beyond the limits; `far` names the farthest cell when known."""
    where = f"（数据一直延伸到单元格 {far}）" if far else ""
    if rows > MAX_ROWS:
        raise SheetError(
            f"工作表有 {rows} 行{where}，超过上限 {MAX_ROWS} 行：请删除多余的行，"
            "或按学校、年级分开导入"
        )
    if columns > MAX_COLUMNS:
        raise SheetError(
            f"工作表有 {columns} 列{where}，超过上限 {MAX_COLUMNS} 列：请删除多余的列，"
            "或把花名册复制到新的工作表后再上传"
        )
    if rows * columns > MAX_CELLS:
        raise SheetError(
            f"工作表的范围是 {rows} 行 × {columns} 列，超过上限（共 {MAX_CELLS} 个单元格）："
            "请删除多余的行和列，或分开导入"
        )


def _cell_too_long(row: int, column: int) -> SheetError:
    return SheetError(
        f"第 {row} 行第 {column_letters(column)} 列的单元格超过 {MAX_CELL_CHARS} 个字符"
        "（Excel 单元格的上限），不是花名册的内容：请检查文件"
    )


# --- the .xlsx zip, checked before calamine opens it ---------------------------------------

_SHEET_TAG = re.compile(rb"<(?:[\w.-]+:)?sheet\s([^>]*)>")
_RID = re.compile(rb"""(?:^|\s)[\w.-]+:id\s*=\s*["']([^"']*)["']""")
_REL = re.compile(rb"<(?:[\w.-]+:)?Relationship\s([^>]*)>")
_ATTR = re.compile(rb"""([\w.:-]+)\s*=\s*["']([^"']*)["']""")
_DIMENSION = re.compile(rb"""<(?:[\w.-]+:)?dimension\s[^>]*?\bref\s*=\s*["']([^"']*)["']""")
_SHEET_DATA = re.compile(rb"<(?:[\w.-]+:)?sheetData[\s/>]")
# Row starts and ends and cell starts (not `</c>`), as calamine's cell reader sees them.
_TAG = re.compile(rb"<(?:/(?:[\w.-]+:)?(row)|(?:[\w.-]+:)?(row|c))(?=[\s/>])([^>]*)>")
_R = re.compile(rb"""(?:^|\s)r\s*=\s*["']([^"']*)["']""")
CHUNK = 1024 * 1024
# More XML than this per cell of the declared <dimension> (plus 1 MB) and the dimension is not
# believed: ordinary sheets take 30 to 100 bytes a cell.
_BYTES_PER_CELL = 1024
_LONGEST_RUN = MAX_CELL_CHARS * 8 + 4096  # the longest cell, written as &#x…; entities
# RuntimeError: an encrypted part; NotImplementedError: a compression zipfile cannot inflate.
_DAMAGED = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    NotImplementedError,
    RuntimeError,
    EOFError,
    OSError,
    zlib.error,
)
_DAMAGED_MESSAGE = "不是有效的 Excel 文件（文件已损坏、加了密码或压缩方式不受支持）"


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    out = bytearray()
    for chunk in _stream(zf, info, limit):
        out += chunk
    return bytes(out)


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> Iterator[bytes]:
    """The part's bytes in chunks, counted as they are inflated (the size in the zip's header is
    the sender's word, not a fact): refused past `limit`, and refused when a run without `<` is
    longer than any cell's text can be — 1 GB of "a" in one cell is 1 MB zipped."""
    total = run = 0  # run: bytes since the last "<", carried across chunks
    try:
        fh = zf.open(info)
    except _DAMAGED as exc:
        raise SheetError(_DAMAGED_MESSAGE) from exc
    with fh:
        while True:
            try:
                chunk = fh.read(CHUNK)
            except _DAMAGED as exc:
                raise SheetError(_DAMAGED_MESSAGE) from exc
            if not chunk:
                return
            total += len(chunk)
            if total > limit:
                raise SheetError(
                    f"文件解压后过大（其中“{info.filename}”超过 {limit // 2**20} MB），"
                    "不像一份花名册：请检查文件，或分开导入"
                )
            first = chunk.find(b"<")
            if first < 0:
                run += len(chunk)
            elif run + first > _LONGEST_RUN:
                run += first
            else:
                run = len(chunk) - chunk.rfind(b"<") - 1
            if run > _LONGEST_RUN:
                raise SheetError(
                    f"文件中有超过 {MAX_CELL_CHARS} 个字符的单元格（Excel 单元格的上限），"
                    "不是花名册的内容：请检查文件"
                )
            yield chunk


def _first_sheet(zf: zipfile.ZipFile, parts: dict[str, zipfile.ZipInfo]) -> str | None:
    """The zip path of the workbook's first sheet, the one calamine's index 0 reads."""
    workbook = parts.get("xl/workbook.xml")
    rels = parts.get("xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        return None
    first = _SHEET_TAG.search(_read_part(zf, workbook, MAX_PART_BYTES))
    rid = _RID.search(first.group(1)) if first else None
    if rid is None:
        return None
    for rel in _REL.finditer(_read_part(zf, rels, MAX_PART_BYTES)):
        attrs = dict(_ATTR.findall(rel.group(1)))
        if attrs.get(b"Id") == rid.group(1) and b"Target" in attrs:
            target = attrs[b"Target"].decode("utf-8", "replace")
            path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            parts_of = [p for p in path.split("/") if p not in ("", ".")]
            resolved: list[str] = []
            for p in parts_of:
                if p == "..":
                    if resolved:
                        resolved.pop()
                else:
                    resolved.append(p)
            return "/".join(resolved)
    return None


def check_xlsx(path: Path) -> None:
    """Refuse an .xlsx whose first sheet would be too big for calamine, before it opens it."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise SheetError("不是有效的 Excel 文件（可能已损坏，或实际是其他格式）") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise SheetError("文件内部的部件太多，不像一份花名册：请另存为新的 .xlsx 后再上传")
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise SheetError(
                "文件结构异常（有重名的部件）：请用 Excel 或 WPS 打开后另存为新的 .xlsx 再上传"
            )
        parts = {i.filename: i for i in infos}
        sheet = _first_sheet(zf, parts)
        for info in infos:
            name = info.filename
            lower = name.lower()
            if name == sheet or (sheet is None and lower.startswith("xl/worksheets/")):
                continue  # checked below, with the sheet's own limit
            if lower.endswith("sharedstrings.xml"):
                count = 0
                for chunk in _stream(zf, info, MAX_SHARED_STRINGS_BYTES):
                    count += chunk.count(b"<si>") + chunk.count(b"<si ")
                if count > MAX_SHARED_STRINGS:
                    raise SheetError("文件中的文字条目太多，不像一份花名册：请检查文件")
            elif lower.endswith((".rels", "workbook.xml", "styles.xml")):
                for _chunk in _stream(zf, info, MAX_PART_BYTES):
                    pass
        sheets = [parts[sheet]] if sheet in parts else []
        if not sheets and sheet is None:
            sheets = [i for i in infos if i.filename.lower().startswith("xl/worksheets/")]
        for info in sheets:
            _check_sheet(zf, info, first=info.filename == sheet)


def _check_sheet(zf: zipfile.ZipFile, info: zipfile.ZipInfo, *, first: bool) -> None:
    """Size and text runs of a sheet's XML; for the first sheet also its extent: the
    `<dimension>` when it is there, within the limits and in proportion to the XML's size
    (16 million rows under a `<dimension ref="A1:A2">` are not), else the cells themselves."""
    head = b""
    chunks = _stream(zf, info, MAX_SHEET_XML_BYTES)
    for chunk in chunks:
        head += chunk
        if len(head) >= 64 * 1024 or _SHEET_DATA.search(head):
            break
    dimension = _DIMENSION.search(head.split(b"<sheetData", 1)[0]) if first else None
    extent = _dimension_extent(dimension.group(1)) if dimension else None
    if not first:
        for _chunk in chunks:  # still count the rest: size and text runs
            pass
        return
    if extent is not None and _within_limits(*extent):
        budget = extent[0] * extent[1] * _BYTES_PER_CELL + 2**20
        size = len(head)
        for chunk in chunks:
            size += len(chunk)
            if size > budget:
                break
        else:
            return
        head, chunks = b"", _stream(zf, info, MAX_SHEET_XML_BYTES)  # scan from the start
    _scan_cells(head, chunks)


def _dimension_extent(ref: bytes) -> tuple[int, int] | None:
    ends = [_parse_ref(p) for p in ref.split(b":")]
    if not ends or None in ends or len(ends) > 2:
        return None
    (r1, c1), (r2, c2) = ends[0], ends[-1]  # type: ignore[misc]
    return abs(r2 - r1) + 1, abs(c2 - c1) + 1


def _within_limits(rows: int, columns: int) -> bool:
    return rows <= MAX_ROWS and columns <= MAX_COLUMNS and rows * columns <= MAX_CELLS


def _scan_cells(head: bytes, chunks: Iterator[bytes]) -> None:
    """Follow calamine's cell reader over the sheet XML (row and cell positions from `r`
    attributes or counted) and refuse as soon as the cells span more than the limits."""
    row = col = 0
    top = left = None
    bottom = right = -1
    carry = b""
    for chunk in _chain_first(head, chunks):
        data = carry + chunk
        cut = data.rfind(b"<")
        if cut < 0:
            carry = b""
            continue
        carry, data = data[cut:], data[:cut]
        for end_row, start, attrs in _TAG.findall(data):
            if end_row:
                row += 1
                col = 0
                continue
            if attrs.endswith(b"/"):
                continue  # <row/> and <c/> hold nothing: calamine skips them
            r = _R.search(attrs)
            if start == b"row":
                if r:
                    pos = _parse_ref(b"A" + r.group(1))
                    if pos is not None:
                        row = pos[0]
                continue
            if r and (pos := _parse_ref(r.group(1))) is not None:
                cell_row, cell_col = pos
                col = cell_col
            else:
                cell_row, cell_col = row, col
            col += 1
            top = cell_row if top is None else min(top, cell_row)
            left = cell_col if left is None else min(left, cell_col)
            bottom, right = max(bottom, cell_row), max(right, cell_col)
            if not _within_limits(bottom - top + 1, right - left + 1):
                check_extent(
                    bottom - top + 1,
                    right - left + 1,
                    far=f"{column_letters(cell_col)}{cell_row + 1}",
                )


def _chain_first(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    if first:
        yield first
    yield from rest


# --- workbooks (.xlsx, .xls) through calamine, in the child -----------------------------------


def _load_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """(1-based row number, cells) of the first sheet, merged ranges spread; runs in the child."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        start = sheet.start
        end = sheet.end
        merged = sheet.merged_cell_ranges or []
    except MemoryError:
        raise
    except Exception as exc:  # calamine raises its own exception types for bad files
        raise SheetError("不是有效的 Excel 文件（可能已损坏，或实际是其他格式）") from exc
    if start is None or end is None:
        return
    row0, col0 = start
    check_extent(end[0] - row0 + 1, end[1] - col0 + 1, far=f"{column_letters(end[1])}{end[0] + 1}")
    # A merged cell holds its value in the top-left corner only; spread it over the range
    # (grouped headers, a 年级 cell merged over a whole grade), within the used range.
    fill: dict[int, list[tuple[int, int, int]]] = {}
    corner: dict[tuple[int, int], Any] = {}
    budget = MAX_CELLS
    for (r1, c1), (r2, c2) in merged:
        r1, r2 = max(r1, row0), min(r2, end[0])
        c1, c2 = max(c1, col0), min(c2, end[1])
        area = (r2 - r1 + 1) * (c2 - c1 + 1)
        if r2 < r1 or c2 < c1 or area > 100_000 or r2 - r1 + 1 > budget:
            continue
        budget -= r2 - r1 + 1
        for r in range(r1, r2 + 1):
            fill.setdefault(r, []).append((r1, c1, c2))
    try:
        for offset, cells in enumerate(sheet.iter_rows()):
            number = row0 + offset
            for i, value in enumerate(cells):
                if value.__class__ is str and len(value) > MAX_CELL_CHARS:
                    raise _cell_too_long(number + 1, col0 + i)
            yield _fill_merged(number, cells, col0, fill, corner)
    except (SheetError, MemoryError):
        raise
    except Exception as exc:  # a sheet that breaks half-way
        raise SheetError("文件已损坏，读到一半无法继续") from exc


def _fill_merged(
    number: int,
    cells: list[Any],
    col0: int,
    fill: dict[int, list[tuple[int, int, int]]],
    corner: dict[tuple[int, int], Any],
) -> tuple[int, list[Any]]:
    """(1-based row number, cells) with merged ranges' values spread over their cells."""
    if number in fill:
        cells = list(cells)
        for r1, c1, c2 in fill[number]:
            if number == r1:
                i = c1 - col0
                corner[(r1, c1)] = cells[i] if 0 <= i < len(cells) else ""
            value = corner.get((r1, c1), "")
            for c in range(c1, c2 + 1):
                i = c - col0
                if 0 <= i < len(cells) and cells[i] in ("", None):
                    cells[i] = value
    return number + 1, cells


def child_main(argv: list[str]) -> int:
    """`python -I guanai/lib/xlsx.py FILE`: pickled ("rows", [...]) messages on stdout, then
    ("end", n) or ("error", message)."""
    _limit_self()
    out = sys.stdout.buffer
    path = Path(argv[0])

    def send(kind: str, value: Any) -> None:
        pickle.dump((kind, value), out, protocol=pickle.HIGHEST_PROTOCOL)

    try:
        with path.open("rb") as fh:
            zipped = fh.read(4) == b"PK\x03\x04"
        if zipped:
            check_xlsx(path)
        batch: list[tuple[int, list[Any]]] = []
        count = 0
        for item in _load_rows(path):
            batch.append(item)
            count += 1
            if len(batch) >= ROWS_PER_MESSAGE:
                send("rows", batch)
                batch = []
        if batch:
            send("rows", batch)
        send("end", count)
    except SheetError as exc:
        send("error", str(exc))
    except MemoryError:
        send("error", _TOO_BIG)
    except OSError as exc:
        send("error", os_message(exc))
    except BaseException as exc:  # pyo3's PanicException is a BaseException
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        send("error", _DAMAGED_MESSAGE)
    out.flush()
    return 0


def _limit_self() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (READER_MEMORY_BYTES, READER_MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (READER_CPU_SECONDS, READER_CPU_SECONDS + 5))


class _Unpickler(pickle.Unpickler):
    """Only the cell types calamine returns come back from the child."""

    ALLOWED = {("datetime", n) for n in ("date", "datetime", "time", "timedelta")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not a cell type")


def read_workbook(path: str | Path) -> Iterator[tuple[int, list[Any]]]:
    """(1-based row number, cells) of an .xlsx/.xls's first sheet, read by calamine in a child
    process with a memory ceiling. Raises SheetError (in Chinese) for any file it refuses or
    cannot read; the calling process survives every file."""
    path = Path(path)
    # This file runs as a script (-I: no environment, no script directory on sys.path): the
    # child imports the standard library and python-calamine only, never this project.
    command = [sys.executable, "-I", str(Path(__file__).resolve()), str(path.resolve())]
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=dict(os.environ, RUST_BACKTRACE="0"),
        )
        assert proc.stdout is not None
        finished = False
        try:
            while True:
                try:
                    # One unpickler a message: each dump has its own memo.
                    kind, value = _Unpickler(proc.stdout).load()
                except EOFError:
                    break
                except Exception as exc:
                    raise SheetError(_DAMAGED_MESSAGE) from exc
                if kind == "rows":
                    yield from value
                elif kind == "error":
                    raise SheetError(value)
                else:
                    finished = True
                    break
        finally:
            if proc.poll() is None and not finished:
                proc.kill()
            proc.stdout.close()
            status = proc.wait()
        if not finished:
            errors.seek(0)
            logger.warning(
                "sheet reader for %s ended with status %s: %s",
                path.name,
                status,
                errors.read()[-2000:].decode("utf-8", "replace"),
            )
            raise SheetError(_death_message(status))


def _death_message(status: int) -> str:
    if status in (-signal.SIGXCPU, -signal.SIGKILL):
        return "读取文件超时：文件太大或已损坏。请删除多余的行和列，或分开导入"
    if status in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS):
        return _TOO_BIG  # a failed allocation in calamine aborts
    return _DAMAGED_MESSAGE


def os_message(exc: OSError) -> str:
    """Why a file could not be opened, in Chinese."""
    if isinstance(exc, FileNotFoundError):
        return "文件不存在"
    if isinstance(exc, PermissionError):
        return "没有读取这个文件的权限"
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹，不是文件"
    return "文件无法打开"


# --- CSV, in-process --------------------------------------------------------------------------


def _csv_encoding(fh: io.BufferedReader) -> str:
    head = fh.read(4)
    fh.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text"
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := fh.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "gb18030"  # Chinese Excel and WPS save CSV as GBK; gb18030 is its superset
    finally:
        fh.seek(0)
    return "utf-8"


def read_csv(path: str | Path) -> Iterator[tuple[int, list[str]]]:
    """(1-based row number, cells) of a .csv (UTF-8 with or without BOM, UTF-16, or GBK),
    streamed: one line in memory at a time. Raises SheetError (in Chinese) past the limits."""
    try:
        fh = Path(path).open("rb")  # noqa: SIM115 — held by the generator, closed below
    except OSError as exc:
        raise SheetError(os_message(exc)) from exc
    with fh:
        text = io.TextIOWrapper(fh, encoding=_csv_encoding(fh), errors="replace", newline="")
        first = text.readline(4096)
        text.seek(0)
        delimiter = "\t" if "\t" in first and "," not in first else ","
        reader = csv.reader(_csv_lines(text), delimiter=delimiter)
        number = 0
        try:
            for number, cells in enumerate(reader, 1):
                if number > MAX_ROWS:
                    raise SheetError(f"CSV 文件超过 {MAX_ROWS} 行：请按学校或年级分开导入")
                if len(cells) > MAX_COLUMNS:
                    width = len(cells)
                    while width and not cells[width - 1]:
                        width -= 1  # Excel writes empty columns out to the used range
                    if width > MAX_COLUMNS:
                        raise SheetError(
                            f"CSV 文件第 {number} 行有 {width} 列，超过上限 {MAX_COLUMNS} 列"
                        )
                    del cells[MAX_COLUMNS:]
                for i, value in enumerate(cells):
                    if len(value) > MAX_CELL_CHARS:
                        raise _cell_too_long(number, i)
                yield number, cells
        except csv.Error as exc:
            raise SheetError(_csv_message(str(exc), number + 1)) from exc


def _csv_lines(text: io.TextIOWrapper) -> Iterator[str]:
    while line := text.readline(MAX_CSV_LINE_CHARS + 1):
        if len(line) > MAX_CSV_LINE_CHARS:
            raise SheetError(
                f"CSV 文件中有一行超过 {MAX_CSV_LINE_CHARS} 个字符，不像一份花名册：请检查文件"
            )
        yield line.replace("\0", "") if "\0" in line else line


def _csv_message(message: str, number: int) -> str:
    """The csv module's English errors, said in Chinese."""
    if "field larger than field limit" in message:
        return (
            f"CSV 文件第 {number} 行附近有单元格超过 {MAX_CELL_CHARS} 个字符（可能是引号没有配对）"
        )
    if "new-line character" in message or "unquoted field" in message:
        return f"CSV 文件第 {number} 行附近的换行符异常：请用 Excel 或 WPS 打开后重新另存为 CSV"
    return f"CSV 文件第 {number} 行附近格式有误（引号没有配对？）：请用 Excel 或 WPS 打开后重新另存为 CSV"


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
