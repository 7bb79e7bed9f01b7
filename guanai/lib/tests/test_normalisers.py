"""One normaliser per kind (issue #11): yes/no, numerals and query-string dates are read once, in
lib, for forms, roster rows, API bodies and links alike."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from guanai.lib.dates import DateError, query_date, query_date_or, query_moment
from guanai.lib.errors import Invalid
from guanai.lib.grades import GradeError, parse_class_no, parse_grade
from guanai.lib.numerals import parse_numeral
from guanai.lib.vocab import VocabError, parse_yes_no

TODAY = dt.date(2026, 11, 29)
SHANGHAI = ZoneInfo("Asia/Shanghai")

# --- yes/no ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["是", "有", "√", "✓", "1", 1, 1.0, "1.0", "y", "Y", "yes", "YES", "true", "True", "on"]
)
def test_yes_in_every_form_people_write_it(raw):
    assert parse_yes_no(raw) is True


@pytest.mark.parametrize(
    "raw", ["否", "无", "不是", "×", "✗", "0", 0, "n", "N", "no", "false", "False", "off"]
)
def test_no_in_every_form_people_write_it(raw):
    assert parse_yes_no(raw) is False


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000"])
def test_a_blank_answer_is_no_answer(raw):
    assert parse_yes_no(raw) is None


def test_a_bool_passes_through():
    assert parse_yes_no(True) is True and parse_yes_no(False) is False


def test_boarding_words_only_where_they_answer_the_question():
    assert parse_yes_no("寄宿", boarding=True) is True
    assert parse_yes_no("住校", boarding=True) is True
    assert parse_yes_no("走读", boarding=True) is False
    assert parse_yes_no("√", boarding=True) is True
    with pytest.raises(VocabError, match="应为 是 或 否"):
        parse_yes_no("寄宿")  # 是否随迁子女: 寄宿 is no answer


@pytest.mark.parametrize("raw", ["也许", "2", "yes!", "对不对"])
def test_anything_else_is_refused_in_chinese(raw):
    with pytest.raises(VocabError, match=f"“{raw}”应为 是 或 否"):
        parse_yes_no(raw)


# --- numerals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("3", 3),
        ("03", 3),
        ("３", 3),
        ("一", 1),
        ("两", 2),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十三", 23),
        ("九十九", 99),
        ("一百", 100),
        ("一百零五", 105),
        ("〇", 0),
    ],
)
def test_numerals(raw, number):
    assert parse_numeral(raw) == number


@pytest.mark.parametrize("raw", ["", "abc", "三年级", "十十", "二十三四"])
def test_not_a_numeral(raw):
    assert parse_numeral(raw) is None


def test_digit_by_digit_only_when_asked():
    assert parse_numeral("一二", digit_by_digit=True) == 12
    assert parse_numeral("一二") is None
    with pytest.raises(GradeError):
        parse_grade("一二年级")


def test_grades_and_classes_read_the_same_numerals_as_groups():
    assert parse_grade("十二年级") == 12
    assert parse_class_no("两班") == 2
    assert parse_class_no("十一班") == 11


# --- dates in query strings -----------------------------------------------------------------


@pytest.mark.parametrize("raw", ["2026-11-01", "2026/11/01", "2026年11月1日", " 2026-11-01 "])
def test_query_date_reads_dates_like_every_date(raw):
    assert query_date(raw, label="日期", today=TODAY) == dt.date(2026, 11, 1)


@pytest.mark.parametrize("raw", [None, "", " "])
def test_query_date_absent(raw):
    assert query_date(raw, label="日期", today=TODAY) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "起始时间：日期“abc”无法识别"),
        ("2026-02-30", "起始时间：日期“2026-02-30”不存在"),
        ("9999-12-31", "起始时间不能晚于 2028-11-29"),
        ("0001-01-01", "起始时间不能早于 2000-01-01"),
    ],
)
def test_query_date_names_its_label(raw, message):
    with pytest.raises(DateError) as exc:
        query_date(raw, label="起始时间", today=TODAY)
    assert str(exc.value).startswith(message)


def test_a_page_falls_back_to_its_default_and_says_so():
    default = dt.date(2026, 11, 29)
    assert query_date_or("2026-11-02", default, label="周", today=TODAY) == (
        dt.date(2026, 11, 2),
        "",
    )
    assert query_date_or(None, default, label="周", today=TODAY) == (default, "")
    day, message = query_date_or("9999-12-31", default, label="周", today=TODAY)
    assert day == default
    assert message.startswith("周不能晚于") and message.endswith("；已改为 2026-11-29")


def test_a_filter_that_cannot_be_read_is_left_out_and_says_so():
    assert query_date_or("2026-11-02", None, label="起始日期", today=TODAY) == (
        dt.date(2026, 11, 2),
        "",
    )
    day, message = query_date_or("11/02", None, label="起始日期", today=TODAY)
    assert day is None
    assert message.startswith("起始日期：日期“11/02”无法识别") and message.endswith(
        "未按此日期筛选"
    )


def test_query_moment_takes_a_whole_day_or_a_moment():
    whole = query_moment("2026-11-01", label="起始时间", tz=SHANGHAI, today=TODAY)
    assert whole == (dt.datetime(2026, 11, 1, tzinfo=SHANGHAI), True)
    moment = query_moment("2026-11-01T08:30:00", label="起始时间", tz=SHANGHAI, today=TODAY)
    assert moment == (dt.datetime(2026, 11, 1, 8, 30, tzinfo=SHANGHAI), False)
    utc = query_moment("2026-11-01T00:30:00+00:00", label="起始时间", tz=SHANGHAI, today=TODAY)
    assert utc is not None and utc[0].utcoffset() == dt.timedelta(0)
    assert query_moment("", label="起始时间", tz=SHANGHAI, today=TODAY) is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2026-11-01T25:00", "截止时间：“2026-11-01T25:00”无法识别"),
        ("9999-12-31T08:00", "截止时间不能晚于"),
        ("nonsense", "截止时间：日期“nonsense”无法识别"),
    ],
)
def test_query_moment_names_its_label(raw, message):
    with pytest.raises(DateError, match=f"^{message}"):
        query_moment(raw, label="截止时间", tz=SHANGHAI, today=TODAY)


# --- the one error type ---------------------------------------------------------------------


def test_one_invalid_type_for_card_pairing_and_api():
    from guanai.children.validation import CardInvalid
    from guanai.pairing.responsibility import Invalid as PairingInvalid

    assert CardInvalid is Invalid and PairingInvalid is Invalid
    exc = Invalid({"since": "起始时间不能晚于 2028-11-29"}, source="query")
    assert exc.errors == {"since": "起始时间不能晚于 2028-11-29"} and exc.source == "query"
    assert Invalid({"name": "姓名不能为空"}).source == "body"
