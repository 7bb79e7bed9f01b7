"""`guanai term-report`: the term work report (工作总结), every number from the data."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from docx import Document

from guanai.accounts.models import AccessLog
from guanai.children.models import Child
from guanai.contacts.models import Contact, Letter, LetterBatch, LetterChild
from guanai.pairing.models import Pair
from guanai.screening.models import ScreeningCampaign, ScreeningRecord
from guanai.testing import assert_scoped

SH = ZoneInfo("Asia/Shanghai")


def text_of(path) -> str:
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


@pytest.fixture
def term_data(cast):
    """A term's work at 中心小学: a letter batch (2 families, 1 slip back), a screening of 3
    of its 4 students, a pair, and contacts (one home visit in the term, one before it)."""
    kids, users = cast["children"], cast["users"]
    zx = cast["schools"]["zx"]
    teacher = users["zx_teacher31"]
    batch = LetterBatch.objects.create(
        school=zx, title="致家长的一封信", body="…", receipt_text="已阅", created_by=teacher
    )
    for child, returned in ((kids["c31a"], True), (kids["c31b"], False)):
        letter = Letter.objects.create(
            batch=batch,
            child=child,
            returned_at=dt.datetime(2026, 11, 20, tzinfo=SH) if returned else None,
        )
        LetterChild.objects.create(letter=letter, child=child, batch=batch)
    campaign = ScreeningCampaign.objects.create(school=zx, term="2026-2027-1")
    for key in ("c31a", "c31b", "c32a"):
        ScreeningRecord.objects.create(
            campaign=campaign, child=kids[key], outcome="marked", category=kids[key].category
        )
    Pair.objects.create(
        child=kids["c31a"],
        buddy=kids["c41a"],
        school=zx,
        status="active",
        cost=1.0,
        age_gap_days=300,
        accepted_at=dt.datetime(2026, 10, 10, tzinfo=SH),
    )
    Contact.objects.create(
        child=kids["c31a"],
        kind="home_visit",
        at=dt.datetime(2026, 10, 5, 15, tzinfo=SH),
        by=teacher,
    )
    Contact.objects.create(
        child=kids["c31b"], kind="phone", at=dt.datetime(2026, 11, 5, 15, tzinfo=SH), by=teacher
    )
    Contact.objects.create(  # last term: not counted
        child=kids["c32a"], kind="home_visit", at=dt.datetime(2026, 6, 5, 15, tzinfo=SH), by=teacher
    )
    # another school's contact: not in 中心小学's report
    Contact.objects.create(
        child=kids["bq31a"],
        kind="home_visit",
        at=dt.datetime(2026, 10, 5, 15, tzinfo=SH),
        by=users["bq_leader"],
    )
    return cast


def test_school_report_numbers_come_from_the_data(term_data, tmp_path):
    out = tmp_path / "zx.docx"
    call_command("term_report", "--school", "HS-ZX", "--term", "2026-2027-1", "-o", str(out))
    text = text_of(out)
    assert "虎山镇中心小学2026—2027学年第一学期关爱留守儿童工作总结" in text
    zx = Child.objects.filter(school__code="HS-ZX", enrolment="enrolled")
    assert zx.count() == 4
    assert "至2026年11月29日" in text  # the term runs: counted to today
    # 宣传
    assert "《致家长的一封信》1 批、2 份" in text
    assert "收回签字回执 1 份" in text and "50.0%" in text
    # 摸底排查
    assert "应排查学生 4 人，已排查 3 人，完成率 75.0%" in text
    single = zx.filter(category="single").count()
    double = zx.filter(category="double").count()
    assert f"单留守 {single} 人、双留守 {double} 人，合计留守儿童 {single + double} 人" in text
    civil = zx.filter(civil_affairs=True).count()
    assert f"农村留守儿童 {civil} 人" in text
    # 规范管理
    assert "建立档卡 4 张，其中信息完整 4 张" in text
    assert "没有假期前核实的记录" in text
    # 结对帮扶: the pair of 张三; 单小明, 李四 not yet (王五 is not left-behind)
    assert "在帮结对 1 对，本学期新结对 1 对" in text
    assert "应结对的留守儿童和随迁子女 3 人，已结对 1 人" in text
    # 家校联系: two contacts this term, one of them a home visit
    assert "记录家校联系 2 次（家访 1 次，电话 1 次），涉及学生 2 人" in text
    assert "已家访学生 1 人，占在读学生 4 人的 25.0%" in text
    assert "留守儿童已家访 1 人，占留守儿童 3 人的 33.3%" in text
    # 活动, 督导: none recorded
    assert "没有记录活动" in text and "没有督导检查记录" in text
    # 下一步 from the gaps
    assert "为尚未结对的 2 名儿童落实结对帮扶" in text
    assert "对尚未家访的 2 名留守儿童完成普访" in text
    # the table
    assert f"人数 | {single} | {double} | 0 | 1 | 0 | {civil} | 4" in text


def test_town_report_covers_every_school(term_data, tmp_path):
    out = tmp_path / "town.docx"
    call_command("term_report", "--town", "--term", "2026-2027-1", "-o", str(out))
    text = text_of(out)
    assert text.startswith("虎山镇2026—2027学年第一学期")
    assert "虎山镇中心小学、板桥小学、古田小学" in text
    assert "在读学生 6 人" in text
    assert "记录家校联系 3 次（家访 2 次，电话 1 次），涉及学生 3 人" in text
    assert "尚未开展本学期摸底排查的学校：板桥小学、古田小学" in text
    out2 = tmp_path / "town2.docx"
    call_command("term_report", "--town", "虎山镇", "-o", str(out2))  # the term defaults
    assert "2026—2027学年第一学期" in text_of(out2)


@pytest.mark.clock("2027-03-10")
def test_a_past_term_counts_to_its_last_day(term_data, tmp_path):
    out = tmp_path / "past.docx"
    call_command("term_report", "--school", "HS-ZX", "--term", "2026-2027-1", "-o", str(out))
    assert "至2027年01月31日" in text_of(out)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--school", "NO-SUCH"], "未知的学校代码：NO-SUCH"),
        (["--school", "HS-ZX", "--term", "2026-1"], "格式应为 2026-2027-1"),
        (["--school", "HS-ZX", "--term", "2027-2028-1"], "尚未开始"),
        (["--town", "没有这个镇"], "未知的镇：没有这个镇"),
    ],
)
def test_unknown_school_or_term_exits_2_in_chinese(cast, tmp_path, args, message):
    with pytest.raises(CommandError) as err:
        call_command("term_report", *args, "-o", str(tmp_path / "x.docx"))
    assert err.value.returncode == 2
    assert message in str(err.value)
    assert not (tmp_path / "x.docx").exists()


# the console script closes the database connection when the command ends, as Django's
# manage.py does: a test transaction cannot stay open around it
@pytest.mark.django_db(transaction=True)
def test_the_console_script_maps_the_command_and_exits_2(cast, tmp_path, capsys):
    from guanai.cli import main

    out = tmp_path / "cli.docx"
    main(["term-report", "--school", "HS-ZX", "-o", str(out)])
    assert out.exists()
    assert "已生成" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        main(["term-report", "--school", "NO-SUCH", "-o", str(out)])
    assert done.value.code == 2
    assert "未知的学校代码" in capsys.readouterr().err


# --- the page --------------------------------------------------------------------------------

PAGE = "/stats/report/"


def test_report_page_is_for_those_who_manage_the_school(client, users, term_data):
    assert_scoped(
        client,
        users,
        lambda n: PAGE + "?school=HS-ZX",
        allowed={"town", "zx_leader"},
        denied={"bq_leader"},
    )
    for name in ("inspector", "zx_grade3", "zx_teacher31", "zx_counselor", "proxy_wang"):
        client.force_login(users[name])
        assert client.get(PAGE).status_code == 403, name
    client.force_login(users["zx_leader"])
    assert client.get(PAGE + "?unit=town:1").status_code == 404
    assert client.get(PAGE + "?school=HS-ZX&term=2020-2021-1").status_code == 404


def test_leader_sees_the_draft_and_downloads_the_same_numbers(client, users, term_data, tmp_path):
    client.force_login(users["zx_leader"])
    html = client.get(PAGE).content.decode()  # her one school is chosen for her
    assert "虎山镇中心小学2026—2027学年第一学期关爱留守儿童工作总结" in html
    assert "应排查学生 4 人，已排查 3 人，完成率 75.0%" in html
    response = client.get(PAGE + "?school=HS-ZX&term=2026-2027-1&download=docx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    path = tmp_path / "r.docx"
    path.write_bytes(response.content)
    text = text_of(path)
    assert "应排查学生 4 人，已排查 3 人，完成率 75.0%" in text
    assert "刘校长" in text
    assert AccessLog.objects.filter(user=users["zx_leader"], detail__contains="工作总结").exists()


def test_town_admin_chooses_the_town_or_a_school(client, users, term_data):
    client.force_login(users["town"])
    html = client.get(PAGE).content.decode()
    assert "虎山镇2026—2027学年第一学期" in html and "在读学生 6 人" in html
    town_id = term_data["town_obj"].pk
    assert f'value="town:{town_id}" selected' in html
    html = client.get(PAGE + "?unit=school:HS-BQ").content.decode()
    assert "板桥小学2026—2027学年第一学期" in html and "在读学生 1 人" in html


def test_publicity_issued_this_term_is_counted_in_the_report(term_data, users, tmp_path):
    """宣传: the activities' publicity items published this term, from the data."""
    from guanai.activities import services as activities

    school = Child.objects.filter(school__code="HS-ZX").first().school
    leader = users["zx_leader"]
    activity = activities.create_activity(
        school=school,
        values={
            "kind": "summer_camp",
            "title": "暑期意志营",
            "starts_on": dt.date(2026, 11, 20),
            "ends_on": dt.date(2026, 11, 22),
        },
        by=leader,
    )
    for channel in ("wechat", "wall"):
        activities.issue_publicity(activity=activity, values={"channel": channel}, by=leader)
    out = tmp_path / "zx.docx"
    call_command("term_report", "--school", "HS-ZX", "--term", "2026-2027-1", "-o", str(out))
    assert "发布活动宣传稿 2 篇（新闻稿、宣传栏、公众号）" in text_of(out)
    call_command("term_report", "--school", "HS-ZX", "--term", "2025-2026-2", "-o", str(out))
    assert "宣传稿" not in text_of(out)  # the spring term had none
