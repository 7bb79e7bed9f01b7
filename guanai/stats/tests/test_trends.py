"""学期趋势: counts by category and coverage rates at the end of each of the last four terms."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from guanai.accounts.models import AccessLog
from guanai.children.services import update_child
from guanai.contacts.models import Contact
from guanai.pairing.models import Pair
from guanai.screening.models import ScreeningCampaign, ScreeningRecord
from guanai.stats import services
from guanai.stats.trends import last_terms, trends
from guanai.testing import assert_scoped

SH = ZoneInfo("Asia/Shanghai")
URL = "/stats/"


def test_the_last_four_terms_each_counted_on_its_last_day():
    assert last_terms(dt.date(2026, 11, 29)) == [
        ("2024-2025-2", dt.date(2025, 8, 31)),
        ("2025-2026-1", dt.date(2026, 1, 31)),
        ("2025-2026-2", dt.date(2026, 8, 31)),
        ("2026-2027-1", dt.date(2026, 11, 29)),
    ]


@pytest.fixture
def spring(cast, clock):
    """The cards made in the spring term (May 2026), its work, then a change in the autumn."""
    kids, users = cast["children"], cast["users"]
    zx = cast["schools"]["zx"]
    campaign = ScreeningCampaign.objects.create(school=zx, term="2025-2026-2")
    for key in ("c31a", "c31b"):
        ScreeningRecord.objects.create(
            campaign=campaign, child=kids[key], outcome="marked", category=kids[key].category
        )
    Contact.objects.create(
        child=kids["c31a"],
        by=users["zx_teacher31"],
        kind="home_visit",
        at=dt.datetime(2026, 5, 20, 10, tzinfo=SH),
    )
    Pair.objects.create(  # paired in the spring, ended in October
        child=kids["c32a"],
        buddy=kids["c41a"],
        school=zx,
        status="ended",
        cost=1.0,
        age_gap_days=300,
        accepted_at=dt.datetime(2026, 5, 10, tzinfo=SH),
        ended_at=dt.datetime(2026, 10, 10, tzinfo=SH),
    )
    clock.move_to(dt.datetime(2026, 10, 20, 9, tzinfo=SH))
    child = kids["c32a"]  # the father came home: 双留守 → 单留守
    update_child(
        child=child, data={"father.status": "home"}, version=child.version, by=users["town"]
    )
    clock.move_to(dt.datetime(2026, 11, 29, 10, tzinfo=SH))
    return cast


@pytest.mark.clock("2026-05-08 09:00")
def test_a_past_term_is_counted_from_history(users, spring):
    points = trends(users["zx_leader"])
    assert [p["term"] for p in points] == [
        "2024-2025-2",
        "2025-2026-1",
        "2025-2026-2",
        "2026-2027-1",
    ]
    assert points[0]["children"] == 0 and points[1]["children"] == 0  # no card yet
    spring_term, autumn = points[2], points[3]
    assert spring_term["children"] == 4
    assert spring_term["by_category"]["double"] == 2 and spring_term["by_category"]["single"] == 1
    assert autumn["by_category"]["double"] == 1 and autumn["by_category"]["single"] == 2
    rates = spring_term["rates"]
    assert rates["screening"] == {"done": 2, "of": 4}
    assert rates["verification"] == {"done": 0, "of": 0}  # no round: no rate
    assert rates["visits"] == {"done": 1, "of": 3}
    assert rates["pairing"] == {"done": 1, "of": 3}  # in force on 31 August
    assert rates["proxy"] == {"done": 2, "of": 3}
    assert autumn["rates"]["pairing"] == {"done": 0, "of": 3}  # ended in October
    assert autumn["rates"]["visits"] == {"done": 0, "of": 3}  # a new term, no visit yet
    assert autumn["rates"]["screening"]["of"] == 0  # no autumn campaign


@pytest.mark.clock("2026-05-08 09:00")
@pytest.mark.parametrize("role", ["town", "zx_leader", "zx_grade3", "zx_teacher31"])
def test_category_counts_equal_the_summary_on_each_terms_day(users, spring, role):
    user = users[role]
    for p in trends(user):
        summary = services.summary(user, as_of=p["as_of"])
        assert p["children"] == summary["children"], (role, p["term"])
        assert p["by_category"] == summary["by_category"], (role, p["term"])
        assert p["civil_affairs"] == summary["civil_affairs"]


def test_this_terms_rates_equal_the_coverage_panels(client, users, cast):
    client.force_login(users["zx_leader"])
    ctx = client.get(URL).context
    panels = {t.key: t.plain_rows()[-1] for t in ctx["panels"]}
    now = trends(users["zx_leader"])[-1]["rates"]
    for key in ("visits", "pairing", "proxy"):
        assert [now[key]["done"], now[key]["of"]] == panels[f"cov_{key}"][1:3], key


@pytest.mark.clock("2026-05-08 09:00")
def test_the_page_shows_both_trend_tables_and_exports_them(client, users, spring):
    client.force_login(users["zx_leader"])
    html = client.get(URL).content.decode()
    assert "学期趋势" in html and 'id="chart-trend_rates"' in html
    assert "2025—2026学年第二学期" in html
    response = client.get(URL + "?school=HS-ZX&export=trend_rates")
    assert response.status_code == 200
    rows = [
        [c.value for c in r]
        for r in openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows()
    ]
    assert rows[1][2] == "摸底排查完成率"
    assert any(r[2] == "50.0%（2/4）" for r in rows[2:])
    assert AccessLog.objects.filter(detail__contains="学期趋势").exists()


def test_trends_follow_the_date_looked_at_and_the_scope(client, users, cast):
    client.force_login(users["town"])
    ctx = client.get(URL + "?as_of=2026-03-01").context
    rows = ctx["trend"][0].plain_rows()
    assert rows[-1][1] == "2026-03-01"  # the running term on that date
    assert_scoped(
        client,
        users,
        lambda n: URL + "?school=HS-ZX&export=trend_categories",
        allowed={"town", "zx_leader"},
        denied={"bq_leader"},
    )
    client.force_login(users["town"])
    response = client.get(URL + "?as_of=2026-02-30&export=trend_categories")
    assert response.status_code == 200  # a bad date falls back to today, with a warning
