"""Exports keep text as text: a name or note that looks like a formula (=, +, -, @) is written as
a string in a text-formatted ('@') cell, in the due list and the not-yet-visited list alike
(guanai/exports.py, security issue #10). A round named 秋季/冬季 names a sheet too."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from guanai.contacts.models import VisitRound
from guanai.testing import SUITE_TODAY, make_child

FORMULA = '=HYPERLINK("http://x")'
NOTE = "+1-2"


def _cells(response) -> dict:
    """Every non-empty cell of the export, by value."""
    sheet = load_workbook(io.BytesIO(response.content)).active
    return {c.value: c for row in sheet.iter_rows() for c in row if c.value is not None}


def _assert_text(cell) -> None:
    assert cell.data_type == "s", (cell.value, cell.data_type)
    assert cell.number_format == "@", (cell.value, cell.number_format)


@pytest.fixture
def tricky(cast, users):
    child = make_child(cast["classes"]["c31"], name=FORMULA)
    proxy = users["proxy_wang"]
    proxy.display_name = NOTE
    proxy.save()
    return child


def test_due_list_export_writes_formula_like_text_as_text(client, users, tricky):
    client.force_login(users["zx_leader"])
    response = client.get(reverse("contacts:due"), {"export": "xlsx"})
    cells = _cells(response)
    for value in (FORMULA, NOTE, "姓名", "张三"):
        _assert_text(cells[value])
    title = next(v for v in cells if isinstance(v, str) and v.startswith("待联系名单"))
    _assert_text(cells[title])
    assert isinstance(cells[3].value, int)  # numbers stay numbers (年级)


def test_not_visited_export_writes_formula_like_text_as_text(client, users, cast, tricky):
    VisitRound.objects.create(
        town=cast["town_obj"], name=f"{NOTE} 秋季/冬季", since=SUITE_TODAY, until=SUITE_TODAY
    )
    client.force_login(users["zx_leader"])
    response = client.get(reverse("contacts:coverage"), {"export": "xlsx"})
    cells = _cells(response)
    _assert_text(cells[FORMULA])
    title = next(v for v in cells if isinstance(v, str) and v.startswith("尚未家访名单"))
    assert NOTE in title
    _assert_text(cells[title])
