"""Visit photos (security issue #10): an upload is stored as an image the app re-encoded,
under a generated name, and served as that image type only, never as a page."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from guanai.children.models import Child
from guanai.contacts.models import Contact, ContactPhoto

from .helpers import add_contact
from .test_pages import form_data

HTML_BEHIND_PNG = b"\x89PNG\r\n\x1a\n<script>fetch('/api/v1/children')</script>"


@pytest.fixture
def teacher(client, cast):
    Child.objects.filter(pk=cast["children"]["c31a"].pk).update(photo_consent=True)
    client.force_login(cast["users"]["zx_teacher31"])
    return cast["users"]["zx_teacher31"]


def upload(data: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


def png_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825).update({1: "N", 2: (26.0, 35.0, 10.0), 3: "E", 4: (111.0, 51.0, 5.0)})
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 40)).save(out, "PNG", exif=exif)
    return out.getvalue()


def post(client, cast, photos):
    child = cast["children"]["c31a"]
    return client.post(reverse("contacts:new"), form_data(child, photos=photos))


def test_html_named_file_behind_a_png_signature_is_refused(client, cast, teacher):
    response = post(client, cast, upload(HTML_BEHIND_PNG, "visit.html"))
    assert response.status_code == 200
    assert not Contact.objects.exists() and not ContactPhoto.objects.exists()
    assert "照片“visit.html”不是 JPG 或 PNG 照片" in response.content.decode()


def test_bogus_image_is_refused_naming_the_photo_field(client, cast, teacher):
    response = post(client, cast, upload(b"\xff\xd8\xff" + b"\x00" * 200, "visit.jpg"))
    assert response.status_code == 200 and not Contact.objects.exists()
    assert "照片“visit.jpg”不是 JPG 或 PNG 照片，或者文件已损坏" in response.content.decode()


def test_png_with_gps_is_stored_reencoded_without_exif_under_a_new_name(client, cast, teacher):
    response = post(client, cast, upload(png_with_gps(), "张小明家.png"))
    assert response.status_code == 302
    item = ContactPhoto.objects.get()
    assert item.file.name.endswith(".jpg") and "张小明" not in item.file.name
    served = client.get(reverse("contacts:photo", args=[item.pk]))
    body = b"".join(served.streaming_content)
    assert b"PhoneMaker" not in body and b"Exif" not in body
    assert not Image.open(io.BytesIO(body)).getexif()
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"] == f'inline; filename="photo-{item.pk}.jpg"'
    assert served["Cache-Control"] == "no-store, private"


def test_transparent_png_is_served_as_png(client, cast, teacher):
    out = io.BytesIO()
    Image.new("RGBA", (30, 30), (0, 0, 0, 0)).save(out, "PNG")
    assert post(client, cast, upload(out.getvalue(), "sign.png")).status_code == 302
    item = ContactPhoto.objects.get()
    served = client.get(reverse("contacts:photo", args=[item.pk]))
    assert item.file.name.endswith(".png") and served["Content-Type"] == "image/png"


def test_photo_stored_before_reencoding_is_only_a_download(client, cast, teacher):
    contact = add_contact(cast["children"]["c31a"], teacher)
    # as the code before re-encoding stored it: the uploaded bytes and extension
    name = default_storage.save(
        f"contacts/{contact.child_id}/0123abcd.html", ContentFile(HTML_BEHIND_PNG)
    )
    item = ContactPhoto.objects.create(contact=contact, file=name)
    served = client.get(reverse("contacts:photo", args=[item.pk]))
    assert served["Content-Type"] == "application/octet-stream"
    assert served["Content-Disposition"].startswith("attachment;")
    assert served["X-Content-Type-Options"] == "nosniff"
