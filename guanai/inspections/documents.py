"""Documents as the app accepts them: a PDF, a Word .docx or an Excel .xlsx, recognised by their
bytes and never by the name alone (a page renamed 方案.pdf is refused).

A pure helper (no models): it could live in guanai/lib beside photos.py. A .docx and an .xlsx are
ZIP packages; their directory is read, nothing is unpacked, and a package whose entries would
unpack to more than MAX_UNPACKED (a ZIP bomb) or that carries macros (vbaProject.bin) is refused.
"""

import io
import re
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

MAX_BYTES = 10 * 2**20
MAX_UNPACKED = 200 * 2**20
MAX_ENTRIES = 5_000

# kind → (extension, content type, words on a page)
KINDS = {
    "pdf": ("pdf", "application/pdf", "PDF"),
    "docx": (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "Word",
    ),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel"),
}
EXTENSIONS = {"pdf": "pdf", "docx": "docx", "xlsx": "xlsx"}
# The part a package of each kind must hold.
MAIN_PART = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}
ACCEPT = ".pdf,.docx,.xlsx," + ",".join(v[1] for v in KINDS.values())


class DocumentError(ValueError):
    """An upload that is not a document the app can store; the message is for the teacher."""


@dataclass(frozen=True)
class Document:
    data: bytes
    kind: str  # a key of KINDS
    name: str  # the name to show and download under, cleaned


def clean_stem(name: str) -> str:
    """The uploaded name without folders, control characters or extension, at most 75
    characters ("文件" when nothing is left)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f\"<>|:*?]", "", base).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return stem.strip()[:75] or "文件"


def clean_name(name: str, kind: str) -> str:
    """The uploaded name cleaned (clean_stem), ending in the kind's extension."""
    return f"{clean_stem(name)}.{KINDS[kind][0]}"


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF-"):
        return "pdf"
    if not data.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            infos = package.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        return None
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNPACKED:
        raise DocumentError("文件解压后过大，请另存为普通文档后再上传")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise DocumentError("文件含有宏，请另存为不含宏的 .docx 或 .xlsx 后再上传")
    for kind, part in MAIN_PART.items():
        if part in names:
            return kind
    return None


def read_document(source: BinaryIO, *, name: str = "", size: int | None = None) -> Document:
    """Read an upload and say what it is: a PDF, .docx or .xlsx whose bytes match its name's
    extension, not empty, at most MAX_BYTES. Raises DocumentError with a Chinese message."""
    label = f"“{(name or '')[:40]}”"
    if size is not None and size > MAX_BYTES:
        raise DocumentError(f"文件{label}超过 {MAX_BYTES // 2**20} MB")
    data = source.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise DocumentError(f"文件{label}超过 {MAX_BYTES // 2**20} MB")
    if not data:
        raise DocumentError(f"文件{label}是空的")
    ext = (name or "").rsplit(".", 1)[-1].lower() if "." in (name or "") else ""
    kind = _sniff(data)
    if kind is None:
        if ext in EXTENSIONS:
            raise DocumentError(f"文件{label}不是真正的 {KINDS[ext][2]} 文件，或者文件已损坏")
        raise DocumentError(f"文件{label}不是 PDF、Word（.docx）或 Excel（.xlsx）文件")
    if ext and ext != kind:
        raise DocumentError(f"文件{label}的内容是 {KINDS[kind][2]}，与文件名不符，请改正后再上传")
    return Document(data=data, kind=kind, name=clean_name(name, kind))
