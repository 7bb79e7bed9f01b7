"""The `guanai` console script: init, add-school, the demo town."""

import pytest
from django.core.management import call_command
from django.test import RequestFactory

from guanai.children.models import Child
from guanai.cli import main
from guanai.demo import DEMO_LOGINS
from guanai.org.models import School, Town
from guanai.testing import DEMO_PASSWORD


def authenticate(*, username, password):
    from django.contrib.auth import authenticate as auth

    return auth(RequestFactory().post("/"), username=username, password=password)


def test_console_script_maps_hyphenated_names(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["add-school", "--help"])
    assert exc.value.code == 0
    assert "--code" in capsys.readouterr().out


def test_add_school_creates_town_and_is_idempotent(db, capsys):
    call_command("add_school", code="HS-X", name="新小学", town="新镇")
    call_command("add_school", code="HS-X", name="新小学", town="新镇")
    assert School.objects.filter(code="HS-X").count() == 1
    assert "新镇" in capsys.readouterr().out


def test_add_school_on_fresh_install_without_town_creates_default_town(db, capsys):
    call_command("add_school", code="HS-X", name="新小学")
    school = School.objects.get(code="HS-X")
    assert school.town.name == "本镇"
    out = capsys.readouterr().out
    assert "已新建镇：本镇" in out and "已添加学校：HS-X 新小学（本镇）" in out


def test_add_school_on_fresh_install_creates_named_town(db, capsys):
    call_command("add_school", code="HS-X", name="新小学", town="新镇")
    assert School.objects.get(code="HS-X").town.name == "新镇"
    assert "已新建镇：新镇" in capsys.readouterr().out


def test_add_school_without_town_uses_the_only_town(db, capsys):
    call_command("add_school", code="HS-X", name="新小学", town="新镇")
    capsys.readouterr()
    call_command("add_school", code="HS-Y", name="二小")
    assert School.objects.get(code="HS-Y").town.name == "新镇"
    assert "已新建镇" not in capsys.readouterr().out
    assert Town.objects.count() == 1


def test_add_school_without_town_among_several_refuses_naming_them(db):
    from django.core.management.base import CommandError

    call_command("add_school", code="HS-X", name="新小学", town="甲镇")
    call_command("add_school", code="HS-Y", name="二小", town="乙镇")
    with pytest.raises(CommandError, match="甲镇、乙镇.*--town"):
        call_command("add_school", code="HS-Z", name="三小")
    assert not School.objects.filter(code="HS-Z").exists()


def test_init_demo_loads_once(db, capsys):
    call_command("init", demo=True)
    out = capsys.readouterr().out
    assert "已载入演示镇" in out
    call_command("init", demo=True)
    assert "未载入演示数据" in capsys.readouterr().out


@pytest.mark.django_db
def test_demo_town_matches_spec():
    from guanai.demo import load_demo

    load_demo()
    assert set(School.objects.values_list("code", flat=True)) == {"HS-ZX", "HS-BQ", "HS-GT"}
    total = Child.objects.count()
    assert 1100 <= total <= 1300
    share = Child.objects.left_behind().count() / total
    assert 0.35 <= share <= 0.45
    assert Child.objects.filter(category="unknown").exists()  # some not yet screened
    assert Child.objects.filter(category="migrant").exists()
    assert Child.objects.exclude(latitude=None).exists()
    expected = {"town": {"HS-ZX", "HS-BQ", "HS-GT"}, "inspector": {"HS-ZX", "HS-BQ", "HS-GT"}}
    expected["bq_leader"] = {"HS-BQ"}
    expected["town_supervisor"] = expected["town"]  # the town's left-behind children
    expected["fengshu_director"] = set(  # 枫树村's children, whichever school they attend
        Child.objects.filter(village__in=["枫树村", "枫树"]).values_list("school__code", flat=True)
    )
    expected["auditor"] = set()  # the access log, no card
    for login, _who in DEMO_LOGINS:
        user = authenticate(username=login, password=DEMO_PASSWORD)
        assert user is not None, login
        schools = set(Child.objects.visible_to(user).values_list("school__code", flat=True))
        assert schools == expected.get(login, {"HS-ZX"}), login
    proxy = authenticate(username="proxy_wang", password=DEMO_PASSWORD)
    assert Child.objects.visible_to(proxy).count() == 2
    teacher = authenticate(username="zx_teacher31", password=DEMO_PASSWORD)
    grades = set(
        Child.objects.visible_to(teacher).values_list(
            "school_class__grade", "school_class__class_no"
        )
    )
    assert grades == {(3, 1)}
