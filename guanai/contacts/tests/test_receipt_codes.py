"""Receipt codes typed from a returned slip: a well-formed but unknown code is "not found",
only a code of the wrong length is "format"."""

import pytest

from guanai.contacts.letters import ReceiptError, record_receipt


@pytest.mark.parametrize("code", ["ZZZZZZ", "zzzzzz", "OOOO00", "AAAAAA"])
def test_a_well_formed_unknown_code_is_not_found(users, code):
    with pytest.raises(ReceiptError) as exc:
        record_receipt(code=code, by=users["zx_teacher31"])
    assert "没有找到这个回执编号" in str(exc.value)
    assert "格式" not in str(exc.value)


@pytest.mark.parametrize("code", ["ABC", "ACDEFGH", ""])
def test_a_code_of_the_wrong_length_says_six_characters(users, code):
    with pytest.raises(ReceiptError, match="应为 6 位字母数字"):
        record_receipt(code=code, by=users["zx_teacher31"])
