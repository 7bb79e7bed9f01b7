"""Card services: encryption at rest, dated facts, classification history, refresh."""

import datetime as dt

import pytest
from django.db import connection

from guanai.children.models import Child, Parent
from guanai.children.services import (
    CardInvalid,
    StaleVersion,
    category_timeline,
    classification_on,
    find_by_id_number,
    refresh_classifications,
    update_child,
)
from guanai.testing import make_child


def test_id_number_is_encrypted_at_rest_and_found_by_keyed_hash(cast):
    child = cast["children"]["c31a"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number_enc, id_number_hash FROM children_child WHERE id = %s", [child.pk]
        )
        enc, digest = cursor.fetchone()
    assert child.id_number not in enc and child.id_number not in digest
    assert find_by_id_number(child.id_number).pk == child.pk
    # historical rows hold only the ciphertext too
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM children_historicalchild")
        assert child.id_number not in str(cursor.fetchall())


def test_same_id_number_twice_is_refused(cast):
    child = cast["children"]["c31a"]
    with pytest.raises(CardInvalid) as exc:
        make_child(cast["classes"]["c32"], name="双胞胎", id_number=child.id_number)
    assert "本校" in exc.value.errors["id_number"] or "已" in exc.value.errors["id_number"]


def test_version_check(cast):
    child = cast["children"]["c31a"]
    update_child(child=child, data={"village": "甲"}, version=child.version, by=None)
    with pytest.raises(StaleVersion):
        update_child(child=child, data={"village": "乙"}, version=child.version, by=None)


def test_parents_return_makes_child_not_left_behind_from_that_date(cast):
    child = make_child(
        cast["classes"]["c31"],
        name="返乡",
        **{"father.effective_from": "2024-01-01", "mother.effective_from": "2024-01-01"},
    )
    day = dt.date.today() - dt.timedelta(days=30)
    update_child(
        child=child,
        version=child.version,
        by=None,
        reason="父母返乡",
        data={
            "father.status": "home",
            "father.effective_from": day.isoformat(),
            "mother.status": "home",
            "mother.effective_from": day.isoformat(),
        },
    )
    child.refresh_from_db()
    assert child.category == "none"
    assert classification_on(child, day - dt.timedelta(days=1)).category == "double"
    assert classification_on(child, day).category == "none"
    timeline = category_timeline(child)
    assert [t["category"] for t in timeline][-2:] == ["double", "none"]
    assert timeline[-1]["on"] == day


def test_when_did_child_become_double(cast):
    child = make_child(
        cast["classes"]["c31"],
        name="晚外出",
        **{
            "father.status": "away",
            "father.away_since": "2024-01-10",
            "father.effective_from": "2024-01-10",
            "mother.status": "home",
            "mother.effective_from": "2024-01-10",
        },
    )
    mother_left = dt.date(2025, 3, 1)
    update_child(
        child=child,
        version=child.version,
        by=None,
        data={
            "mother.status": "away",
            "mother.away_since": mother_left.isoformat(),
            "mother.effective_from": mother_left.isoformat(),
        },
    )
    timeline = category_timeline(child)
    cats = [(t["on"], t["category"]) for t in timeline]
    assert (dt.date(2024, 4, 10), "single") in cats
    # once she leaves no parent is at home: 双留守 at once, before her three months are up
    assert (mother_left, "double") in cats
    assert classification_on(child, dt.date(2024, 1, 9)).category == "unknown"


def test_refresh_reclassifies_when_time_passes(cast):
    recent = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    child = make_child(
        cast["classes"]["c31"],
        name="刚外出",
        **{"father.status": "away", "father.away_since": recent, "mother.status": "home"},
    )
    assert child.category == "none"
    changed = refresh_classifications(on=dt.date.today() + dt.timedelta(days=70))
    child.refresh_from_db()
    assert changed >= 1 and child.category == "single"
    assert child.history.first().history_change_reason == "按日期重新认定"


def test_failed_update_writes_nothing(cast):
    child = cast["children"]["c31a"]
    before = (Child.history.count(), Parent.history.count())
    with pytest.raises(CardInvalid):
        update_child(
            child=child,
            version=child.version,
            by=None,
            data={"village": "不应保存", "guardian.phone": "123"},
        )
    child.refresh_from_db()
    assert child.village != "不应保存"
    assert (Child.history.count(), Parent.history.count()) == before


def test_access_log_cannot_be_edited_or_deleted(cast):
    from guanai.accounts.models import AccessLog
    from guanai.accounts.services import log_access

    row = log_access(request=None, user=None, action="export", detail="测试")
    assert row.username == "命令行"
    row.detail = "改"
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    assert AccessLog.objects.get(pk=row.pk).detail == "测试"


def test_refresh_command_reports_changes(cast, capsys):
    from django.core.management import call_command

    call_command("refresh_classifications")
    assert "已重新认定" in capsys.readouterr().out
