"""The school's phone (学校电话), printed on letters to families: set on the school's page by
whoever manages the school, normalised, refused in plain Chinese when it is no phone."""

from django.contrib.messages import get_messages
from django.urls import reverse

from guanai.org.models import School


def flash(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_leader_sets_the_school_phone_others_cannot(client, users, cast):
    url = reverse("org:school_phone", args=["HS-ZX"])
    client.force_login(users["zx_leader"])
    page = client.get(reverse("org:school", args=["HS-ZX"])).content.decode()
    assert 'id="school-phone"' in page and "学校电话" in page
    response = client.post(url, {"phone": "(0731)5551234"})
    assert response.status_code == 302
    assert School.objects.get(code="HS-ZX").phone == "0731-5551234"
    assert "虎山镇中心小学 的电话已改为 0731-5551234" in flash(response)
    for name in ("bq_leader", "inspector", "zx_teacher31", "proxy_wang"):
        client.force_login(users[name])
        assert client.post(url, {"phone": "13800000000"}).status_code == 404
    assert School.objects.get(code="HS-ZX").phone == "0731-5551234"


def test_a_phone_that_is_no_phone_is_refused_naming_it(client, users, cast):
    client.force_login(users["town"])
    response = client.post(reverse("org:school_phone", args=["HS-ZX"]), {"phone": "5551234"})
    assert "不是 11 位手机号，也不是带区号的座机号" in flash(response)
    assert School.objects.get(code="HS-ZX").phone == ""
