"""Editing the term report's prose (工作总结的文字): leaders rewrite the words, the numbers stay
computed; the page, the .docx and the command line use the edited text; reset brings back the
generated one."""

import io

import pytest
from django.core.management import call_command
from docx import Document

from guanai.screening.models import ScreeningCampaign, ScreeningRecord
from guanai.stats import prose
from guanai.stats.models import ReportText
from guanai.testing import assert_scoped

EDIT = "/stats/report/edit/"
PAGE = "/stats/report/"
TERM = "2026-2027-1"


def docx_text(content: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(content)).paragraphs)


@pytest.fixture
def screened(cast):
    kids = cast["children"]
    campaign = ScreeningCampaign.objects.create(school=cast["schools"]["zx"], term=TERM)
    for key in ("c31a", "c31b", "c32a"):
        ScreeningRecord.objects.create(
            campaign=campaign, child=kids[key], outcome="marked", category=kids[key].category
        )
    return cast


def post_sections(client, query: str, changes: dict[int, str]):
    """Post the page's form as it stands, with some sections changed."""
    response = client.get(EDIT + query)
    assert response.status_code == 200
    data = {"term": TERM, "save": "1"}
    for row in response.context["rows"]:
        data[f"section_{row['no']}"] = changes.get(row["no"], row["text"])
    return client.post(EDIT + query, data)


def test_a_leader_rewrites_a_section_and_the_report_uses_it(client, users, screened):
    client.force_login(users["zx_leader"])
    text = "我校高度重视摸底排查工作，应排查【应排查】人，已排查【已排查】人，完成率【排查完成率】。\n全体班主任逐户走访。"
    response = post_sections(client, "?school=HS-ZX", {2: text})
    assert response.status_code == 302 and response["Location"].startswith(PAGE)
    row = ReportText.objects.get()
    assert (row.school.code, row.term, row.section, row.updated_by) == (
        "HS-ZX",
        TERM,
        2,
        users["zx_leader"],
    )
    html = client.get(PAGE + "?school=HS-ZX&term=" + TERM).content.decode()
    assert "我校高度重视摸底排查工作，应排查4人，已排查3人，完成率75.0%。" in html
    assert "全体班主任逐户走访。" in html and "文字已修改" in html
    assert "开学初开展摸底排查" not in html
    # the other sections keep the generated text
    assert "按“一人一卡”建立档卡 4 张" in html
    body = docx_text(client.get(PAGE + "?school=HS-ZX&download=docx").content)
    assert "我校高度重视摸底排查工作，应排查4人，已排查3人，完成率75.0%。" in body


def test_the_numbers_follow_the_data_not_the_text(client, users, screened):
    client.force_login(users["zx_leader"])
    post_sections(client, "?school=HS-ZX", {2: "已排查【已排查】人。"})
    ScreeningRecord.objects.create(
        campaign=ScreeningCampaign.objects.get(),
        child=screened["children"]["c41a"],
        outcome="marked",
        category="none",
    )
    html = client.get(PAGE + "?school=HS-ZX").content.decode()
    assert "已排查4人。" in html


def test_the_command_line_uses_the_edited_text(client, users, screened, tmp_path):
    client.force_login(users["town"])
    post_sections(
        client, "?unit=town:" + str(screened["town_obj"].pk), {8: "下一步：【下一步事项】。"}
    )
    assert ReportText.objects.get().town == screened["town_obj"]
    out = tmp_path / "town.docx"
    call_command("term_report", "--town", "--term", TERM, "-o", str(out))
    body = docx_text(out.read_bytes())
    assert (
        "下一步：1. 为尚未结对的 5 名儿童落实结对帮扶；2. 对尚未家访的 5 名留守儿童完成普访。"
        in body
    )
    assert "【" not in body
    school = tmp_path / "school.docx"  # the school's report is not the town's
    call_command("term_report", "--school", "HS-ZX", "--term", TERM, "-o", str(school))
    assert "下一步：1." not in docx_text(school.read_bytes())


def test_an_unknown_number_or_an_empty_section_is_refused(client, users, screened):
    client.force_login(users["zx_leader"])
    response = post_sections(client, "?school=HS-ZX", {2: "已排查【排查人数】人。", 3: "  "})
    assert response.status_code == 422
    html = response.content.decode()
    assert "没有这些数字：【排查人数】" in html and "请填写这一部分的文字" in html
    assert "已排查【排查人数】人。" in html  # what she typed stays in the form
    assert not ReportText.objects.exists()


def test_reset_brings_back_the_generated_text(client, users, screened):
    client.force_login(users["zx_leader"])
    post_sections(
        client, "?school=HS-ZX", {1: "宣传工作：【信件份数】份。", 2: "排查【已排查】人。"}
    )
    assert ReportText.objects.count() == 2
    response = client.post(EDIT + "?school=HS-ZX", {"term": TERM, "reset": "2"})
    assert response.status_code == 302
    assert list(ReportText.objects.values_list("section", flat=True)) == [1]
    client.post(EDIT + "?school=HS-ZX", {"term": TERM, "reset": "all"})
    assert not ReportText.objects.exists()
    html = client.get(PAGE + "?school=HS-ZX").content.decode()
    assert "开学初开展摸底排查，应排查学生 4 人" in html
    # saving the generated text unchanged stores nothing
    post_sections(client, "?school=HS-ZX", {})
    assert not ReportText.objects.exists()


def test_who_edits_which_report(client, users, screened):
    assert_scoped(
        client,
        users,
        lambda n: EDIT + "?school=HS-ZX",
        allowed={"zx_leader", "town"},
        denied={"bq_leader"},
    )
    for name in ("zx_teacher31", "zx_grade3", "zx_counselor", "inspector", "proxy_wang"):
        client.force_login(users[name])
        assert client.get(EDIT + "?school=HS-ZX").status_code == 403, name
        assert (
            client.post(EDIT + "?school=HS-ZX", {"term": TERM, "section_1": "x"}).status_code == 403
        )
    client.force_login(users["zx_leader"])
    assert client.get(EDIT + "?unit=town:" + str(screened["town_obj"].pk)).status_code == 404
    client.force_login(users["bq_leader"])
    response = client.post(EDIT + "?school=HS-ZX", {"term": TERM, "section_1": "x", "save": "1"})
    assert response.status_code == 404
    assert not ReportText.objects.exists()


@pytest.mark.parametrize("term", ["2020-2021-1", "2026-2027-9", "秋季", "2027-2028-1"])
def test_a_bad_term_is_not_found(client, users, screened, term):
    client.force_login(users["zx_leader"])
    assert client.get(EDIT + f"?school=HS-ZX&term={term}").status_code == 404
    response = client.post(EDIT + "?school=HS-ZX", {"term": term, "section_1": "x"})
    assert response.status_code == 404


def test_every_generated_mark_is_known(screened):
    from guanai.stats.report import ReportScope, term_numbers

    n = term_numbers(ReportScope(name="x", schools=[screened["schools"]["zx"]]), TERM)
    marks = prose.values(n)
    for text in prose.generated(n):
        assert set(prose.MARK.findall(text)) <= set(marks)
