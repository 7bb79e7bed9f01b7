"""propose / accept / swap / end: the pair's life, its history and its rules."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from guanai.children.models import Child
from guanai.pairing.models import Pair, PairStatus
from guanai.pairing.services import (
    PairingError,
    accept_pairs,
    end_pair,
    end_pairs_of_child,
    propose_pairs,
    swap_buddy,
)
from guanai.testing import make_child

from .conftest import HOME


def test_propose_saves_drafts_with_facts_explanation_and_follow_teacher(school, users):
    proposal = propose_pairs(school=school["school"], by=users["zx_leader"], dry_run=False)
    assert {(p.child.pk, p.buddy.pk) for p in proposal.pairs} == school["expected"]
    assert len(proposal.saved) == 3
    pair = Pair.objects.get(child=school["kids"]["c31a"])
    assert pair.status == PairStatus.DRAFT
    assert pair.created_by == users["zx_leader"]
    assert (pair.age_gap_days, pair.same_village, pair.same_group) == (8, True, True)
    assert pair.explanation == "同村同组，相差 8 天"
    # 张三 is in 三年级(1)班, whose class teacher is 王老师.
    assert pair.follow_teacher == users["zx_teacher31"]
    assert Pair.objects.get(child=school["kids"]["c32a"]).follow_teacher is None
    assert pair.history.first().history_user == users["zx_leader"]


def test_follow_teacher_is_the_responsible_teacher_when_named(school, users):
    Child.objects.filter(pk=school["kids"]["c32a"].pk).update(
        responsible_teacher=users["zx_counselor"]
    )
    propose_pairs(school=school["school"], by=None, dry_run=False)
    assert Pair.objects.get(child=school["kids"]["c32a"]).follow_teacher == users["zx_counselor"]


def test_dry_run_proposal_saves_nothing(school):
    proposal = propose_pairs(school=school["school"], by=None, dry_run=True)
    assert len(proposal.pairs) == 3 and proposal.saved == []
    assert not Pair.objects.exists()


def test_accept_makes_drafts_active_and_records_who(school, users):
    proposal = propose_pairs(school=school["school"], by=None, dry_run=False)
    accepted = accept_pairs(pairs=proposal.saved[:2], by=users["zx_teacher31"])
    assert [p.status for p in accepted] == [PairStatus.ACTIVE] * 2
    for p in accepted:
        p.refresh_from_db()
        assert p.accepted_by == users["zx_teacher31"] and p.accepted_at is not None
    assert Pair.objects.filter(status=PairStatus.DRAFT).count() == 1
    with pytest.raises(PairingError, match="只有草稿可以确认"):
        accept_pairs(pairs=[accepted[0]], by=users["zx_teacher31"])


def test_accept_refuses_a_child_who_already_has_an_active_pair(school, users):
    proposal = propose_pairs(school=school["school"], by=None, dry_run=False)
    first = proposal.saved[0]
    accept_pairs(pairs=[first], by=None)
    rival = Pair.objects.create(
        child=first.child,
        buddy=school["buddies"]["chen"],
        school=school["school"],
        cost=0,
        age_gap_days=0,
    )
    with pytest.raises(PairingError, match="已有进行中的结对"):
        accept_pairs(pairs=[rival], by=None)


def test_a_child_has_at_most_one_active_pair_in_the_database(school):
    kids, buddies = school["kids"], school["buddies"]
    common = {"school": school["school"], "cost": 0, "age_gap_days": 0}
    Pair.objects.create(child=kids["c31a"], buddy=buddies["liu"], status="active", **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pair.objects.create(child=kids["c31a"], buddy=buddies["chen"], status="active", **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pair.objects.create(child=kids["c31b"], buddy=buddies["liu"], status="active", **common)
    with pytest.raises(IntegrityError), transaction.atomic():
        Pair.objects.create(child=kids["c31b"], buddy=kids["c31b"], **common)


def test_end_pair_needs_a_reason_and_keeps_history(school, users):
    pair = propose_pairs(school=school["school"], by=None, dry_run=False).saved[0]
    accept_pairs(pairs=[pair], by=users["zx_leader"])
    with pytest.raises(PairingError, match="结束原因"):
        end_pair(pair=pair, by=users["zx_leader"], reason="  ")
    ended = end_pair(pair=pair, by=users["zx_leader"], reason="父母返乡")
    assert (ended.status, ended.end_reason, ended.ended_by) == (
        "ended",
        "父母返乡",
        users["zx_leader"],
    )
    history = list(pair.history.order_by("history_date", "history_id"))
    assert [h.status for h in history] == ["draft", "active", "ended"]
    assert history[-1].history_user == users["zx_leader"]
    assert history[-1].history_change_reason == "父母返乡"
    with pytest.raises(PairingError, match="已结束"):
        end_pair(pair=pair, by=None, reason="再次")


def test_ended_pairs_free_both_children_for_the_next_proposal(school):
    pair = propose_pairs(school=school["school"], by=None, dry_run=False).saved[0]
    accept_pairs(pairs=[pair], by=None)
    assert pair.child.pk not in {
        p.child.pk for p in propose_pairs(school=school["school"], by=None, dry_run=True).pairs
    }
    end_pair(pair=pair, by=None, reason="学期结束")
    assert pair.child.pk in {
        p.child.pk for p in propose_pairs(school=school["school"], by=None, dry_run=True).pairs
    }


def test_end_pairs_of_child_ends_drafts_and_active_pairs(school):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    accept_pairs(pairs=[saved[0]], by=None)
    assert end_pairs_of_child(child=saved[0].child, by=None, reason="转学") == 1
    assert end_pairs_of_child(child=saved[1].buddy, by=None, reason="不再在读") == 1
    assert set(Pair.objects.values_list("status", flat=True)) == {"ended", "draft"}


def test_swap_to_a_free_buddy_returns_the_cost_change(school, users):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    pair = next(p for p in saved if p.child == school["kids"]["c32a"])  # 李四–王五, 294 days
    free = make_child(
        school["kids"]["c41a"].school_class, name="新来的", birth=dt.date(2017, 1, 1), **HOME
    )
    change = swap_buddy(pair=pair, buddy=free, by=users["zx_leader"])
    assert change == pytest.approx(19 / 365 - 294 / 365, abs=2e-6)
    pair.refresh_from_db()
    assert (pair.buddy, pair.age_gap_days) == (free, 19)
    assert pair.history.first().history_change_reason == "更换结对伙伴：王五 → 新来的"


def test_swap_with_a_buddy_of_another_draft_trades_places(school):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    kids, buddies = school["kids"], school["buddies"]
    zhang = next(p for p in saved if p.child == kids["c31a"])  # 张三–刘一
    shan = next(p for p in saved if p.child == kids["c31b"])  # 单小明–陈二
    change = swap_buddy(pair=zhang, buddy=buddies["chen"], by=None)
    zhang.refresh_from_db()
    shan.refresh_from_db()
    assert (zhang.buddy, shan.buddy) == (buddies["chen"], buddies["liu"])
    # 8 + 8 days before; 60 + 60 days after.
    assert change == pytest.approx((120 - 16) / 365, abs=2e-6)


def test_swap_refuses_what_the_rules_forbid(school):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    kids, buddies = school["kids"], school["buddies"]
    pair = next(p for p in saved if p.child == kids["c31a"])
    with pytest.raises(PairingError, match="只能与本校同学结对"):
        swap_buddy(pair=pair, buddy=buddies["bq_perfect"], by=None)
    with pytest.raises(PairingError, match="需要帮扶"):
        swap_buddy(pair=pair, buddy=kids["c32a"], by=None)
    old = make_child(kids["c41a"].school_class, name="大哥", birth=dt.date(2014, 1, 1), **HOME)
    with pytest.raises(PairingError, match="超过 730 天"):
        swap_buddy(pair=pair, buddy=old, by=None)
    other = next(p for p in saved if p.child == kids["c32a"])
    accept_pairs(pairs=[other], by=None)
    with pytest.raises(PairingError, match="已有进行中的结对"):
        swap_buddy(pair=pair, buddy=kids["c41a"], by=None)
    pair.refresh_from_db()
    assert pair.buddy == buddies["liu"]


def test_swap_respects_the_same_gender_setting(school, settings):
    settings.GUANAI_PAIR_SAME_GENDER = True
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    pair = next(p for p in saved if p.child == school["kids"]["c31a"])
    girl = make_child(
        school["kids"]["c41a"].school_class,
        name="女同学",
        gender="female",
        birth=dt.date(2017, 3, 3),
        **HOME,
    )
    with pytest.raises(PairingError, match="同性别"):
        swap_buddy(pair=pair, buddy=girl, by=None)


def test_a_new_proposal_replaces_drafts_but_not_active_or_ended_pairs(school):
    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    accept_pairs(pairs=[saved[0]], by=None)
    end_pair(pair=saved[1], by=None, reason="老师否决")
    proposal = propose_pairs(school=school["school"], by=None, dry_run=False)
    assert proposal.replaced == 1
    statuses = dict(
        Pair.objects.filter(pk__in=[saved[0].pk, saved[1].pk]).values_list("pk", "status")
    )
    assert statuses == {saved[0].pk: "active", saved[1].pk: "ended"}
    assert not Pair.objects.filter(pk=saved[2].pk).exists()


def test_parents_returning_ends_the_childs_pair(school):
    from guanai.children.services import update_child
    from guanai.pairing.models import Pair
    from guanai.pairing.services import accept_pairs, propose_pairs

    saved = propose_pairs(school=school["school"], by=None, dry_run=False).saved
    accept_pairs(pairs=saved, by=None)
    pair = Pair.objects.filter(status="active").select_related("child").first()
    child = pair.child
    update_child(
        child=child,
        version=child.version,
        by=None,
        reason="父母返乡",
        data={"father.status": "home", "mother.status": "home"},
    )
    pair.refresh_from_db()
    assert pair.status == "ended" and "不再是留守" in pair.end_reason
