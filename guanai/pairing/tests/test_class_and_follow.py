"""Proposals for one class, and the following teacher's subject-teacher assignments, which
start when a pair is accepted and end when it ends, changes buddy or changes teacher."""

import datetime as dt

import pytest

from guanai.children.models import Child, ChildAssignment
from guanai.pairing.models import Pair, PairStatus
from guanai.pairing.services import (
    PairingError,
    accept_pairs,
    end_pair,
    propose_pairs,
    set_follow_teacher,
    swap_buddy,
)
from guanai.testing import make_child

from .conftest import HOME


def names(pairs) -> set[tuple[str, str]]:
    return {(p.child.name, p.buddy.name) for p in pairs}


def test_a_class_proposal_pairs_the_class_within_itself(school):
    c31 = school["kids"]["c31a"].school_class
    proposal = propose_pairs(school=school["school"], school_class=c31, by=None, dry_run=False)
    assert names(proposal.pairs) == {("张三", "刘一"), ("单小明", "陈二")}
    assert proposal.unpaired == []
    assert Pair.objects.count() == 2


def test_a_class_proposal_replaces_only_that_class_drafts(school):
    propose_pairs(school=school["school"], by=None, dry_run=False)
    c32 = school["kids"]["c32a"].school_class
    proposal = propose_pairs(school=school["school"], school_class=c32, by=None, dry_run=False)
    # 李四 is alone in 三年级(2)班 with no classmate to pair: his school-wide draft is replaced.
    assert proposal.pairs == [] and proposal.unpaired == [school["kids"]["c32a"].pk]
    assert proposal.replaced == 1
    assert names(Pair.objects.drafts()) == {("张三", "刘一"), ("单小明", "陈二")}


def test_a_class_proposal_leaves_another_class_draft_buddy_alone(school):
    propose_pairs(school=school["school"], by=None, dry_run=False)  # 李四 (3-2) – 王五 (4-1)
    c41 = school["kids"]["c41a"].school_class
    make_child(c41, name="四年级留守", birth=dt.date(2016, 4, 3))
    proposal = propose_pairs(school=school["school"], school_class=c41, by=None, dry_run=True)
    assert proposal.pairs == []
    assert [Child.objects.get(pk=i).name for i in proposal.unpaired] == ["四年级留守"]


def test_a_class_of_another_school_is_refused(school, cast):
    with pytest.raises(PairingError, match="不属于"):
        propose_pairs(
            school=school["school"], school_class=cast["classes"]["bq31"], by=None, dry_run=True
        )


def follow_rows(user, *, open_only=True):
    rows = ChildAssignment.objects.filter(user=user, kind="subject_teacher")
    if open_only:
        rows = rows.filter(valid_to__isnull=True)
    return set(rows.values_list("child__name", flat=True))


def test_accepting_gives_the_follow_teacher_both_children(school, users):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    li = next(p for p in saved if p.child.name == "李四")
    teacher = users["zx_teacher31"]
    set_follow_teacher(pair=li, teacher=teacher, by=users["zx_leader"])
    assert follow_rows(teacher) == set()  # a draft gives no scope
    accept_pairs(pairs=[li], by=users["zx_leader"])
    assert follow_rows(teacher) == {"李四", "王五"}
    li.refresh_from_db()
    assert li.follow_assignments.count() == 2
    seen = set(Child.objects.visible_to(teacher).values_list("name", flat=True))
    assert {"李四", "王五"} <= seen
    assert not Child.objects.visible_to(teacher, "change").filter(name="李四").exists()
    row = ChildAssignment.history.filter(child__name="李四").first()
    assert row.history_user == users["zx_leader"]


def test_ending_the_pair_ends_the_follow_assignments_but_keeps_them(school, users):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    li = next(p for p in saved if p.child.name == "李四")
    teacher = users["zx_teacher31"]
    set_follow_teacher(pair=li, teacher=teacher, by=None)
    accept_pairs(pairs=[li], by=None)
    end_pair(pair=li, by=None, reason="学期结束")
    assert follow_rows(teacher) == set()
    assert follow_rows(teacher, open_only=False) == {"李四", "王五"}
    assert not Child.objects.visible_to(teacher).filter(name__in=["李四", "王五"]).exists()


def test_parents_returning_ends_the_follow_assignments_with_the_pair(school, users):
    from guanai.children.services import update_child

    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    li = next(p for p in saved if p.child.name == "李四")
    set_follow_teacher(pair=li, teacher=users["zx_teacher31"], by=None)
    accept_pairs(pairs=[li], by=None)
    child = Child.objects.get(pk=li.child_id)
    update_child(
        child=child,
        version=child.version,
        by=None,
        reason="父母返乡",
        data={"father.status": "home", "mother.status": "home"},
    )
    assert Pair.objects.get(pk=li.pk).status == PairStatus.ENDED
    assert follow_rows(users["zx_teacher31"]) == set()


def test_swapping_an_active_pair_moves_the_follow_assignment(school, users):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    li = next(p for p in saved if p.child.name == "李四")
    teacher = users["zx_teacher31"]
    set_follow_teacher(pair=li, teacher=teacher, by=None)
    accept_pairs(pairs=[li], by=None)
    other = make_child(
        school["kids"]["c41a"].school_class, name="新伙伴", birth=dt.date(2017, 1, 1), **HOME
    )
    swap_buddy(pair=li, buddy=other, by=None)
    assert follow_rows(teacher) == {"李四", "新伙伴"}


def test_changing_the_follow_teacher_moves_the_assignments(school, users):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    zhang = next(p for p in saved if p.child.name == "张三")
    accept_pairs(pairs=[zhang], by=None)
    assert follow_rows(users["zx_teacher31"]) == {"张三", "刘一"}
    set_follow_teacher(pair=zhang, teacher=users["zx_grade3"], by=None)
    assert follow_rows(users["zx_teacher31"]) == set()
    assert follow_rows(users["zx_grade3"]) == {"张三", "刘一"}
    set_follow_teacher(pair=zhang, teacher=None, by=None)
    assert follow_rows(users["zx_grade3"]) == set()
    zhang.refresh_from_db()
    reasons = [h.history_change_reason for h in zhang.history.order_by("history_id")]
    assert reasons[-2:] == ["跟踪教师改为 陈主任", "取消跟踪教师"]


def test_the_follow_teacher_must_be_staff_of_the_school(school, users):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    with pytest.raises(PairingError, match="不是虎山镇中心小学的教职工"):
        set_follow_teacher(pair=saved[0], teacher=users["bq_leader"], by=None)
    with pytest.raises(PairingError, match="不是虎山镇中心小学的教职工"):
        set_follow_teacher(pair=saved[0], teacher=users["proxy_wang"], by=None)
    end_pair(pair=saved[0], by=None, reason="x")
    with pytest.raises(PairingError, match="已结束"):
        set_follow_teacher(pair=saved[0], teacher=users["zx_grade3"], by=None)
