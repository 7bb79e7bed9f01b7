"""`guanai pair --school CODE --json [--dry-run]` exactly as SPEC §6.1."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from guanai.children.models import Child
from guanai.pairing.management.commands.pair import Command
from guanai.pairing.models import Pair, PairStatus
from guanai.pairing.services import accept_pairs
from guanai.testing import make_child

from .conftest import HOME

PAIR_KEYS = [
    "child",
    "child_name",
    "buddy",
    "buddy_name",
    "distance_m",
    "same_village",
    "same_group",
    "age_gap_days",
    "cost",
]


def run(capsys, *args):
    capsys.readouterr()
    call_command("pair", *args)
    return json.loads(capsys.readouterr().out)


def test_json_shape_and_optimal_pairs(school, capsys):
    out = run(capsys, "--school", "HS-ZX", "--json", "--dry-run")
    assert list(out) == ["pairs", "unpaired", "total_cost"]
    assert {(p["child"], p["buddy"]) for p in out["pairs"]} == school["expected"]
    assert out["unpaired"] == []
    for item in out["pairs"]:
        assert list(item) == PAIR_KEYS
        assert item["child_name"] == Child.objects.get(pk=item["child"]).name
        assert item["buddy_name"] == Child.objects.get(pk=item["buddy"]).name
        assert item["distance_m"] is None
        assert isinstance(item["same_village"], bool) and isinstance(item["same_group"], bool)
        assert isinstance(item["age_gap_days"], int)
    assert [p["child"] for p in out["pairs"]] == sorted(p["child"] for p in out["pairs"])
    by_child = {p["child"]: p for p in out["pairs"]}
    liu = by_child[school["kids"]["c31a"].pk]
    assert (liu["age_gap_days"], liu["same_village"], liu["same_group"]) == (8, True, True)
    assert liu["cost"] == round(8 / 365, 6)
    assert out["total_cost"] == pytest.approx(310 / 365, abs=1e-5)
    assert out["total_cost"] == round(sum(p["cost"] for p in out["pairs"]), 6)


def test_children_of_another_school_are_never_used(school, capsys):
    out = run(capsys, "--school", "HS-ZX", "--json", "--dry-run")
    zx_ids = set(Child.objects.filter(school=school["school"]).values_list("pk", flat=True))
    for p in out["pairs"]:
        assert {p["child"], p["buddy"]} <= zx_ids
    assert school["buddies"]["bq_perfect"].pk not in {p["buddy"] for p in out["pairs"]}


def test_other_school_is_paired_within_itself(school, capsys):
    out = run(capsys, "--school", "HS-BQ", "--json", "--dry-run")
    assert [(p["child"], p["buddy"]) for p in out["pairs"]] == [
        (school["kids"]["bq31a"].pk, school["buddies"]["bq_perfect"].pk)
    ]
    empty = run(capsys, "--school", "HS-GT", "--json", "--dry-run")
    assert empty == {"pairs": [], "unpaired": [school["kids"]["gt"].pk], "total_cost": 0.0}


def test_unknown_school_exits_2_with_a_chinese_message(db):
    with pytest.raises(CommandError) as exc:
        call_command("pair", "--school", "NOPE", "--json")
    assert exc.value.returncode == 2
    assert "未知的学校代码" in str(exc.value)


def test_unknown_school_from_the_command_line_exits_2(db, capsys):
    with pytest.raises(SystemExit) as exc:
        Command().run_from_argv(["guanai", "pair", "--school", "NOPE", "--json"])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    assert "未知的学校代码：NOPE" in captured.err
    assert captured.out == ""


def test_dry_run_writes_nothing(school, capsys):
    run(capsys, "--school", "HS-ZX", "--json", "--dry-run")
    assert Pair.objects.count() == 0
    assert Pair.history.count() == 0


def test_saves_drafts_and_replaces_earlier_drafts(school, capsys):
    first = run(capsys, "--school", "HS-ZX", "--json")
    drafts = list(Pair.objects.filter(status=PairStatus.DRAFT))
    assert {(p.child_id, p.buddy_id) for p in drafts} == school["expected"]
    assert all(p.school == school["school"] for p in drafts)
    assert sum(float(p.cost) for p in drafts) == pytest.approx(first["total_cost"])
    second = run(capsys, "--school", "HS-ZX", "--json")
    assert second == first
    again = list(Pair.objects.all())
    assert len(again) == 3
    assert not {p.pk for p in drafts} & {p.pk for p in again}
    deleted = Pair.history.filter(history_type="-")
    assert {h.id for h in deleted} == {p.pk for p in drafts}


def test_drafts_of_another_school_are_kept(school, capsys):
    run(capsys, "--school", "HS-BQ", "--json")
    run(capsys, "--school", "HS-ZX", "--json")
    run(capsys, "--school", "HS-ZX", "--json")
    assert Pair.objects.filter(school__code="HS-BQ").count() == 1


def test_active_pairs_are_kept_and_their_children_left_out(school, capsys):
    run(capsys, "--school", "HS-ZX", "--json")
    kids, buddies = school["kids"], school["buddies"]
    active = Pair.objects.get(child=kids["c31a"])
    accept_pairs(pairs=[active], by=None)
    Pair.objects.filter(pk=active.pk).update(status=PairStatus.ENDED)  # ended pairs free nobody
    ended = Pair.objects.get(pk=active.pk)
    newer = Pair.objects.create(
        child=kids["c31a"],
        buddy=buddies["liu"],
        school=school["school"],
        status=PairStatus.ACTIVE,
        cost=0,
        age_gap_days=8,
    )
    out = run(capsys, "--school", "HS-ZX", "--json")
    used = {p["child"] for p in out["pairs"]} | {p["buddy"] for p in out["pairs"]}
    assert kids["c31a"].pk not in used | set(out["unpaired"])
    assert buddies["liu"].pk not in used
    assert Pair.objects.get(pk=newer.pk).status == PairStatus.ACTIVE
    assert Pair.objects.get(pk=ended.pk).status == PairStatus.ENDED
    assert Pair.objects.filter(status=PairStatus.DRAFT).count() == len(out["pairs"])


def test_a_child_without_birth_date_is_listed_unpaired(school, capsys):
    kid = school["kids"]["c32a"]
    Child.objects.filter(pk=kid.pk).update(birth_date=None)
    out = run(capsys, "--school", "HS-ZX", "--json", "--dry-run")
    assert out["unpaired"] == [kid.pk]
    assert kid.pk not in {p["child"] for p in out["pairs"]}


def test_a_buddy_without_birth_date_is_not_used(school, capsys):
    liu = school["buddies"]["liu"]
    Child.objects.filter(pk=liu.pk).update(birth_date=None)
    out = run(capsys, "--school", "HS-ZX", "--json", "--dry-run")
    assert liu.pk not in {p["buddy"] for p in out["pairs"]}


def test_age_gap_over_730_days_is_never_paired(school, capsys):
    wang = school["kids"]["c41a"]
    Child.objects.filter(pk=wang.pk).update(birth_date=dt.date(2014, 1, 1))
    out = run(capsys, "--school", "HS-ZX", "--json", "--dry-run")
    assert all(p["age_gap_days"] <= 730 for p in out["pairs"])
    assert out["unpaired"] == [school["kids"]["c32a"].pk]


def test_only_enrolled_children_with_a_known_category_take_part(school, capsys):
    kids = school["kids"]
    Child.objects.filter(pk=kids["c31b"].pk).update(enrolment="transferred")
    Child.objects.filter(pk=kids["c32a"].pk).update(category="unknown")
    Child.objects.filter(pk=school["buddies"]["liu"].pk).update(enrolment="graduated")
    out = run(capsys, "--school", "HS-ZX", "--json", "--dry-run")
    used = {p["child"] for p in out["pairs"]} | {p["buddy"] for p in out["pairs"]}
    assert not used & {kids["c31b"].pk, kids["c32a"].pk, school["buddies"]["liu"].pk}
    assert {p["child"] for p in out["pairs"]} == {kids["c31a"].pk}


def test_migrant_children_are_paired(school, capsys):
    migrant = make_child(
        school["kids"]["c41a"].school_class,
        name="随迁小红",
        birth=dt.date(2016, 4, 3),
        is_migrant=True,
        **HOME,
    )
    assert migrant.category == "migrant"
    out = run(capsys, "--school", "HS-ZX", "--json", "--dry-run")
    assert migrant.pk in {p["child"] for p in out["pairs"]} | set(out["unpaired"])
    assert migrant.pk not in {p["buddy"] for p in out["pairs"]}


def test_same_gender_setting(school, capsys, settings):
    settings.GUANAI_PAIR_SAME_GENDER = True
    out = run(capsys, "--school", "HS-ZX", "--json", "--dry-run")
    gender = dict(Child.objects.values_list("pk", "gender"))
    assert out["pairs"]
    assert all(gender[p["child"]] == gender[p["buddy"]] for p in out["pairs"])
    # 单小明 (female) keeps 陈二 (female); the boys share 刘一 and 王五.
    assert (school["kids"]["c31b"].pk, school["buddies"]["chen"].pk) in {
        (p["child"], p["buddy"]) for p in out["pairs"]
    }


def test_coordinates_give_distance_in_metres(school, capsys):
    kid, liu = school["kids"]["c31a"], school["buddies"]["liu"]
    Child.objects.filter(pk=kid.pk).update(latitude="27.000000", longitude="112.000000")
    Child.objects.filter(pk=liu.pk).update(latitude="27.000900", longitude="112.000000")
    out = run(capsys, "--school", "HS-ZX", "--json", "--dry-run")
    item = next(p for p in out["pairs"] if p["child"] == kid.pk)
    assert item["buddy"] == liu.pk
    assert item["distance_m"] == pytest.approx(100.08, abs=0.1)
    assert item["cost"] == pytest.approx(item["distance_m"] / 1000 + 8 / 365, abs=1e-4)


def test_text_output_without_json(school, capsys):
    capsys.readouterr()
    call_command("pair", "--school", "HS-ZX", "--dry-run")
    out = capsys.readouterr().out
    assert "结对 3 对" in out and "同村同组" in out
