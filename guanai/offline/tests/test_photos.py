"""POST /api/v1/offline/contacts/{id}/photos (issue #18): a visit's photo sent from the
phone's outbox after the visit was created — only with the card's photo consent, checked like
the web form's photos, idempotent on its Idempotency-Key, and only for the author's own
contacts of children in scope."""

import io

import pytest
from PIL import Image

from guanai.children.models import Child
from guanai.contacts.models import ContactPhoto
from guanai.contacts.tests.helpers import add_contact
from guanai.offline.models import PhotoReceipt


def jpeg(size=(1600, 1200), color=(10, 120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", quality=80)
    return out.getvalue()


def upload(data: bytes, name: str = "photo.jpg") -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


@pytest.fixture
def visit(client, cast):
    """A home visit the class teacher logged for 张三, whose guardian agreed to photos."""
    kids, users = cast["children"], cast["users"]
    Child.objects.filter(pk=kids["c31a"].pk).update(photo_consent=True)
    client.force_login(users["zx_teacher31"])
    return add_contact(kids["c31a"], users["zx_teacher31"], kind="home_visit")


def send(client, contact_id, data, *, key="k-1", name="photo.jpg"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        f"/api/v1/offline/contacts/{contact_id}/photos",
        {"photo": upload(data, name)},
        headers=headers,
    )


def messages(response):
    return [d["msg"] for d in response.json()["detail"]]


def test_photo_is_stored_with_the_visit(client, cast, visit):
    response = send(client, visit.pk, jpeg())
    assert response.status_code == 201
    photo = ContactPhoto.objects.get()
    assert response.json() == {"id": photo.pk, "contact": visit.pk}
    assert photo.contact == visit and photo.file.name.endswith(".jpg")
    with photo.file.open("rb") as f:
        assert Image.open(f).size == (1600, 1200)


def test_a_resend_with_the_same_key_never_duplicates_the_photo(client, cast, visit):
    data = jpeg()
    first = send(client, visit.pk, data, key="same")
    again = send(client, visit.pk, data, key="same")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert ContactPhoto.objects.count() == 1 and PhotoReceipt.objects.count() == 1
    # Another photo under a new key is a second photo.
    assert send(client, visit.pk, jpeg(color=(200, 0, 0)), key="other").status_code == 201
    assert ContactPhoto.objects.count() == 2


def test_the_same_key_for_another_photo_is_a_conflict(client, cast, visit):
    assert send(client, visit.pk, jpeg(), key="same").status_code == 201
    response = send(client, visit.pk, jpeg(color=(0, 0, 200)), key="same")
    assert response.status_code == 409
    assert "另一张照片" in response.json()["detail"]
    assert ContactPhoto.objects.count() == 1


def test_the_key_of_the_same_user_only(client, cast, visit):
    """Two teachers' phones may well make the same key: each has her own."""
    kids, users = cast["children"], cast["users"]
    assert send(client, visit.pk, jpeg(), key="same").status_code == 201
    client.force_login(users["zx_leader"])
    leaders = add_contact(kids["c31a"], users["zx_leader"], kind="home_visit")
    assert send(client, leaders.pk, jpeg(), key="same").status_code == 201
    assert ContactPhoto.objects.count() == 2


def test_a_file_that_is_not_an_image_is_refused_with_the_reason(client, cast, visit):
    response = send(client, visit.pk, b"<html><script>alert(1)</script></html>", name="a.jpg")
    assert response.status_code == 422
    assert any("不是 JPG 或 PNG 照片" in m for m in messages(response))
    assert not ContactPhoto.objects.exists()


def test_a_photo_over_5_mb_is_refused(client, cast, visit):
    response = send(client, visit.pk, jpeg()[:3] + b"\0" * (5 * 1024 * 1024 + 1))
    assert response.status_code == 422
    assert any("超过 5 MB" in m for m in messages(response))
    assert not ContactPhoto.objects.exists()


def test_a_child_without_photo_consent_is_refused_with_the_reason(client, cast, visit):
    Child.objects.filter(pk=visit.child_id).update(photo_consent=False)
    response = send(client, visit.pk, jpeg())
    assert response.status_code == 422
    assert messages(response) == ["照片：档卡上没有监护人同意使用照片的记录，不能上传照片"]
    assert not ContactPhoto.objects.exists() and not PhotoReceipt.objects.exists()


def test_without_an_idempotency_key_is_refused(client, cast, visit):
    response = send(client, visit.pk, jpeg(), key="")
    assert response.status_code == 422
    assert any("Idempotency-Key" in m for m in messages(response))


def test_a_missing_file_is_422(client, cast, visit):
    response = client.post(
        f"/api/v1/offline/contacts/{visit.pk}/photos", {}, headers={"Idempotency-Key": "x"}
    )
    assert response.status_code == 422


def test_a_contact_out_of_scope_is_not_found(client, cast, visit):
    kids, users = cast["children"], cast["users"]
    elsewhere = add_contact(kids["bq31a"], users["bq_leader"], kind="home_visit")
    Child.objects.filter(pk=kids["bq31a"].pk).update(photo_consent=True)
    assert send(client, elsewhere.pk, jpeg()).status_code == 404
    assert send(client, 999_999, jpeg()).status_code == 404
    # Out of scope comes before the body: a bad file still answers 404.
    assert send(client, elsewhere.pk, b"not an image").status_code == 404
    assert not ContactPhoto.objects.exists()


def test_somebody_elses_visit_is_not_found(client, cast, visit):
    """Photos are added by whoever logged the visit, from her phone's outbox."""
    client.force_login(cast["users"]["zx_leader"])
    assert send(client, visit.pk, jpeg()).status_code == 404


def test_a_child_who_moved_out_of_the_class_is_not_found(client, cast, visit):
    Child.objects.filter(pk=visit.child_id).update(school_class=cast["classes"]["c32"])
    assert send(client, visit.pk, jpeg()).status_code == 404


def test_read_only_role_is_refused_before_anything(client, cast, visit):
    client.force_login(cast["users"]["inspector"])
    assert send(client, visit.pk, jpeg()).status_code == 403
    assert send(client, visit.pk, b"not an image").status_code == 403


def test_no_login_is_401(client, cast, visit):
    client.logout()
    assert send(client, visit.pk, jpeg()).status_code == 401
