"""Town administrators manage only their own town's people; staff, superusers and role-less
accounts are managed on the command line only (security issue #10)."""

import pytest
from django.urls import reverse

from guanai.accounts.models import Role, User
from guanai.testing import make_school, make_town, make_user


@pytest.fixture
def outsiders(cast):
    """Accounts a town administrator must not reach, by name."""
    other_town = make_town("石门镇")
    other_school = make_school("SM-ZX", "石门镇中心小学", town=other_town)
    root = User.objects.create_superuser(username="root", password="root-pass-123")
    staff = make_user("ops", Role.SCHOOL_LEADER, school=cast["schools"]["zx"])
    staff.is_staff = True
    staff.save()
    return {
        "superuser": root,
        "staff": staff,
        "roleless": make_user("nobody"),
        "other_town": make_user("sm_leader", Role.SCHOOL_LEADER, school=other_school),
        "other_town_admin": make_user("sm_town", Role.TOWN_ADMIN, town=other_town),
        # one role here, one in the other town: neither administrator may reset the password
        "both_towns": _both(cast, other_school),
    }


def _both(cast, other_school) -> User:
    user = make_user("two_towns", Role.SCHOOL_LEADER, school=cast["schools"]["zx"])
    user.role_assignments.create(role=Role.SCHOOL_LEADER, school=other_school)
    return user


def test_user_list_shows_only_own_towns_people(client, cast, outsiders):
    client.force_login(cast["users"]["town"])
    page = client.get(reverse("accounts:users")).context["page"]
    listed = {u.username for u in page.object_list}
    assert listed == set(cast["users"])
    for name in ("root", "ops", "nobody", "sm_leader", "two_towns"):
        found = client.get(reverse("accounts:users"), {"q": name}).context["page"]
        assert not found.object_list, name


@pytest.mark.parametrize(
    "who", ["superuser", "staff", "roleless", "other_town", "other_town_admin", "both_towns"]
)
def test_outsiders_are_not_found(client, cast, outsiders, who):
    target = outsiders[who]
    password_hash = target.password
    client.force_login(cast["users"]["town"])
    edit = reverse("accounts:user_edit", args=[target.pk])
    assert client.get(edit).status_code == 404
    body = {"username": target.username, "password": "taken-over-123", "is_active": ""}
    assert client.post(edit, body).status_code == 404
    add_role = reverse("accounts:role_add", args=[target.pk])
    town_role = {"role": "town_admin", "valid_from": "2026-09-01"}
    assert client.post(add_role, town_role).status_code == 404
    target.refresh_from_db()
    assert target.password == password_hash and target.is_active
    assert not target.role_assignments.filter(role=Role.TOWN_ADMIN, town=cast["town_obj"]).exists()


def test_superuser_using_the_pages_never_reaches_staff_or_superusers(client, cast, outsiders):
    other_root = User.objects.create_superuser(username="root2", password="root-pass-123")
    client.force_login(outsiders["superuser"])
    listed = {u.username for u in client.get(reverse("accounts:users")).context["page"]}
    assert "root2" not in listed and "ops" not in listed and "nobody" not in listed
    assert "sm_leader" in listed and "zx_leader" in listed
    edit = reverse("accounts:user_edit", args=[other_root.pk])
    assert client.get(edit).status_code == 404


def test_town_admin_still_manages_own_towns_users(client, cast, outsiders):
    teacher = cast["users"]["zx_teacher31"]
    client.force_login(cast["users"]["town"])
    edit = reverse("accounts:user_edit", args=[teacher.pk])
    assert client.get(edit).status_code == 200
    body = {"username": teacher.username, "display_name": "王老师", "password": "new-pass-2026"}
    assert client.post(edit, body).status_code == 302
    teacher.refresh_from_db()
    assert teacher.check_password("new-pass-2026") and not teacher.is_active


def test_user_whose_roles_all_ended_stays_with_the_town(client, cast):
    teacher = cast["users"]["zx_teacher31"]
    teacher.role_assignments.update(valid_to="2026-01-31")
    client.force_login(cast["users"]["town"])
    assert client.get(reverse("accounts:user_edit", args=[teacher.pk])).status_code == 200


def test_new_user_is_created_with_a_first_role_in_the_town(client, cast):
    client.force_login(cast["users"]["town"])
    body = {"username": "zx_teacher32", "display_name": "李老师", "password": "s3cret-pass"}
    no_role = client.post(reverse("accounts:user_new"), {**body, "is_active": "on"})
    assert no_role.status_code == 200 and "角色" in no_role.content.decode()
    assert not User.objects.filter(username="zx_teacher32").exists()
    other_school = make_school("SM-ZX", "石门镇中心小学", town=make_town("石门镇"))
    elsewhere = client.post(
        reverse("accounts:user_new"),
        {**body, "role": "school_leader", "school": other_school.pk, "valid_from": "2026-09-01"},
    )
    assert elsewhere.status_code == 200
    assert not User.objects.filter(username="zx_teacher32").exists()


def test_operator_creates_the_first_town_administrator_in_the_pages(client, cast, outsiders):
    """docs/deploy.md: the superuser signs in once and adds the town administrator."""
    client.force_login(outsiders["superuser"])
    response = client.post(
        reverse("accounts:user_new"),
        {
            "username": "new_admin",
            "password": "first-admin-2026",
            "is_active": "on",
            "role": "town_admin",
            "valid_from": "2026-09-01",
        },
    )
    assert response.status_code == 302
    admin = User.objects.get(username="new_admin")
    assert admin.is_town_admin and not admin.is_staff
    client.force_login(admin)
    assert client.get(reverse("accounts:users")).status_code == 200
