"""A children's home's rota (值班表): the school's staff on duty by day and time slot, shown at
the door and on the rota page, and recorded on each sign-in. The suite's clock: Sunday
2026-11-29 10:00 Shanghai."""

import datetime as dt

import pytest

from guanai.activities import homes
from guanai.activities.models import HomeDuty, HomeVisit
from guanai.lib.errors import Invalid

from .conftest import ALL, MANAGE_ZX, READ_ZX, client_for

URL = "/api/v1/homes"
TODAY = dt.date(2026, 11, 29)


@pytest.fixture
def home(cast):
    return homes.create_home(
        school=cast["schools"]["zx"],
        values={"name": "中心小学留守儿童之家"},
        by=cast["users"]["zx_leader"],
    )


def duty(home, staff, by, on=TODAY, starts_at="09:00", ends_at="12:00"):
    values = {"on": on, "starts_at": starts_at, "ends_at": ends_at, "staff": staff.pk}
    return homes.add_duty(home=home, values=values, by=by)


def test_the_person_on_duty_is_shown_at_the_door_and_recorded_on_sign_ins(users, kids, home):
    duty(home, users["zx_teacher31"], users["zx_leader"])
    duty(home, users["zx_counselor"], users["zx_leader"], starts_at="14:00", ends_at="17:00")
    assert [d.staff for d in homes.on_duty(home)] == [users["zx_teacher31"]]
    c = client_for(users["zx_grade3"])
    door = c.get(f"/activities/homes/{home.pk}/").content.decode()
    assert "现在值班：<strong>王老师</strong>（09:00–12:00）" in door
    c.post(f"/activities/homes/{home.pk}/sign/", {"child": kids["c31a"].pk})
    visit = HomeVisit.objects.get()
    assert visit.on_duty == users["zx_teacher31"] and visit.by == users["zx_grade3"]
    assert "值班 王老师" in c.get(f"/activities/homes/{home.pk}/").content.decode()
    r = c.post(
        f"{URL}/{home.pk}/visits", {"child": kids["c32a"].pk}, content_type="application/json"
    )
    assert r.status_code == 201 and r.json()["on_duty"] == "王老师"


@pytest.mark.clock("2026-11-29 18:30")
def test_nobody_on_duty(users, kids, home):
    duty(home, users["zx_teacher31"], users["zx_leader"])
    door = client_for(users["zx_leader"]).get(f"/activities/homes/{home.pk}/").content.decode()
    assert "现在没有人值班" in door
    visit, _ = homes.sign_in(home=home, child=kids["c31a"], by=users["zx_leader"])
    assert visit.on_duty is None


def test_the_rota_page(users, home):
    c = client_for(users["zx_leader"])
    page = c.get(f"/activities/homes/{home.pk}/rota/").content.decode()
    assert "今后两周还没有安排值班" in page and "周老师" in page  # the staff to choose from
    assert "王叔叔" not in page  # a proxy parent is not the school's staff
    body = {
        "staff": users["zx_counselor"].pk,
        "on": "2026-11-30",
        "starts_at": "16:00",
        "ends_at": "18:00",
    }
    r = c.post(f"/activities/homes/{home.pk}/rota/", body, follow=True)
    assert "已安排 周老师 11月30日 16:00–18:00 值班" in r.content.decode()
    again = c.post(
        f"/activities/homes/{home.pk}/rota/", body | {"starts_at": "17:00", "ends_at": "19:00"}
    )
    assert "周老师 这一天的这个时段已经在值班表上" in again.content.decode()
    item = HomeDuty.objects.get()
    reader = client_for(users["zx_teacher31"]).get(f"/activities/homes/{home.pk}/rota/")
    assert "周老师" in reader.content.decode() and "安排值班" not in reader.content.decode()
    assert (
        client_for(users["zx_teacher31"])
        .post(f"/activities/homes/{home.pk}/rota/", body)
        .status_code
        == 403
    )
    c.post(f"/activities/homes/{home.pk}/rota/", {"remove": item.pk})
    assert not HomeDuty.objects.exists()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"on": ""}, "on", "请填写值班日期"),
        ({"on": "2026-13-01"}, "on", None),
        ({"starts_at": "9点"}, "starts_at", "时间格式应为 08:30"),
        ({"ends_at": ""}, "ends_at", "请填写结束时间"),
        ({"starts_at": "12:00", "ends_at": "09:00"}, "ends_at", "结束时间应晚于开始时间"),
        ({"staff": ""}, "staff", "请选择值班人员"),
        ({"staff": "abc"}, "staff", "值班人员应为虎山镇中心小学的教职工"),
    ],
)
def test_rota_bad_input(users, home, values, field, message):
    data = {
        "on": "2026-11-30",
        "starts_at": "09:00",
        "ends_at": "12:00",
        "staff": users["zx_teacher31"].pk,
    }
    with pytest.raises(Invalid) as exc:
        homes.add_duty(home=home, values=data | values, by=users["zx_leader"])
    assert field in exc.value.errors
    if message:
        assert exc.value.errors[field] == message


def test_only_the_schools_staff_go_on_the_rota(users, home):
    for outsider in ("bq_leader", "proxy_wang", "town", "inspector"):
        with pytest.raises(Invalid) as exc:
            duty(home, users[outsider], users["zx_leader"])
        assert "教职工" in exc.value.errors["staff"]


@pytest.mark.parametrize("who", sorted(ALL))
def test_rota_api_follows_the_school(who, users, home):
    duty(home, users["zx_teacher31"], users["zx_leader"])
    c = client_for(users[who])
    r = c.get(f"{URL}/{home.pk}/duties")
    if who in READ_ZX:
        assert r.status_code == 200 and [d["staff_name"] for d in r.json()] == ["王老师"]
    else:
        assert r.status_code == 404
    body = {"on": "2026-11-30", "starts_at": "16:00", "ends_at": "18:00", "staff": "zx_counselor"}
    r = c.post(f"{URL}/{home.pk}/duties", body, content_type="application/json")
    if who in MANAGE_ZX:
        assert r.status_code == 201 and r.json()["staff"] == "zx_counselor"
    elif who in READ_ZX:
        assert r.status_code == 403
    else:
        assert r.status_code == 404


def test_rota_api_bad_input(users, home):
    c = client_for(users["zx_leader"])
    body = {"on": "2026-11-30", "starts_at": "16:00", "ends_at": "15:00", "staff": "bq_leader"}
    r = c.post(f"{URL}/{home.pk}/duties", body, content_type="application/json")
    assert r.status_code == 422
    found = {d["field"]: d["msg"] for d in r.json()["detail"]}
    assert set(found) == {"ends_at", "staff"}
    assert c.get(f"{URL}/{home.pk}/duties?days=0").status_code == 422
