"""/api/v1/activities/{id}/photos (upload only with the guardian's photo consent, list and
download in scope) and publicity items (宣传) with their count per term."""

import pytest

from guanai.activities import services
from guanai.activities.models import ActivityPhoto, PublicityItem
from guanai.children.models import Child
from guanai.lib.errors import Invalid

from .conftest import ALL, MANAGE_ZX, READ_ZX, client_for
from .test_pages import _upload

URL = "/api/v1/activities"


def post_photo(client, activity, child, upload=None):
    return client.post(
        f"{URL}/{activity.pk}/photos", {"child": child.pk, "photo": upload or _upload()}
    )


def test_a_photo_is_uploaded_listed_and_downloaded(users, kids, acts):
    Child.objects.filter(pk=kids["c31a"].pk).update(photo_consent=True)
    c = client_for(users["zx_teacher31"])
    r = post_photo(c, acts["camp"], kids["c31a"])
    assert r.status_code == 201, r.content
    photo = r.json()
    assert photo["name"] == "张三" and photo["url"] == f"{URL}/photos/{photo['id']}"
    assert [p["id"] for p in c.get(f"{URL}/{acts['camp'].pk}/photos").json()] == [photo["id"]]
    got = c.get(photo["url"])
    assert got.status_code == 200 and got["Content-Type"] in ("image/jpeg", "image/png")
    assert got["X-Content-Type-Options"] == "nosniff"
    assert b"".join(got.streaming_content)[:4] in (
        b"\x89PNG",
        b"\xff\xd8\xff\xe0",
        b"\xff\xd8\xff\xdb",
    )


def test_a_child_without_photo_consent_is_refused_with_the_reason(users, kids, acts):
    Child.objects.filter(pk=kids["c31a"].pk).update(photo_consent=False)
    r = post_photo(client_for(users["zx_leader"]), acts["camp"], kids["c31a"])
    assert r.status_code == 422
    detail = {d["field"]: d["msg"] for d in r.json()["detail"]}
    assert "档卡上没有监护人同意使用照片的记录，不能上传照片" in detail["photos"]
    assert not ActivityPhoto.objects.exists()


def test_photo_upload_bad_input(users, kids, acts):
    Child.objects.filter(pk__in=[kids["c31a"].pk, kids["c31b"].pk]).update(photo_consent=True)
    c = client_for(users["zx_leader"])
    r = post_photo(c, acts["camp"], kids["c31a"], _upload("x.png", b"<html>"))
    assert r.status_code == 422 and "不是 JPG 或 PNG 照片" in r.json()["detail"][0]["msg"]
    r = post_photo(c, acts["camp"], kids["c31b"])  # not on the camp's list
    assert r.status_code == 422 and "这名儿童不在活动名单上" in r.json()["detail"][0]["msg"]
    r = c.post(f"{URL}/{acts['camp'].pk}/photos", {"child": "abc", "photo": _upload()})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "child"
    r = c.post(f"{URL}/{acts['camp'].pk}/photos", {"child": kids["c31a"].pk})
    assert r.status_code == 422  # no file
    assert not ActivityPhoto.objects.exists()


@pytest.mark.parametrize("who", sorted(ALL))
def test_photos_follow_the_scope(who, users, kids, acts):
    Child.objects.filter(pk=kids["c31a"].pk).update(photo_consent=True)
    kids["c31a"].refresh_from_db()
    photo = services.add_photo(
        activity=acts["camp"], child=kids["c31a"], upload=_upload(), by=users["zx_leader"]
    )
    c = client_for(users[who])
    listed = c.get(f"{URL}/{acts['camp'].pk}/photos")
    download = c.get(f"{URL}/photos/{photo.pk}")
    upload = post_photo(c, acts["camp"], kids["c31a"])
    if who in READ_ZX:  # they see the camp and 张三
        assert listed.status_code == 200 and len(listed.json()) == 1
        assert download.status_code == 200
    elif who == "proxy_wang":  # not on the camp's list … but his 张三 is: he sees the activity
        assert listed.status_code == 200 and download.status_code == 200
    else:
        assert listed.status_code == 404 and download.status_code == 404
    if who == "inspector":
        assert upload.status_code == 403
    elif who == "bq_leader":
        assert upload.status_code == 404
    elif who == "proxy_wang":
        assert upload.status_code == 403  # not at a proxy-parent activity
    else:
        assert upload.status_code == 201


# --- publicity --------------------------------------------------------------------------------


def test_publicity_is_counted_per_term_and_scope(users, acts):
    leader = users["zx_leader"]
    services.issue_publicity(activity=acts["camp"], values={"channel": "wechat"}, by=leader)
    services.issue_publicity(
        activity=acts["camp"], values={"channel": "wall", "issued_on": "2026-11-25"}, by=leader
    )
    services.issue_publicity(activity=acts["bq"], values={"channel": "news"}, by=users["bq_leader"])
    term = "2026-2027-1"
    assert services.publicity_count(leader, term=term) == 2
    assert services.publicity_count(users["bq_leader"], term=term) == 1
    assert services.publicity_count(users["town"], term=term) == 3
    assert services.publicity_count(users["zx_teacher31"], term=term) == 2
    assert services.publicity_count(users["proxy_wang"], term=term) == 0
    assert services.publicity_count(None, term=term) == 3
    assert services.publicity_count(None, term=term, school_ids=[acts["bq"].school_id]) == 1
    assert services.publicity_count(leader, term="2025-2026-2") == 0
    page = client_for(leader).get("/activities/").content.decode()
    assert "2026—2027学年第一学期已发布宣传稿 2 篇" in page


def test_publicity_bad_term():
    from guanai.lib.dates import DateError

    with pytest.raises(DateError):
        services.publicity_count(None, term="2026")


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"channel": "tv"}, "channel"),
        ({}, "channel"),
        ({"channel": "news", "issued_on": "2026-12-25"}, "issued_on"),  # after today
        ({"channel": "news", "issued_on": "2026-11-01"}, "issued_on"),  # before the activity
        ({"channel": "news", "issued_on": "昨天"}, "issued_on"),
    ],
)
def test_publicity_bad_input(users, acts, values, field):
    with pytest.raises(Invalid) as exc:
        services.issue_publicity(activity=acts["camp"], values=values, by=users["zx_leader"])
    assert field in exc.value.errors


@pytest.mark.parametrize("who", sorted(ALL))
def test_issuing_publicity_is_for_the_schools_managers(who, users, acts):
    c = client_for(users[who])
    r = c.post(
        f"{URL}/{acts['camp'].pk}/publicity", {"channel": "wechat"}, content_type="application/json"
    )
    page = c.post(f"/activities/{acts['camp'].pk}/publicity/", {"channel": "wall"})
    if who in MANAGE_ZX:
        assert r.status_code == 201 and r.json()["channel_label"] == "公众号"
        assert page.status_code == 302
        assert PublicityItem.objects.count() == 2
    elif who in READ_ZX or who == "proxy_wang":
        assert r.status_code == 403 and page.status_code == 403
    else:
        assert r.status_code == 404 and page.status_code == 404


def test_the_publicity_page_lists_where_it_was_issued(users, acts):
    c = client_for(users["zx_leader"])
    page = c.get(f"/activities/{acts['camp'].pk}/publicity/").content.decode()
    assert "还没有发布记录" in page
    r = c.post(f"/activities/{acts['camp'].pk}/publicity/", {"channel": ""})
    assert "应为 新闻稿、校园宣传栏、公众号、其他" in r.content.decode()
    r = c.post(f"/activities/{acts['camp'].pk}/publicity/", {"channel": "wall"}, follow=True)
    assert "已记下：校园宣传栏发布" in r.content.decode()
