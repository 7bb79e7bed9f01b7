"""The statistics page (/stats/): scope, drill-down, counts, exports, the home panel."""

import io
import re

import openpyxl
import pytest
from django.db import connection

from guanai.accounts.models import AccessLog
from guanai.children.models import Child
from guanai.stats.views import home_panel_context
from guanai.testing import assert_scoped, make_child

URL = "/stats/"
READERS = {"town", "inspector", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor"}


def page(client, user, query=""):
    client.force_login(user)
    response = client.get(URL + query)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def count(html: str, key: str) -> int:
    return int(re.search(rf'data-count="{key}">(\d+)<', html)[1])


def test_each_role_reads_only_its_units(client, users, kids):
    assert_scoped(client, users, lambda n: URL, allowed=READERS | {"bq_leader"}, denied=set())
    assert_scoped(
        client, users, lambda n: URL + "?school=HS-ZX", allowed=READERS, denied={"bq_leader"}
    )
    assert_scoped(
        client,
        users,
        lambda n: URL + "?school=HS-ZX&grade=4",
        allowed=READERS - {"zx_grade3", "zx_teacher31"},
        denied={"zx_grade3", "zx_teacher31", "bq_leader"},
    )
    assert_scoped(
        client,
        users,
        lambda n: URL + "?school=HS-ZX&grade=3&class_no=2",
        allowed=READERS - {"zx_teacher31"},
        denied={"zx_teacher31", "bq_leader"},
    )
    assert_scoped(client, users, lambda n: URL + "?school=NO-SUCH", allowed=set(), denied=READERS)


def test_a_proxy_parent_has_no_dashboard(client, users, kids):
    client.force_login(users["proxy_wang"])
    assert client.get(URL).status_code == 403
    assert home_panel_context(users["proxy_wang"]) is None


def test_anonymous_is_sent_to_login(client, cast):
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize(
    ("role", "total", "left_behind"),
    [("town", 6, 5), ("zx_leader", 4, 3), ("zx_grade3", 3, 3), ("zx_teacher31", 2, 2)],
)
def test_counts_are_the_users_scope(client, users, kids, role, total, left_behind):
    html = page(client, users[role])
    assert count(html, "total") == total
    assert count(html, "left_behind") == left_behind


def test_town_drills_down_to_the_child_list(client, users, kids):
    html = page(client, users["town"])
    assert "虎山镇中心小学" in html and "板桥小学" in html
    assert 'href="?school=HS-ZX"' in html
    assert "HS-ZX<" not in html  # names, never codes
    html = page(client, users["town"], "?school=HS-ZX")
    assert 'href="?school=HS-ZX&amp;grade=3"' in html and "三年级" in html
    html = page(client, users["town"], "?school=HS-ZX&grade=3")
    assert 'href="?school=HS-ZX&amp;grade=3&amp;class_no=1"' in html
    html = page(client, users["town"], "?school=HS-ZX&grade=3&class_no=1")
    assert count(html, "total") == 2
    assert "/children/?school=HS-ZX&amp;grade=3&amp;class_no=1" in html
    # a count opens the child list with that filter, and that list holds that many children
    assert "/children/?school=HS-ZX&amp;grade=3&amp;class_no=1&amp;category=single" in html
    listing = client.get("/children/?school=HS-ZX&grade=3&class_no=1&category=single")
    assert listing.status_code == 200 and "单小明" in listing.content.decode()


def test_one_school_opens_at_the_school(client, users, kids):
    html = page(client, users["zx_leader"])
    assert "三年级" in html and "四年级" in html  # grades, not schools
    assert 'breadcrumb-item"><a href="?">全部学校' not in html


def test_every_dimension_counts_what_was_not_collected(client, users, kids):
    blank = make_child(kids["c31a"].school_class, name="空白", village="")
    Child.objects.filter(pk=blank.pk).update(birth_date=None, gender="", boarding=None)
    html = page(client, users["zx_teacher31"])
    for key in ("category", "age", "gender", "boarding", "guardian", "missing"):
        assert f'data-table="{key}"' in html
    section = html.split('data-table="age"')[1].split("</section>")[0]
    assert re.search(r"<td class=\"text-nowrap\">未采集</td><td class=\"text-end\">1</td>", section)
    section = html.split('data-table="missing"')[1].split("</section>")[0]
    assert re.search(r"<td class=\"text-nowrap\">村</td><td class=\"text-end\">1</td>", section)
    assert re.search(
        r"<td class=\"text-nowrap\">出生日期</td><td class=\"text-end\">1</td>", section
    )


def test_charts_get_their_data_without_inline_script(client, users, kids):
    client.force_login(users["town"])
    response = client.get(URL)
    html = response.content.decode()
    assert '<script id="stats-charts" type="application/json">' in html
    assert "/static/vendor/echarts.min.js" in html and "/static/js/stats.js" in html
    scripts = re.findall(r"<script(?![^>]*(src=|application/json))[^>]*>", html)
    assert scripts == []
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_export_downloads_the_table_as_shown_and_is_logged(client, users, kids):
    client.force_login(users["zx_leader"])
    response = client.get(URL + "?school=HS-ZX&export=units")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.active.iter_rows(values_only=True))
    assert "刘校长" in rows[0][0]
    assert rows[1][:3] == ("年级", "在读", "单留守")
    assert rows[2][:2] == ("三年级", 3) and rows[3][:2] == ("四年级", 1)
    assert AccessLog.objects.filter(user=users["zx_leader"], detail__contains="按年级").exists()


def test_export_needs_the_export_right_and_a_real_table(client, users, kids):
    client.force_login(users["zx_teacher31"])
    assert client.get(URL + "?export=category").status_code == 403
    client.force_login(users["zx_leader"])
    assert client.get(URL + "?export=nope").status_code == 404


def test_a_bad_or_future_date_falls_back_to_today_and_says_so(client, users, kids):
    html = page(client, users["town"], "?as_of=2026-02-30")
    assert "统计日期" in html and "已改为 2026-11-29" in html
    html = page(client, users["town"], "?as_of=2027-01-01")
    assert "不能晚于今天" in html
    assert count(html, "total") == 6


def test_a_past_date_counts_history_and_drops_child_list_links(client, users, kids):
    html = page(client, users["town"], "?as_of=2026-11-01")
    assert count(html, "total") == 0  # the cards were created today
    assert "历史日期" in html
    assert "/children/?" not in html


def test_query_count_is_fixed(client, users, kids, django_assert_max_num_queries):
    client.force_login(users["town"])
    # with the coverage panels (one more query per campaign and round of the term) and the
    # trends (a grouped pass per term); today's counts per class are counted and stored by
    # the first request (stats/live.py: the rows, the cards twice, parents, guardians, one
    # UPDATE for every class), and so are the three past terms' points (stats/termstore.py:
    # read, the empty rows, an UPDATE each); the 待联系 panel lists the children with a proxy
    # parent first (contacts/due.py); the coverage panels' lines per class are counted and
    # stored (stats/covstore.py: the classes, the log's marks, the stored lines, the panels,
    # the running term's point per class, the upsert), and today's trend point is their sum;
    # on PostgreSQL one more: the wait for writers in flight before the points are counted
    # (termstore._settle)
    first = 65 + (connection.vendor == "postgresql")
    with django_assert_max_num_queries(first):
        client.get(URL)
    for _ in range(5):
        make_child(kids["c31a"].school_class, name="再来一个")
    with django_assert_max_num_queries(first):
        client.get(URL + "?school=HS-ZX&grade=3")
    # counted and stored: today's rows and coverage lines are read, the past terms' points
    # too (one query each)
    with django_assert_max_num_queries(30):
        client.get(URL)


def test_home_panel_gives_the_scopes_key_numbers(users, kids):
    panel = home_panel_context(users["zx_leader"])
    assert panel["children"] == 4 and panel["left_behind"] == 3
    assert panel["url"] == "/stats/"
    assert home_panel_context(users["town"])["schools"] == 3


def test_home_panel_template_renders(rf, users, kids):
    from django.template.loader import render_to_string

    html = render_to_string(
        "stats/_home_panel.html", {"stats_panel": home_panel_context(users["town"])}
    )
    assert 'data-stat="children">6<' in html and 'href="/stats/"' in html
    assert render_to_string("stats/_home_panel.html", {"stats_panel": None}).strip() == ""


def test_those_who_draft_reports_find_the_term_report(client, users, kids):
    assert "/stats/report/" in page(client, users["zx_leader"])
    assert "/stats/report/" in page(client, users["town"])
    assert "/stats/report/" not in page(client, users["zx_teacher31"])
    assert "/stats/report/" not in page(client, users["inspector"])


def test_table_rows_are_written_as_the_template_wrote_them():
    """Table.body writes each cell as `{{ value }}` did (escaped, localized, linked)."""
    from django.template import Context, Template

    from guanai.stats.views import Table

    loop = Template(
        '{% for row in t.cells %}<tr>{% for value, href in row %}<td class="{% if forloop.first'
        ' %}text-nowrap{% else %}text-end{% endif %}">{% if href %}<a href="{{ href }}">'
        "{{ value }}</a>{% else %}{{ value }}{% endif %}</td>{% endfor %}</tr>\n{% endfor %}"
    )
    table = Table("t", "标题", ["学校", "人数", "比例"])
    table.rows = [
        [("<b>虎山</b>小学", "/stats/?school=HS-ZX&grade=3"), 2500, "45.0%"],
        ["合计", (0, '/children/?a="1"&b=<2>'), None],
        ["一年级", 1.5, "—（0/0）"],
    ]
    assert str(table.body()) + "\n" == loop.render(Context({"t": table}))
    assert "&lt;b&gt;" in table.body() and "&amp;grade=3" in table.body()
    empty = Table("e", "空", ["学校", "人数"])
    assert str(empty.body()) == '<tr><td colspan="2" class="text-muted">没有数据</td></tr>'
