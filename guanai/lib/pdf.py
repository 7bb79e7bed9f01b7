"""PDFs with Chinese text: the CJK font every printed page embeds (WeasyPrint). Vendored fonts
in guanai/static/fonts come first, then the system's (Debian: fonts-noto-cjk, which bin/demo
and bin/test install)."""

import glob
from pathlib import Path

MISSING_FONT = "缺少中文字体（Noto Sans CJK）：请运行 ./bin/demo 或 apt-get install fonts-noto-cjk"


def font_dirs() -> list[Path]:
    from django.conf import settings

    return [Path(settings.BASE_DIR) / "static" / "fonts", Path("/usr/share/fonts")]


def cjk_font_file() -> Path | None:
    """The regular face of the first CJK font found, or None."""
    for base in font_dirs():
        for pattern in ("**/NotoSansCJK*.tt[cf]", "**/NotoSansCJK*.otf", "**/NotoSansSC*.[ot]tf"):
            found = sorted(glob.glob(str(base / pattern), recursive=True))
            regular = [f for f in found if "Regular" in f or "[" in f] or found
            if regular:
                return Path(regular[0])
    return None


def font_url() -> str:
    """The vendored font's file URL for an @font-face rule ('' when the system's font is used
    by name). Raises RuntimeError, in Chinese, when there is none."""
    font = cjk_font_file()
    if font is None:
        raise RuntimeError(MISSING_FONT)
    return font.as_uri() if font_dirs()[0] in font.parents else ""
