"""动态管理: transfers with counts before and after, the school-year roll-over (preview and
run), counts on past dates rebuilt from dated transitions and parents' history."""

import datetime as dt

import pytest
from django.utils import timezone

from guanai.accounts.models import Role, RoleAssignment
from guanai.children.models import Child, ChildAssignment, Parent
from guanai.children.services import child_history, update_child
from guanai.children.validation import CardInvalid
from guanai.org.models import SchoolClass
from guanai.screening.models import Rollover, Transition
from guanai.screening.transitions import (
    default_top_grade,
    placement_timeline,
    roll_over_school,
    rollover_preview,
    school_counts_on,
    school_year_of,
    transfer_child,
)
from guanai.testing import SUITE_TODAY, make_child, make_class, make_school, make_town

TODAY = SUITE_TODAY


def _backdate(*children, days: int = 400) -> None:
    """Pretend the cards (and their parents' facts) were entered `days` ago."""
    ids = [c.pk for c in children]
    Child.objects.filter(pk__in=ids).update(created_at=timezone.now() - dt.timedelta(days=days))
    since = TODAY - dt.timedelta(days=days)
    Parent.objects.filter(child_id__in=ids).update(effective_from=since)
    Parent.history.filter(child_id__in=ids).update(effective_from=since)


def _enrolled(school) -> int:
    return Child.objects.filter(school=school, enrolment="enrolled").count()


# --- transfer --------------------------------------------------------------------------------


def test_transfer_moves_child_and_both_schools_counts(cast):
    zx, bq = cast["schools"]["zx"], cast["schools"]["bq"]
    child = cast["children"]["c31a"]
    before = (_enrolled(zx), _enrolled(bq))
    counts_before = (
        school_counts_on(school=zx, on=TODAY)["enrolled"],
        school_counts_on(school=bq, on=TODAY)["enrolled"],
    )
    assert counts_before == before == (4, 1)
    moved = transfer_child(
        child=child,
        to_school=bq,
        to_class=cast["classes"]["bq31"],
        by=cast["users"]["zx_leader"],
        reason="随父母返乡就近入学",
        on=TODAY,
    )
    assert moved.school == bq and moved.school_class == cast["classes"]["bq31"]
    assert moved.enrolment == "enrolled" and moved.responsible_teacher is None
    assert (_enrolled(zx), _enrolled(bq)) == (3, 2)
    assert school_counts_on(school=zx, on=TODAY)["enrolled"] == 3
    assert school_counts_on(school=bq, on=TODAY)["enrolled"] == 2


def test_transfer_keeps_history_and_records_dated_transition(cast):
    child = cast["children"]["c31a"]
    leader = cast["users"]["zx_leader"]
    transfer_child(
        child=child,
        to_school=cast["schools"]["gt"],
        to_class=SchoolClass.objects.get(school=cast["schools"]["gt"]),
        by=leader,
        reason="家庭搬迁",
        on=TODAY,
    )
    history = child_history(Child.objects.get(pk=child.pk))
    assert history[0]["by"] == "zx_leader"
    assert "转学" in history[0]["reason"] and "古田小学" in history[0]["reason"]
    assert {c["field"] for c in history[0]["changes"]} >= {"school", "class"}
    assert any(e["created"] for e in history)  # the card's earlier history came along
    t = Transition.objects.get(child=child)
    assert (t.kind, t.on, t.reason, t.by) == ("transfer", TODAY, "家庭搬迁", leader)
    timeline = placement_timeline(child)
    assert timeline[0]["label"] == "镇内转学" and "虎山镇中心小学" in timeline[0]["text"]


def test_new_school_sees_the_card_old_school_does_not(cast):
    child = cast["children"]["c31a"]
    transfer_child(
        child=child,
        to_school=cast["schools"]["bq"],
        to_class=cast["classes"]["bq31"],
        by=cast["users"]["town"],
        reason="转学",
        on=TODAY,
    )
    assert Child.objects.visible_to(cast["users"]["bq_leader"]).filter(pk=child.pk).exists()
    assert not Child.objects.visible_to(cast["users"]["zx_leader"]).filter(pk=child.pk).exists()
    # proxy parents of the old school stop following the child
    assert not ChildAssignment.objects.filter(child=child, valid_to__isnull=True).exists()


def test_transfer_out_of_town_marks_transferred(cast):
    zx = cast["schools"]["zx"]
    child = cast["children"]["c41a"]
    moved = transfer_child(
        child=child,
        to_school=None,
        to_class=None,
        by=cast["users"]["zx_leader"],
        reason="随父母到广东上学",
        on=TODAY,
    )
    assert moved.enrolment == "transferred" and moved.school == zx
    assert _enrolled(zx) == 3
    assert Transition.objects.get(child=child).kind == "transfer_out"


def test_counts_on_a_past_date_undo_a_backdated_transfer(cast):
    zx, bq = cast["schools"]["zx"], cast["schools"]["bq"]
    child = cast["children"]["c32a"]
    _backdate(*cast["children"].values())
    on = TODAY - dt.timedelta(days=30)
    transfer_child(
        child=child,
        to_school=bq,
        to_class=cast["classes"]["bq31"],
        by=cast["users"]["town"],
        reason="补登记上月转学",
        on=on,
    )
    day_before = on - dt.timedelta(days=1)
    assert school_counts_on(school=zx, on=day_before)["enrolled"] == 4
    assert school_counts_on(school=bq, on=day_before)["enrolled"] == 1
    assert school_counts_on(school=zx, on=on)["enrolled"] == 3
    assert school_counts_on(school=bq, on=on)["enrolled"] == 2
    # the child was double left-behind at both dates: counted with its school of the day
    assert school_counts_on(school=zx, on=day_before)["categories"]["double"] == 2
    assert school_counts_on(school=bq, on=on)["categories"]["double"] == 2


def test_counts_on_a_date_before_a_card_existed_leave_it_out(cast):
    zx = cast["schools"]["zx"]
    assert school_counts_on(school=zx, on=TODAY - dt.timedelta(days=1))["enrolled"] == 0


def test_parents_return_counts_change_from_their_date(cast):
    zx = cast["schools"]["zx"]
    child = cast["children"]["c31a"]  # both parents away: double
    _backdate(*cast["children"].values())
    child.refresh_from_db()
    back = TODAY - dt.timedelta(days=10)
    update_child(
        child=child,
        data={
            "father.status": "home",
            "mother.status": "home",
            "father.effective_from": back,
            "mother.effective_from": back,
        },
        version=child.version,
        by=cast["users"]["zx_teacher31"],
        reason="父母返乡",
    )
    before = school_counts_on(school=zx, on=back - dt.timedelta(days=1))
    after = school_counts_on(school=zx, on=back)
    assert before["categories"]["double"] - after["categories"]["double"] == 1
    assert after["categories"]["none"] - before["categories"]["none"] == 1
    assert before["left_behind"] - after["left_behind"] == 1


def test_counts_respect_a_scope(cast):
    zx = cast["schools"]["zx"]
    scope = Child.objects.visible_to(cast["users"]["zx_teacher31"])
    assert school_counts_on(school=zx, on=TODAY, children=scope)["enrolled"] == 2


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 201}, "reason"),
        ({"on": None}, "on"),
        ({"on": TODAY + dt.timedelta(days=1)}, "on"),
        ({"to_school": "zx"}, "to_school"),
        ({"to_class": None}, "to_class"),
        ({"to_class": "c31"}, "to_class"),
        ({"to_school": None, "to_class": "bq31"}, "to_class"),
    ],
)
def test_transfer_refuses_bad_input_and_writes_nothing(cast, kwargs, field):
    schools, classes = cast["schools"], cast["classes"]
    args = {
        "to_school": schools["bq"],
        "to_class": classes["bq31"],
        "reason": "转学",
        "on": TODAY,
    }
    for key, value in kwargs.items():
        if isinstance(value, str) and key == "to_school":
            value = schools[value]
        if isinstance(value, str) and key == "to_class":
            value = classes[value]
        args[key] = value
    child = cast["children"]["c31a"]
    with pytest.raises(CardInvalid) as exc:
        transfer_child(child=child, by=cast["users"]["zx_leader"], **args)
    assert field in exc.value.errors
    child.refresh_from_db()
    assert child.school == schools["zx"] and not Transition.objects.exists()


def test_transfer_refuses_another_town_and_inactive_children(cast):
    other = make_school("XT-1", "新塘小学", town=make_town("新塘镇"))
    child = cast["children"]["c31a"]
    with pytest.raises(CardInvalid) as exc:
        transfer_child(
            child=child,
            to_school=other,
            to_class=make_class(other, 3, 1),
            by=None,
            reason="转学",
            on=TODAY,
        )
    assert "本镇" in exc.value.errors["to_school"]
    transfer_child(child=child, to_school=None, to_class=None, by=None, reason="外出", on=TODAY)
    with pytest.raises(CardInvalid) as exc:
        transfer_child(child=child, to_school=None, to_class=None, by=None, reason="外出", on=TODAY)
    assert "在读" in exc.value.errors["child"]


def test_transfer_cannot_predate_an_earlier_transition(cast):
    child = cast["children"]["c31a"]
    transfer_child(
        child=child,
        to_school=cast["schools"]["bq"],
        to_class=cast["classes"]["bq31"],
        by=None,
        reason="转学",
        on=TODAY,
    )
    with pytest.raises(CardInvalid) as exc:
        transfer_child(
            child=child,
            to_school=cast["schools"]["zx"],
            to_class=cast["classes"]["c31"],
            by=None,
            reason="转回",
            on=TODAY - dt.timedelta(days=3),
        )
    assert "上一次" in exc.value.errors["on"]


# --- roll-over -------------------------------------------------------------------------------


def _primary(cast):
    """HS-ZX with grades 3, 4 and 6: two third-grade classes, one fourth, one sixth."""
    zx = cast["schools"]["zx"]
    c61 = make_class(zx, 6, 1)
    six = make_child(c61, name="毕业生", birth=dt.date(2014, 2, 2))
    return zx, c61, six


def test_school_year_and_default_top_grade(cast):
    assert school_year_of(dt.date(2027, 7, 10)) == "2027-2028"
    assert school_year_of(dt.date(2027, 3, 1)) == "2026-2027"
    assert default_top_grade(cast["schools"]["zx"]) == 6
    make_class(cast["schools"]["gt"], 8, 1)
    assert default_top_grade(cast["schools"]["gt"]) == 9


def test_rollover_preview_counts_per_grade(cast):
    zx, _c61, _six = _primary(cast)
    preview = rollover_preview(school=zx)
    rows = {r["grade"]: r for r in preview["grades"]}
    assert rows[3]["children"] == 3 and rows[3]["classes"] == 2 and rows[3]["to"] == "四年级"
    assert rows[4]["children"] == 1 and rows[4]["to"] == "五年级"
    assert rows[6]["graduating"] and rows[6]["to"] == "毕业"
    assert (preview["promoted"], preview["graduated"]) == (4, 1)
    assert not Rollover.objects.exists()  # a preview writes nothing


def test_rollover_promotes_graduates_moves_class_teachers_keeps_records(cast):
    zx, c61, six = _primary(cast)
    kids, users = cast["children"], cast["users"]
    Child.objects.filter(pk=kids["c31a"].pk).update(responsible_teacher=users["zx_teacher31"])
    history_before = Child.history.count()
    rollover = roll_over_school(school=zx, by=users["zx_leader"], on=TODAY)
    for key, grade, class_no in (("c31a", 4, 1), ("c31b", 4, 1), ("c32a", 4, 2), ("c41a", 5, 1)):
        child = Child.objects.get(pk=kids[key].pk)
        assert (child.school_class.grade, child.school_class.class_no) == (grade, class_no)
        assert child.enrolment == "enrolled"
    graduate = Child.objects.get(pk=six.pk)
    assert graduate.enrolment == "graduated" and graduate.school_class == c61
    # responsible teachers carried forward, every change in history
    assert Child.objects.get(pk=kids["c31a"].pk).responsible_teacher == users["zx_teacher31"]
    assert Child.history.count() == history_before + 5
    latest = Child.history.filter(id=kids["c31a"].pk).first()
    assert "学年升级" in latest.history_change_reason
    assert latest.history_user == users["zx_leader"]
    # the class teacher follows her class from 3-1 to 4-1
    teacher = users["zx_teacher31"]
    teacher._active_roles = None
    roles = teacher.active_roles()
    assert [r.school_class.grade for r in roles if r.role == Role.CLASS_TEACHER] == [4]
    assert RoleAssignment.objects.filter(user=teacher).count() == 2  # old one kept, ended
    assert Child.objects.visible_to(teacher).count() == 2
    assert (rollover.summary["promoted"], rollover.summary["graduated"]) == (4, 1)
    assert Transition.objects.filter(kind="promote").count() == 4
    assert Transition.objects.filter(kind="graduate").count() == 1
    # nothing of the other schools moved
    assert Child.objects.get(pk=kids["bq31a"].pk).school_class.grade == 3


def test_rollover_runs_once_a_school_year(cast):
    zx = cast["schools"]["zx"]
    roll_over_school(school=zx, by=None, on=TODAY)
    with pytest.raises(CardInvalid) as exc:
        roll_over_school(school=zx, by=None, on=TODAY)
    assert "不能重复升级" in exc.value.errors["school"]
    assert Rollover.objects.count() == 1


def test_rollover_refuses_future_dates_and_bad_top_grade(cast):
    zx = cast["schools"]["zx"]
    with pytest.raises(CardInvalid):
        roll_over_school(school=zx, by=None, on=TODAY + dt.timedelta(days=1))
    with pytest.raises(CardInvalid):
        roll_over_school(school=zx, by=None, on=TODAY, top_grade=13)
    assert not Transition.objects.exists()


def test_counts_before_and_after_rollover(cast):
    zx, _c61, _six = _primary(cast)
    _backdate(*Child.objects.all())
    roll_over_school(school=zx, by=None, on=TODAY)
    before = school_counts_on(school=zx, on=TODAY - dt.timedelta(days=1))
    after = school_counts_on(school=zx, on=TODAY)
    assert before["enrolled"] == 5 and before["grades"] == {3: 3, 4: 1, 6: 1}
    assert after["enrolled"] == 4 and after["grades"] == {4: 3, 5: 1}
