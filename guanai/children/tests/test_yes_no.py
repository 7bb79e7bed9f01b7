"""Yes/no on the card: the card validator (card form, API, import rows) reads the marks the
roster import reads — one parser, lib.vocab.parse_yes_no (issue #11: √ was imported but refused
by the card form)."""

import pytest

from guanai.children.models import Child
from guanai.children.tests.test_roster_import import ident, run, sheet
from guanai.children.validation import CardInvalid, clean_card

HEAD = ["姓名", "身份证号", "年级", "班级", "父亲状况", "母亲状况", "是否随迁子女", "是否寄宿"]
MARKS = [("√", True), ("✓", True), ("是", True), ("1", True), ("×", False), ("否", False)]


@pytest.mark.parametrize(("mark", "meaning"), MARKS)
def test_card_form_reads_a_mark_like_the_import(cast, tmp_path, mark, meaning):
    card = clean_card({"is_migrant": mark, "boarding": mark, "guardian.is_entrusted": mark})
    assert card == {"is_migrant": meaning, "boarding": meaning, "guardian.is_entrusted": meaning}
    row = ["张小", ident(), 3, 1, "外出务工", "在家", mark, mark]
    assert run(sheet(tmp_path, [row], HEAD))[0] == 0
    child = Child.objects.get(name="张小")
    assert (child.is_migrant, child.boarding) == (meaning, meaning)


def test_boarding_takes_its_own_words_on_the_card_and_in_the_sheet(cast, tmp_path):
    assert clean_card({"boarding": "寄宿"}) == {"boarding": True}
    assert clean_card({"boarding": "走读"}) == {"boarding": False}
    row = ["张小", ident(), 3, 1, "外出务工", "在家", "否", "走读"]
    assert run(sheet(tmp_path, [row], HEAD))[0] == 0
    assert Child.objects.get(name="张小").boarding is False


def test_an_unreadable_answer_gets_the_same_message_on_the_card_and_in_the_sheet(cast, tmp_path):
    with pytest.raises(CardInvalid) as exc:
        clean_card({"is_migrant": "寄宿"})
    assert exc.value.errors == {"is_migrant": "“寄宿”应为 是 或 否"}
    row = ["张小", ident(), 3, 1, "外出务工", "在家", "寄宿", ""]
    _code, result, _err = run(sheet(tmp_path, [row], HEAD))
    assert "“寄宿”应为 是 或 否" in str(result)
    assert not Child.objects.filter(name="张小").exists()
