"""Normalisation and validation of Chinese data, shared by forms, API and import."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanai.lib.dates import DateError, add_months, age_on, current_term, parse_date, parse_term
from guanai.lib.grades import GradeError, parse_class_no, parse_grade
from guanai.lib.idcard import IdNumberError, make_id_number, parse_id_number, region_exists
from guanai.lib.masking import mask_id_number, mask_phone
from guanai.lib.phone import PhoneError, parse_phone
from guanai.lib.pinyin import search_key
from guanai.lib.text import clean, digits_of_number
from guanai.lib.vocab import VocabError, parse_parent_status, parse_relation

GOOD = make_id_number("430102", dt.date(2015, 3, 2), 123)


def test_valid_id_gives_birth_and_gender():
    info = parse_id_number(GOOD)
    assert info.birth_date == dt.date(2015, 3, 2) and info.gender == "male"


def test_full_width_and_lower_x_are_normalised():
    female_x = next(
        make_id_number("430102", dt.date(2016, 1, 1), s)
        for s in range(2, 999, 2)
        if make_id_number("430102", dt.date(2016, 1, 1), s).endswith("X")
    )
    wide = "".join(chr(ord(c) + 0xFEE0) for c in female_x[:17]) + "x"
    assert parse_id_number(wide).number == female_x


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (4.30102e17, "数字"),
        (430102201503021233, "数字"),
        ("4.30102E+17", "科学计数法"),
        ("43010220150302123", "18 位"),
        (GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1"), "校验位"),
        ("", "为空"),
    ],
)
def test_bad_id_numbers(value, message):
    with pytest.raises(IdNumberError, match=message):
        parse_id_number(value)


def test_impossible_birth_date_and_unknown_region():
    body = "43010220150230123"
    from stdnum.cn.ric import calc_check_digit

    with pytest.raises(IdNumberError, match="出生日期"):
        parse_id_number(body + calc_check_digit(body + "0"))
    with pytest.raises(IdNumberError, match="地区码"):
        parse_id_number(make_id_number("999999", dt.date(2015, 1, 1), 11))


def test_retired_region_code_is_accepted_whatever_the_birth_year():
    # 110103 崇文区 was merged away in 2010; late 户口 registration still uses it
    assert region_exists("110103")
    parse_id_number(make_id_number("110103", dt.date(2015, 5, 5), 11))


@given(
    st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2025, 12, 31)),
    st.integers(min_value=0, max_value=999),
)
def test_made_ids_always_validate(birth, seq):
    info = parse_id_number(make_id_number("430102", birth, seq))
    assert info.birth_date == birth


@pytest.mark.parametrize(
    ("raw", "number", "extra"),
    [
        ("13812345678", "13812345678", ""),
        ("138 1234 5678", "13812345678", ""),
        ("138-1234-5678", "13812345678", ""),
        ("+86 13812345678", "13812345678", ""),
        ("+8613812345678", "13812345678", ""),
        (13812345678.0, "13812345678", ""),
        ("0739-8123456", "0739-8123456", ""),
        ("07398123456", "0739-8123456", ""),
        ("010-12345678", "010-12345678", ""),
        ("13812345678/13912345678", "13812345678", "13912345678"),
        ("１３８１２３４５６７８", "13812345678", ""),
        ("", "", ""),
    ],
)
def test_phones(raw, number, extra):
    phone = parse_phone(raw)
    assert (phone.number, phone.extra) == (number, extra)


@pytest.mark.parametrize("raw", ["12345", "12812345678", "1381234567", "abc", "8123456"])
def test_bad_phones(raw):
    with pytest.raises(PhoneError, match="手机号"):
        parse_phone(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "2015-03-02",
        "2015/3/2",
        "2015.3.2",
        "2015年3月2日",
        "20150302",
        20150302.0,
        42065,
        dt.datetime(2015, 3, 2, 0, 0),
        " 2015-03-02 ",
    ],
)
def test_dates(raw):
    assert parse_date(raw) == dt.date(2015, 3, 2)


@pytest.mark.parametrize("raw", ["2015-02-30", "去年", "2015/13/01", "3/2/2015"])
def test_bad_dates(raw):
    with pytest.raises(DateError):
        parse_date(raw)


def test_age_months_and_terms():
    assert age_on(dt.date(2010, 11, 29), dt.date(2026, 11, 29)) == 16
    assert age_on(dt.date(2010, 11, 30), dt.date(2026, 11, 29)) == 15
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert current_term(dt.date(2026, 11, 29)) == "2026-2027-1"
    assert current_term(dt.date(2027, 3, 1)) == "2026-2027-2"
    assert current_term(dt.date(2027, 1, 15)) == "2026-2027-1"
    assert current_term(dt.date(2027, 8, 20)) == "2026-2027-2"
    assert parse_term("2026-2027-2") == "2026-2027-2"
    for bad in ("2026-2028-1", "2026-2027-3", "2026"):
        with pytest.raises(DateError):
            parse_term(bad)


@pytest.mark.parametrize(
    ("raw", "grade"),
    [
        ("3", 3),
        (3.0, 3),
        ("3年级", 3),
        ("三年级", 3),
        ("初一", 7),
        ("学前班", 0),
        ("六年级", 6),
        ("９", 9),
    ],
)
def test_grades(raw, grade):
    assert parse_grade(raw) == grade


@pytest.mark.parametrize(
    ("raw", "class_no"),
    [("2", 2), (2.0, 2), ("2班", 2), ("(2)班", 2), ("（2）班", 2), ("二班", 2), ("12班", 12)],
)
def test_classes(raw, class_no):
    assert parse_class_no(raw) == class_no


@pytest.mark.parametrize("raw", ["", "高年级", "20年级", "abc"])
def test_bad_grades(raw):
    with pytest.raises(GradeError):
        parse_grade(raw)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("在家", "home"),
        ("务农", "home"),
        ("在本地", "home"),
        ("打工", "away"),
        ("外出打工", "away"),
        ("务工", "away"),
        ("外出", "away"),
        ("外出务工", "away"),
        ("去世", "deceased"),
        ("死亡", "deceased"),
        ("病故", "deceased"),
        ("已故", "deceased"),
        ("下落不明", "missing"),
        ("失踪", "missing"),
        ("重病", "incapable"),
        ("重残", "incapable"),
        ("服刑", "incapable"),
        ("无监护能力", "incapable"),
        ("", ""),
    ],
)
def test_parent_status_synonyms(raw, code):
    assert parse_parent_status(raw) == code


def test_unknown_status_is_refused():
    with pytest.raises(VocabError, match="无法识别"):
        parse_parent_status("出差")


@pytest.mark.parametrize(
    ("raw", "rel"),
    [
        ("爷爷", "祖父"),
        ("奶奶", "祖母"),
        ("外公", "外祖父"),
        ("姥爷", "外祖父"),
        ("外婆", "外祖母"),
        ("姥姥", "外祖母"),
        ("姑姑", "姑姑"),
    ],
)
def test_relations(raw, rel):
    assert parse_relation(raw) == rel


def test_masking():
    assert mask_id_number("430102201503021233") == "4301**********1233"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("0739-8123456") == "0739-***3456"
    assert mask_phone("") == ""


def test_pinyin_indexes_every_reading():
    key = search_key("单小明").split()
    assert "sxm" in key and "dxm" in key and "shanxiaoming" in key
    assert search_key("张三").split()[0] == "zs"


@pytest.mark.parametrize(
    "name", ["学生0的姐姐", "曾乐乐乐乐", "单单单单单单单单", "长乐朝阳重行行"]
)
def test_pinyin_key_fits_its_column_and_keeps_the_usual_reading(name):
    from pypinyin import Style, pinyin

    key = search_key(name)
    assert len(key) <= 500  # Child.name_pinyin: PostgreSQL refuses a longer value
    usual = "".join(r[0] for r in pinyin(name, style=Style.NORMAL, errors="default"))
    assert usual in key.split()


@given(st.text(alphabet="单长乐曾朝重行学生的姐张三", min_size=1, max_size=30))
def test_pinyin_key_never_exceeds_500(name):
    assert len(search_key(name)) <= 500


def test_clean_and_numbers():
    assert clean("  １２３　") == "123"
    assert clean(None) == ""
    assert digits_of_number(13812345678.0) == "13812345678"
    assert digits_of_number("3.0") == "3"


def test_encryption_round_trip(settings):
    from guanai.lib import crypto

    token = crypto.encrypt("430102201503021233")
    assert "430102" not in token
    assert crypto.decrypt(token) == "430102201503021233"
    assert crypto.encrypt("x") != crypto.encrypt("x")  # random nonce
    assert crypto.lookup_hash("x") == crypto.lookup_hash("x")


@pytest.mark.parametrize("cell", ["0", 0, "0 ", "00"])
def test_a_lone_zero_is_a_bad_phone_not_a_crash(cell):
    from guanai.lib.phone import PhoneError, normalize_phone

    with pytest.raises(PhoneError):
        normalize_phone(cell)
