"""The roster import's shortcuts (issue #19) read every cell exactly as the general code does:
phones, 学籍号, lookup hashes, and the per-import memory of repeating cells, which must never
hide a row's error."""

import datetime as dt

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from guanai.children.models import Child
from guanai.children.roster.reading import (
    _Hasher,
    _memo,
    _numeric_text,
    _phone,
    _plain_text,
)
from guanai.lib import crypto
from guanai.lib.grades import GradeError, parse_grade
from guanai.lib.idcard import normalize_student_no
from guanai.lib.phone import parse_phone

from .test_roster_import import errors_by_row, ident, run, sheet


def _outcome(parse, value):
    try:
        return ("ok", parse(value))
    except Exception as exc:  # noqa: BLE001 — whatever the general path raises, the same
        return ("error", type(exc), str(exc))


PHONE_CELLS = st.one_of(
    st.text(alphabet="0123456789", min_size=9, max_size=13),
    st.text(alphabet="0123456789-+/ ()（）、或", max_size=16),
    st.from_regex(r"1[0-9]{10}", fullmatch=True),
    st.integers(min_value=0, max_value=10**12),
)


@given(PHONE_CELLS)
@settings(max_examples=500, deadline=None)
def test_phone_shortcut_reads_every_cell_like_parse_phone(value):
    if isinstance(value, str):
        value = value.strip()  # cells reach it trimmed
    assert _outcome(_phone, value) == _outcome(parse_phone, value)


@given(st.one_of(st.text(alphabet="0123456789gGlLjJxX ．.", max_size=22), st.text(max_size=8)))
@settings(max_examples=500, deadline=None)
def test_student_no_shortcut_reads_like_the_general_path(value):
    value = value.strip()
    fast = _plain_text(value)
    if fast is not None:
        assert fast == normalize_student_no(_numeric_text(value, "学籍号"))
        assert fast == _numeric_text(value, "学号")


@pytest.mark.parametrize("old_keys", ["", "an-older-key", "one-old-key\nanother-old-key"])
def test_import_hashes_equal_the_key_rings_lookup_hashes(old_keys):
    with override_settings(FIELD_OLD_KEYS=old_keys):
        hasher = _Hasher()
        for value in ("430523201408150011", "G43052320140815001X", "", "张三"):
            assert hasher(value) == crypto.lookup_hash(value)
            assert [hasher(value), *hasher.older(value)] == crypto.lookup_hashes(value)


def test_memo_gives_the_same_answers_and_raises_each_time():
    calls = []

    def parse(value):
        calls.append(value)
        return parse_grade(value)

    grade = _memo(parse)
    assert [grade("三年级"), grade("三年级"), grade(3), grade(3.0)] == [3, 3, 3, 3]
    assert calls == ["三年级", 3, 3.0]  # an int and a float are distinct cells
    for _ in range(2):
        with pytest.raises(GradeError, match="无法识别"):
            grade("十五年级")


@pytest.mark.clock("2026-09-01 08:00")
def test_repeated_bad_cells_are_reported_on_every_row(cast, tmp_path):
    head = ["姓名", "身份证号", "年级", "班级", "出生日期", "父亲状况", "母亲状况"]
    future = dt.date(2026, 10, 1)
    rows = [
        ["张一", ident(seq=11), "十五年级", 1, "", "在家", "在家"],
        ["张二", ident(seq=13), "十五年级", 1, "", "在家", "在家"],
        ["张三", ident(seq=15), 3, "二班", future, "在家", "在家"],
        ["张四", ident(seq=17), 3, "二班", future, "在家", "在家"],
        ["张五", ident(seq=19), 3, "二班", "", "在家", "在家"],
    ]
    code, result, _ = run(sheet(tmp_path, rows, head))
    got = errors_by_row(result)
    assert code == 1 and result["created"] == 1 and result["rejected"] == 4
    assert got[2] == got[3] and got[2][0][0] == "年级"
    assert got[4] == got[5] and "不能晚于今天" in got[4][0][1]
    assert Child.objects.get(name="张五").school_class.class_no == 2


def test_the_write_leaves_the_connections_page_cache_as_it_was(cast, tmp_path):
    from django.db import connection

    def cache_size():
        # SQLite's page cache is what the write enlarges; PostgreSQL's session is left alone
        # (its memory for the session stays what it was).
        sql = "PRAGMA cache_size" if connection.vendor == "sqlite" else "SHOW work_mem"
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]

    before = cache_size()
    code, result, _ = run(sheet(tmp_path, [["张小", ident(), 3, 1, "在家", "在家"]]))
    assert code == 0 and result["created"] == 1
    assert cache_size() == before
