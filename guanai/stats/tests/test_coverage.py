"""The dashboard's coverage panels (本学期工作覆盖): the numbers the feature pages show."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from guanai.accounts.models import AccessLog
from guanai.contacts.models import Contact
from guanai.pairing.models import Pair
from guanai.screening.models import (
    CardVerification,
    ScreeningCampaign,
    ScreeningRecord,
    VerificationRound,
)
from guanai.testing import assert_scoped

SH = ZoneInfo("Asia/Shanghai")
URL = "/stats/"
READERS = ["town", "inspector", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"]
PANELS = ("cov_screening", "cov_verification", "cov_visits", "cov_due", "cov_pairing", "cov_proxy")


@pytest.fixture
def work(cast):
    """This term's work at 中心小学 and 板桥小学: a screening of 3 children, a verification
    round with one card verified, a home visit, a pair; the cast's proxy parent holds two."""
    kids, users = cast["children"], cast["users"]
    zx, bq = cast["schools"]["zx"], cast["schools"]["bq"]
    teacher = users["zx_teacher31"]
    campaign = ScreeningCampaign.objects.create(school=zx, term="2026-2027-1")
    for key in ("c31a", "c31b", "c41a"):
        ScreeningRecord.objects.create(
            campaign=campaign, child=kids[key], outcome="marked", category=kids[key].category
        )
    bq_campaign = ScreeningCampaign.objects.create(school=bq, term="2026-2027-1")
    ScreeningRecord.objects.create(
        campaign=bq_campaign, child=kids["bq31a"], outcome="marked", category="double"
    )
    ScreeningCampaign.objects.create(school=zx, term="2025-2026-2")  # last term: not counted
    rnd = VerificationRound.objects.create(
        school=zx, term="2026-2027-1", vacation="winter", deadline=dt.date(2027, 1, 20)
    )
    CardVerification.objects.create(round=rnd, child=kids["c31a"], result="confirmed")
    Contact.objects.create(
        child=kids["c31a"], by=teacher, kind="home_visit", at=dt.datetime(2026, 10, 8, tzinfo=SH)
    )
    Contact.objects.create(  # last term: not this term's 普访
        child=kids["c32a"], by=teacher, kind="home_visit", at=dt.datetime(2026, 6, 8, tzinfo=SH)
    )
    Pair.objects.create(
        child=kids["c31b"],
        buddy=kids["c41a"],
        school=zx,
        status="active",
        cost=1.0,
        age_gap_days=300,
        accepted_at=dt.datetime(2026, 10, 10, tzinfo=SH),
    )
    return cast


def panels(client, user, query=""):
    client.force_login(user)
    response = client.get(URL + query)
    assert response.status_code == 200
    return {t.key: t for t in response.context["panels"]}


def total_row(table):
    return table.plain_rows()[-1]


def test_town_sees_a_row_per_school(client, users, work):
    got = panels(client, users["town"])
    assert set(PANELS) <= set(got)
    screening = got["cov_screening"].plain_rows()
    assert screening[0][:3] == ["虎山镇中心小学", 3, 4]
    assert ["板桥小学", 1, 1, "100.0%", 0] in screening
    assert total_row(got["cov_screening"])[:3] == ["合计", 4, 5]
    assert "古田小学" in got["cov_screening"].note  # no campaign this term: said, not hidden
    assert total_row(got["cov_verification"])[:3] == ["合计", 1, 4]
    assert total_row(got["cov_visits"])[:3] == ["合计", 1, 5]  # 5 left-behind in the town
    assert total_row(got["cov_pairing"])[:3] == ["合计", 1, 5]
    assert total_row(got["cov_proxy"])[:3] == ["合计", 2, 5]


def test_school_level_has_a_row_per_class(client, users, work):
    got = panels(client, users["zx_leader"], "?school=HS-ZX")
    rows = got["cov_screening"].plain_rows()
    assert [r[0] for r in rows] == ["三年级(1)班", "三年级(2)班", "四年级(1)班", "合计"]
    assert rows[0][1:3] == [2, 2] and rows[1][1:3] == [0, 1]
    html = client.get(URL + "?school=HS-ZX").content.decode()
    assert 'id="chart-cov_screening"' in html and "本学期工作覆盖" in html


def test_a_class_teacher_sees_her_class_only(client, users, work):
    got = panels(client, users["zx_teacher31"])
    assert [r[0] for r in got["cov_screening"].plain_rows()] == ["三年级(1)班", "合计"]
    assert total_row(got["cov_visits"])[:3] == ["合计", 1, 2]


def _feature_numbers(client, user) -> dict[str, tuple[int, int]]:
    """What the feature pages show the user today."""
    client.force_login(user)
    out = {}
    done = total = 0
    for c in ScreeningCampaign.objects.visible_to(user).filter(term="2026-2027-1"):
        progress = client.get(f"/screening/campaigns/{c.pk}/").context["progress"]
        done, total = done + progress["done"], total + progress["total"]
    out["cov_screening"] = (done, total)
    done = total = 0
    for r in VerificationRound.objects.visible_to(user).filter(term="2026-2027-1"):
        progress = client.get(f"/screening/verification/{r.pk}/").context["progress"]
        done, total = done + progress["done"], total + progress["total"]
    out["cov_verification"] = (done, total)
    ctx = client.get("/contacts/coverage/?round=custom&left_behind=1").context
    out["cov_visits"] = (ctx["visited"], ctx["total"])
    out["cov_due"] = (client.get("/contacts/due/").context["children_count"], None)
    return out


@pytest.mark.parametrize("role", READERS)
def test_numbers_equal_the_feature_pages(client, users, work, role):
    from guanai.children.models import Child
    from guanai.pairing.proxies import current_assignments

    user = users[role]
    got = panels(client, user)
    expected = _feature_numbers(client, user)
    for key, (done, total) in expected.items():
        row = total_row(got[key])
        assert row[1] == done, (role, key, row)
        if total is not None:
            assert row[2] == total, (role, key, row)
    seen = Child.objects.visible_to(user).filter(
        enrolment="enrolled", category__in=("single", "double")
    )
    paired = Pair.objects.visible_to(user).active().filter(child__in=seen)
    assert total_row(got["cov_pairing"])[1:3] == [
        paired.values("child").distinct().count(),
        seen.count(),
    ]
    proxied = current_assignments().filter(child__in=seen).values("child").distinct().count()
    assert total_row(got["cov_proxy"])[1:3] == [proxied, seen.count()]


def test_panels_are_exported_and_logged(client, users, work):
    client.force_login(users["zx_leader"])
    response = client.get(URL + "?school=HS-ZX&export=cov_visits")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[1][:3] == ["班级", "已家访", "留守儿童"]
    assert ["合计", 1, 3, "33.3%", 2] in values
    assert AccessLog.objects.filter(user=users["zx_leader"], detail__contains="普访").exists()


def test_panels_and_their_exports_stay_in_scope(client, users, work):
    assert_scoped(
        client,
        users,
        lambda n: URL + "?school=HS-ZX&export=cov_pairing",
        allowed={"town", "zx_leader"},
        denied={"bq_leader"},
    )
    got = panels(client, users["bq_leader"])
    names = [r[0] for r in got["cov_screening"].plain_rows()]
    assert names == ["三年级(1)班", "合计"]
    assert total_row(got["cov_screening"])[1:3] == [1, 1]


def test_a_past_date_shows_no_coverage_panels(client, users, work):
    client.force_login(users["town"])
    response = client.get(URL + "?as_of=2026-10-01")
    assert response.context["panels"] == []
    assert client.get(URL + "?as_of=2026-10-01&export=cov_due").status_code == 404


def test_an_unknown_panel_or_school_is_not_found(client, users, work):
    client.force_login(users["town"])
    assert client.get(URL + "?export=cov_nothing").status_code == 404
    assert client.get(URL + "?school=NO-SUCH&export=cov_due").status_code == 404


def test_a_large_scope_computes_the_panels_when_asked(client, users, work, monkeypatch):
    monkeypatch.setattr("guanai.stats.views.INLINE_LIMIT", 5)
    client.force_login(users["town"])
    response = client.get(URL)
    assert response.context["panels"] == [] and response.context["trend"] == []
    html = response.content.decode()
    assert 'href="?&amp;coverage=1#coverage"' in html and "计算本学期工作覆盖和学期趋势" in html
    # the page fetches them itself right after it is shown (htmx), the button stays for a
    # phone without JavaScript
    assert 'hx-get="?&amp;coverage=1&amp;part=coverage" hx-trigger="load"' in html
    assert "{#" not in html
    response = client.get(URL + "?coverage=1")
    assert total_row({t.key: t for t in response.context["panels"]}["cov_screening"])[1:3] == [
        4,
        5,
    ]
    assert len(response.context["trend"]) == 2
    assert client.get(URL + "?export=cov_screening").status_code == 200  # exports always count
    small = client.get(URL + "?school=HS-ZX").context  # 4 children: drawn with the page
    assert small["panels"] and not small["deferred"]


def test_the_panels_alone_for_the_page_that_came_without_them(client, users, work, monkeypatch):
    """?part=coverage: the panels and trends with their charts' data and nothing of the page
    around them, in the user's scope (a class teacher's are her class's), exports included."""
    monkeypatch.setattr("guanai.stats.views.INLINE_LIMIT", 0)
    client.force_login(users["town"])
    response = client.get(URL + "?coverage=1&part=coverage")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "<nav" not in html and 'id="as-of"' not in html
    assert "{#" not in html and "comment" not in html
    assert "本学期工作覆盖" in html and "学期趋势" in html
    for key in PANELS:
        assert f'data-table="{key}"' in html and f'id="chart-{key}"' in html
    assert 'id="stats-charts-part"' in html and '"id": "chart-trend_rates"' in html
    assert '<a href="?school=HS-ZX">虎山镇中心小学</a>' in html  # a row per school, a link down
    assert total_row({t.key: t for t in response.context["panels"]}["cov_screening"])[1:3] == [4, 5]
    assert 'href="?&amp;export=cov_due"' in html
    # a class teacher's: her class only, a row per class
    client.force_login(users["zx_teacher31"])
    mine = client.get(URL + "?coverage=1&part=coverage")
    assert mine.status_code == 200 and "板桥小学" not in mine.content.decode()
    assert [r[0] for r in total_rows(mine, "cov_screening")] == ["三年级(1)班", "合计"]
    # another school's part is not hers
    assert_scoped(
        client,
        users,
        lambda name: URL + "?school=HS-BQ&coverage=1&part=coverage",
        allowed={"town", "inspector"},
        denied={"zx_leader", "zx_teacher31"},
    )
    client.force_login(users["proxy_wang"])  # no statistics at all
    assert client.get(URL + "?coverage=1&part=coverage").status_code == 403
    client.force_login(users["zx_teacher31"])
    # a past date: no panels (they are today's work), the trends as of that day
    past = client.get(URL + "?as_of=2026-10-01&coverage=1&part=coverage")
    assert past.context["panels"] == [] and len(past.context["trend"]) == 2


def total_rows(response, key):
    return {t.key: t for t in response.context["panels"]}[key].plain_rows()
