"""Visit photos are decoded and re-encoded: only pixels survive, bounded in size."""

import io

import pytest
from PIL import Image, ImageFile

from guanai.lib import photos
from guanai.lib.photos import PhotoError, reencode_photo

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def image_bytes(size=(60, 40), mode="RGB", fmt="PNG", exif=None, **save) -> io.BytesIO:
    img = Image.new(mode, size, (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30))
    out = io.BytesIO()
    img.save(out, fmt, **({"exif": exif} if exif is not None else {}), **save)
    out.seek(0)
    return out


def gps_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (26.0, 35.0, 10.0), 3: "E", 4: (111.0, 51.0, 5.0)})
    return exif


def test_html_behind_a_png_signature_is_refused():
    fake = io.BytesIO(b"\x89PNG\r\n\x1a\n<script>fetch('/api/v1/children')</script>")
    with pytest.raises(PhotoError, match="照片“visit.html”不是 JPG 或 PNG"):
        reencode_photo(fake, name="visit.html")


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "WEBP"])
def test_only_jpeg_and_png_decoders_are_tried(fmt):
    with pytest.raises(PhotoError, match="不是 JPG 或 PNG"):
        reencode_photo(image_bytes(fmt=fmt), name=f"a.{fmt.lower()}")


def test_truncated_jpeg_is_refused(monkeypatch):
    # WeasyPrint turns this on for the whole process when it is imported (letters); then a
    # truncated photo is stored as the part that decoded, still only re-encoded pixels.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False)
    data = image_bytes(size=(400, 300), fmt="JPEG").getvalue()
    with pytest.raises(PhotoError, match="损坏"):
        reencode_photo(io.BytesIO(data[: len(data) // 2]))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_gps_exif_does_not_survive(fmt):
    source = image_bytes(fmt=fmt, exif=gps_exif())
    assert b"PhoneMaker" in source.getvalue()  # the test image really carries EXIF
    photo = reencode_photo(source)
    assert photo.ext == "jpg"
    assert b"PhoneMaker" not in photo.data and b"Exif" not in photo.data
    stored = Image.open(io.BytesIO(photo.data))
    assert stored.format == "JPEG" and not stored.getexif() and "exif" not in stored.info


def test_exif_orientation_is_applied_before_it_is_dropped():
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # the phone was held upright: rotate 90° clockwise to view
    photo = reencode_photo(image_bytes(size=(200, 100), fmt="JPEG", exif=exif))
    assert Image.open(io.BytesIO(photo.data)).size == (100, 200)


def test_transparency_keeps_png():
    photo = reencode_photo(image_bytes(mode="RGBA"))
    stored = Image.open(io.BytesIO(photo.data))
    assert photo.ext == "png" and stored.format == "PNG" and stored.mode == "RGBA"


def test_scaled_down_to_the_long_side():
    photo = reencode_photo(image_bytes(size=(3000, 1000), fmt="JPEG"))
    assert Image.open(io.BytesIO(photo.data)).size == (2000, 667)


def test_too_many_pixels_is_refused_before_decoding(monkeypatch):
    monkeypatch.setattr(photos, "MAX_PIXELS", 100 * 100)
    with pytest.raises(PhotoError, match="太大（101×100 像素）"):
        reencode_photo(image_bytes(size=(101, 100)))


def test_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 50)  # Pillow refuses past twice this
    with pytest.raises(PhotoError, match="太大"):
        reencode_photo(image_bytes(size=(20, 20)))
