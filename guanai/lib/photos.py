"""Visit photos as the app stores them: decoded and re-encoded, never the bytes that came in.

An upload is only trusted once Pillow has decoded it as a JPEG or PNG. Re-encoding drops
anything riding along with the pixels (an HTML page behind a PNG signature, EXIF with the
family's GPS position), and the stored name comes from the result, never from the upload.
"""

import io
from dataclasses import dataclass
from typing import BinaryIO

from PIL import Image, ImageOps, UnidentifiedImageError

# A phone photo is 12–50 megapixels; refuse more before decoding, so a small file that
# unpacks into gigabytes (a decompression bomb) never reaches memory.
MAX_PIXELS = 40_000_000
# Long side of the stored photo: plenty for a timeline and a printed card, and a few hundred KB.
MAX_SIDE = 2000
JPEG_QUALITY = 85
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png"}


class PhotoError(ValueError):
    """An upload that is not a photo the app can store; the message is for the teacher."""


@dataclass(frozen=True)
class Photo:
    data: bytes
    ext: str  # "jpg" or "png", a key of CONTENT_TYPES


def reencode_photo(source: BinaryIO, *, name: str = "") -> Photo:
    """Decode `source` as a JPEG or PNG and re-encode it: EXIF orientation applied, then EXIF
    and every other metadata dropped, scaled to at most MAX_SIDE pixels on the long side.
    Transparency keeps PNG; everything else becomes JPEG. Raises PhotoError."""
    label = f"“{name[:40]}”" if name else ""
    try:
        with Image.open(source, formats=["JPEG", "PNG"]) as img:
            width, height = img.size
            if width * height > MAX_PIXELS:
                raise PhotoError(
                    f"照片{label}太大（{width}×{height} 像素），请不要超过 4000 万像素"
                )
            img.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEG decodes at a reduced scale
            img.load()
            upright = ImageOps.exif_transpose(img)
    except PhotoError:
        raise
    except Image.DecompressionBombError as exc:
        raise PhotoError(f"照片{label}太大，请不要超过 4000 万像素") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(f"照片{label}不是 JPG 或 PNG 照片，或者文件已损坏") from exc
    alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    # A fresh image carries pixels only: no EXIF, ICC, text chunks or comments.
    pixels = upright.convert("RGBA" if alpha else "RGB")
    clean = Image.new(pixels.mode, pixels.size)
    clean.paste(pixels)
    clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if alpha:
        clean.save(out, "PNG", optimize=True)
        return Photo(out.getvalue(), "png")
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return Photo(out.getvalue(), "jpg")
