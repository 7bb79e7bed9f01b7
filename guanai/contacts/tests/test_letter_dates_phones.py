"""Letters print possible dates only (the vacation does not end before it starts, the return
to school is not before it ends) and give the class teacher's and the school's phone."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from guanai.children.models import Guardian
from guanai.children.validation import CardInvalid
from guanai.contacts import letters as L
from guanai.contacts import letters_pdf as P
from guanai.contacts.models import LetterBatch, LetterTemplate

from .test_letters import pdf_text


@pytest.fixture
def summer(db):
    return LetterTemplate.objects.get(built_in=True, title="暑假安全致家长的一封信")


def batch(cast, summer, **values):
    return L.create_batch(
        by=cast["users"]["zx_teacher31"],
        template=summer,
        school=cast["schools"]["zx"],
        school_class=cast["classes"]["c31"],
        values=values,
    )


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"假期开始": "2027-08-31", "假期结束": "2027-07-10"},
            "holiday_end",
            "假期结束不能早于假期开始",
        ),
        (
            {"假期开始": "2027-07-10", "假期结束": "2027-08-31", "返校日期": "2027-08-30"},
            "return_on",
            "返校日期不能早于假期结束",
        ),
        (
            {"假期开始": "2027-07-10", "返校日期": "2027-07-01"},
            "return_on",
            "返校日期不能早于假期开始",
        ),
        ({"返校日期": "3027-09-01"}, "return_on", "返校日期不能晚于"),
        ({"假期开始": "2027-13-01"}, "holiday_start", "假期开始的日期格式不对"),
    ],
)
def test_impossible_vacation_dates_are_refused_naming_the_field(
    cast, summer, values, field, message
):
    with pytest.raises(CardInvalid) as exc:
        batch(cast, summer, **values)
    assert message in exc.value.errors[field]
    assert not LetterBatch.objects.exists()


def test_the_return_on_the_last_day_of_the_vacation_is_fine(cast, summer):
    made = batch(cast, summer, 假期开始="2027-07-10", 假期结束="2027-08-31", 返校日期="2027-08-31")
    assert made.values["返校日期"] == "2027-08-31"


def test_print_page_shows_the_refusal_at_the_field(client, cast, summer):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.post(
        reverse("contacts:print"),
        {
            "template": summer.pk,
            "unit": f"class:{cast['classes']['c31'].pk}",
            "holiday_start": "2027-07-10",
            "holiday_end": "2027-08-31",
            "return_on": "2027-07-01",
        },
    )
    assert response.status_code == 200 and not LetterBatch.objects.exists()
    assert response.context["form"].errors["return_on"] == ["返校日期不能早于假期结束"]
    html = response.content.decode()
    assert 'id="id_return_on"' in html and "返校日期不能早于假期结束" in html


def test_built_in_letters_give_the_teachers_and_the_schools_phone(summer):
    for template in LetterTemplate.objects.filter(built_in=True):
        assert "{班主任电话}" in template.body and "{学校电话}" in template.body
    assert "不私自下水游泳" in summer.body  # the rest of the text as it was
    assert {"班主任电话", "学校电话"} <= set(L.PLACEHOLDERS)


def test_the_letter_prints_both_phones_or_a_line_to_write_them_on(cast, summer):
    for n, child in enumerate(cast["children"].values()):
        Guardian.objects.filter(child=child).update(phone=f"1390000{n:04d}")
    made = batch(cast, summer)
    text, _reader = pdf_text(P.build_batch_pdf(made).read_bytes())
    compact = text.replace(" ", "").replace("\n", "")
    assert "请与班主任王老师（电话：____________）或学校（电话：____________）联系" in compact
    teacher = cast["users"]["zx_teacher31"]
    teacher.phone = "13700001111"
    teacher.save(update_fields=["phone"])
    cast["schools"]["zx"].phone = "0731-5551234"
    cast["schools"]["zx"].save(update_fields=["phone"])
    made = batch(cast, summer)
    text, _reader = pdf_text(P.build_batch_pdf(made).read_bytes())
    compact = text.replace(" ", "").replace("\n", "")
    assert "请与班主任王老师（电话：13700001111）或学校（电话：0731-5551234）联系" in compact


def test_migration_gives_installed_built_ins_the_phones_once(summer):
    migration = importlib.import_module("guanai.contacts.migrations.0004_builtin_letters_phones")
    new = summer.body
    old = new.replace("（电话：{班主任电话}）或学校（电话：{学校电话}）", "")
    LetterTemplate.objects.filter(pk=summer.pk).update(body=old)
    copy = LetterTemplate.objects.create(title="本校暑假信", body=old)
    migration.add_phones(apps, None)
    migration.add_phones(apps, None)  # twice changes nothing more
    summer.refresh_from_db()
    copy.refresh_from_db()
    assert summer.body == new and copy.body == old
    migration.remove_phones(apps, None)
    summer.refresh_from_db()
    assert summer.body == old
