"""The letters of a batch as one printable PDF: A4, one page per family with its receipt slip and
Code 39 barcode, Chinese in an embedded CJK font.

A school's letters are rendered class by class with WeasyPrint (which holds a whole document in
memory) into temporary files and joined with pypdf, so printing a school never holds more than
one class's document. Chinese text needs a CJK font: Noto Sans CJK SC from Debian's
fonts-noto-cjk (installed by ./bin/demo and ./bin/test), or a font file placed in
guanai/static/fonts/.
"""

import datetime as dt
import glob
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from .letters import (
    DATE_VALUES,
    children_of,
    class_teacher_users,
    cn_date,
    family_label,
    family_values,
    fill,
    term_label,
    with_children,
)
from .models import Letter, LetterBatch

FONT_DIRS = [Path(settings.BASE_DIR) / "static" / "fonts", Path("/usr/share/fonts")]
FONT_PATTERNS = ["**/NotoSansCJK*.tt[cf]", "**/NotoSansCJK*.otf", "**/NotoSansSC*.[ot]tf"]


def cjk_font_file() -> Path | None:
    """A Noto Sans CJK / Noto Sans SC font file, vendored or from the system."""
    for base in FONT_DIRS:
        for pattern in FONT_PATTERNS:
            found = sorted(glob.glob(str(base / pattern), recursive=True))
            regular = [f for f in found if "Regular" in f or "[" in f] or found
            if regular:
                return Path(regular[0])
    return None


def batch_values(batch: LetterBatch) -> dict[str, str]:
    """The placeholders a batch fills the same on every letter: its date and term are those of
    the day it was printed (Shanghai), not of the day a worker renders it, and the vacation
    dates the printer chose."""
    printed = batch.created_at.astimezone(timezone.get_current_timezone()).date()
    extra = {"日期": cn_date(printed), "学期": term_label(printed)}
    for key in DATE_VALUES:
        extra[key] = (
            cn_date(dt.date.fromisoformat(batch.values[key]))
            if batch.values.get(key)
            else "____年__月__日"
        )
    return extra


def render_letters_pdf(batch: LetterBatch, letters: list[Letter]) -> bytes:
    """One class's letters as PDF bytes (A4, one page each with its receipt slip). Each
    letter names every child of its family; pass letters loaded `with_children`."""
    if cjk_font_file() is None:
        raise RuntimeError(
            "缺少中文字体（Noto Sans CJK）：请运行 ./bin/demo 或 apt-get install fonts-noto-cjk"
        )
    warm_up()
    families = [(letter, children_of(letter)) for letter in letters]
    teachers = class_teacher_users({c.school_class_id for _letter, kids in families for c in kids})
    extra = batch_values(batch)
    pages = []
    for letter, kids in families:
        values = family_values(kids, letter.guardian_name, teachers, extra)
        pages.append(
            {
                "code": letter.code,
                "title": fill(batch.title, values),
                "paragraphs": fill(batch.body, values).split("\n"),
                "receipt": fill(batch.receipt_text, values),
                "children": family_label(kids),
                "values": values,
                "barcode": code39_svg(letter.code),
            }
        )
    return _pdf(pages, batch.title)


def _pdf(pages: list[dict[str, Any]], title: str) -> bytes:
    from weasyprint import HTML

    # A vendored font file is declared with @font-face; the system's Noto Sans CJK SC is found
    # by name through fontconfig (a .ttc's first face is Japanese, so never by file).
    font = cjk_font_file()
    vendored = font is not None and FONT_DIRS[0] in font.parents
    html = render_to_string(
        "contacts/letters_pdf.html",
        {"pages": pages, "title": title, "font_url": font.as_uri() if vendored else ""},
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


_warm_up_lock = threading.Lock()
_warmed_up = False


def warm_up() -> None:
    """Load WeasyPrint, Pango, fontconfig and the CJK font once per process by rendering a
    one-line letter: most of the first PDF's time (about 0.6 s), which would otherwise fall on
    the first letters a user prints. `guanai worker` runs this in a background thread as it
    starts (registered in tasks.py); rendering calls it too, and so waits for a warm-up under
    way rather than loading fontconfig twice at once."""
    global _warmed_up
    with _warm_up_lock:
        if not _warmed_up:
            _pdf([{"code": "", "title": "回执", "paragraphs": ["您好"], "values": {}}], "回执")
            _warmed_up = True


def letters_dir() -> Path:
    path = Path(settings.DATA_DIR) / "letters"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_batch_pdf(
    batch: LetterBatch, progress: Callable[[int, int, str], None] | None = None
) -> Path:
    """Render the batch class by class into temporary files and join them with pypdf."""
    from pypdf import PdfWriter

    class_ids = list(
        batch.letters.order_by("child__school_class__grade", "child__school_class__class_no")
        .values_list("child__school_class_id", flat=True)
        .distinct()
    )
    seen: list[int] = []
    for cid in class_ids:
        if cid not in seen:
            seen.append(cid)
    out = letters_dir() / f"letters-{batch.pk}.pdf"
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        for i, class_id in enumerate(seen):
            letters = list(
                with_children(batch.letters.filter(child__school_class_id=class_id))
                .select_related("child__school_class")
                .order_by("child__name", "child_id")
            )
            if progress:
                progress(
                    i, len(seen), f"正在生成 {letters[0].child.school_class}（{len(letters)} 封）"
                )
            part = Path(tmp) / f"{i:04d}.pdf"
            part.write_bytes(render_letters_pdf(batch, letters))
            parts.append(part)
        writer = PdfWriter()
        for part in parts:
            writer.append(str(part))
        with open(out, "wb") as fh:
            writer.write(fh)
    batch.pdf = out.name
    batch.save(update_fields=["pdf"])
    if progress:
        progress(len(seen), len(seen), "已生成")
    return out


# Code 39 (ISO/IEC 16388): nine elements per character, bar first, n = narrow, w = wide. A USB
# barcode scanner types the code followed by Enter into the receipt page's field.
CODE39 = {
    "0": "nnnwwnwnn", "1": "wnnwnnnnw", "2": "nnwwnnnnw", "3": "wnwwnnnnn", "4": "nnnwwnnnw",
    "5": "wnnwwnnnn", "6": "nnwwwnnnn", "7": "nnnwnnwnw", "8": "wnnwnnwnn", "9": "nnwwnnwnn",
    "A": "wnnnnwnnw", "B": "nnwnnwnnw", "C": "wnwnnwnnn", "D": "nnnnwwnnw", "E": "wnnnwwnnn",
    "F": "nnwnwwnnn", "G": "nnnnnwwnw", "H": "wnnnnwwnn", "I": "nnwnnwwnn", "J": "nnnnwwwnn",
    "K": "wnnnnnnww", "L": "nnwnnnnww", "M": "wnwnnnnwn", "N": "nnnnwnnww", "O": "wnnnwnnwn",
    "P": "nnwnwnnwn", "Q": "nnnnnnwww", "R": "wnnnnnwwn", "S": "nnwnnnwwn", "T": "nnnnwnwwn",
    "U": "wwnnnnnnw", "V": "nwwnnnnnw", "W": "wwwnnnnnn", "X": "nwnnwnnnw", "Y": "wwnnwnnnn",
    "Z": "nwwnwnnnn", "*": "nwnnwnwnn",
}  # fmt: skip


def code39_svg(code: str, *, height: int = 40) -> str:
    """An inline SVG Code 39 barcode of `code` (start/stop `*` added), 1:3 narrow:wide."""
    x = 10  # quiet zone
    bars = []
    for ch in f"*{code}*":
        for i, element in enumerate(CODE39[ch]):
            width = 3 if element == "w" else 1
            if i % 2 == 0:
                bars.append(f'<rect x="{x}" y="0" width="{width}" height="{height}"/>')
            x += width
        x += 1  # inter-character gap
    x += 9
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {x} {height}" '
        f'width="{x * 0.75:.0f}pt" height="{height * 0.6:.0f}pt" preserveAspectRatio="none">'
        + "".join(bars)
        + "</svg>"
    )
