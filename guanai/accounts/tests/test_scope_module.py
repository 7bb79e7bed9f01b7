"""The one role → unit table (accounts/scope.py), as each demo role meets it."""

import pytest

from guanai.accounts import scope
from guanai.accounts.models import Role
from guanai.testing import make_user

ALL = {"HS-ZX", "HS-BQ", "HS-GT"}
SCHOOLS_VIEW = {
    "town": ALL,
    "inspector": ALL,
    "zx_leader": {"HS-ZX"},
    "zx_grade3": {"HS-ZX"},
    "zx_teacher31": {"HS-ZX"},
    "zx_counselor": {"HS-ZX"},
    "bq_leader": {"HS-BQ"},
    "proxy_wang": set(),
}
SCHOOLS_MANAGE = {"town": ALL, "zx_leader": {"HS-ZX"}, "bq_leader": {"HS-BQ"}}
# the cast's classes as "school grade-class"
ARRANGE = {
    "town": {"HS-ZX 3-1", "HS-ZX 3-2", "HS-ZX 4-1", "HS-BQ 3-1", "HS-GT 5-1"},
    "zx_leader": {"HS-ZX 3-1", "HS-ZX 3-2", "HS-ZX 4-1"},
    "zx_grade3": {"HS-ZX 3-1", "HS-ZX 3-2"},
    "zx_teacher31": {"HS-ZX 3-1"},
    "bq_leader": {"HS-BQ 3-1"},
}


def _classes(qs):
    return {f"{c.school.code} {c.grade}-{c.class_no}" for c in qs.select_related("school")}


@pytest.mark.parametrize("role", list(SCHOOLS_VIEW))
def test_each_role_reaches_the_schools_and_classes_of_its_units(cast, role):
    user = cast["users"][role]
    assert set(scope.schools(user, "view").values_list("code", flat=True)) == SCHOOLS_VIEW[role]
    assert set(scope.schools(user, "manage").values_list("code", flat=True)) == SCHOOLS_MANAGE.get(
        role, set()
    )
    assert _classes(scope.classes(user, "arrange")) == ARRANGE.get(role, set())
    assert _classes(scope.classes(user, "print")) == ARRANGE.get(role, set())


def test_a_subject_teacher_belongs_to_a_school_without_holding_its_classes(cast):
    teacher = make_user("math", Role.SUBJECT_TEACHER, school=cast["schools"]["zx"])
    assert list(scope.schools(teacher, "view").values_list("code", flat=True)) == ["HS-ZX"]
    assert not scope.classes(teacher, "view").exists()
    assert not scope.schools(teacher, "manage").exists()


def test_a_superuser_reaches_everything_and_anonymous_nothing(cast, django_user_model):
    from django.contrib.auth.models import AnonymousUser

    root = django_user_model.objects.create_superuser("root", password="x")
    assert scope.schools(root).count() == 3 and scope.towns(root).count() == 1
    assert scope.unit_q(root, "change", town="t", school="s") is None
    assert not scope.schools(AnonymousUser()).exists()


def test_towns_are_held_by_town_administrators_only(cast):
    users = cast["users"]
    assert [t.name for t in scope.towns(users["town"])] == ["虎山镇"]
    assert not scope.towns(users["inspector"]).exists()  # reads the town, does not manage it
    assert scope.towns(users["inspector"], "view").count() == 1
    assert not scope.towns(users["zx_leader"]).exists()


def test_an_unknown_action_is_a_programming_error(cast):
    with pytest.raises(ValueError):
        scope.schools(cast["users"]["town"], "destroy")


def test_the_menu_follows_the_scope_table(client, cast):
    """The menu asks the table, not role codes: a proxy parent gets his own page and no school
    work; the village's director gets contacts, protection and statistics, not the schools'
    own work; a class teacher gets the schools' work."""
    from guanai.testing import make_user

    town = cast["schools"]["zx"].town
    director = make_user("menu_director", "village_director", town=town, village="虎山村")
    expected = {
        "proxy_wang": ({"我代理的孩子"}, {"家校联系", "摸排与核实", "代理家长", "督导检查"}),
        "zx_teacher31": ({"家校联系", "摸排与核实", "代理家长", "统计"}, {"我代理的孩子"}),
        "menu_director": ({"家校联系", "儿童保护", "统计", "村儿童"}, {"摸排与核实", "督导检查"}),
    }
    users = cast["users"] | {"menu_director": director}
    for login, (shown, hidden) in expected.items():
        client.force_login(users[login])
        html = client.get("/help/").content.decode()
        menu = html[html.index('id="nav"') : html.index("</ul>", html.index('id="nav"'))]
        for word in shown:
            assert f">{word}</a>" in menu, (login, word)
        for word in hidden:
            assert f">{word}</a>" not in menu, (login, word)


# Who downloads lists and who reads full ID numbers: rows of the table, not lists of roles kept
# elsewhere (the export buttons and the card's ID line follow them).
EXPORTERS = {"town", "zx_leader", "bq_leader"}
FULL_ID = {"town", "zx_leader", "zx_grade3", "zx_teacher31", "zx_counselor", "bq_leader"}


@pytest.mark.parametrize("name", sorted(SCHOOLS_VIEW))
def test_export_and_full_id_are_rows_of_the_table(cast, name):
    user = cast["users"][name]
    assert user.can_export is (name in EXPORTERS)
    assert scope.acts_as(user, "export") is (name in EXPORTERS)
    assert scope.acts_as(user, "full_id") is (name in FULL_ID)
