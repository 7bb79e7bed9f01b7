"""Excel formula injection (issue #19): a child named `=HYPERLINK("http://x","y")`, or a note
starting with + - @, leaves every export as the same text — a string cell ('s'), never a
formula ('f') — through the web exports and the command-line ones."""

import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from guanai.accounts.models import AccessAction
from guanai.accounts.services import log_access
from guanai.children.models import Child

NAME = '=HYPERLINK("http://x","y")'
VILLAGE = "+1-2"
ADDRESS = "-2+3 组"
NOTES = "@SUM(A1:A9)"
DETAIL = '=cmd|" /C calc"!A0'
INJECTED = {NAME, VILLAGE, ADDRESS, NOTES, DETAIL}


@pytest.fixture
def poisoned(cast):
    child = cast["children"]["c31a"]
    Child.objects.update(boarding=True, guardianship_assessment="good")  # a complete 民政 return
    Child.objects.filter(pk=child.pk).update(
        name=NAME, village=VILLAGE, address=ADDRESS, notes=NOTES
    )
    child.refresh_from_db()
    return child


def _cells(source: bytes | Path) -> list:
    book = openpyxl.load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def _assert_text(source: bytes | Path, *expected: str) -> None:
    """Each expected value is in the workbook unchanged as a text-formatted string cell, and no
    cell at all is a formula."""
    cells = _cells(source)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    found = {c.value: c.data_type for c in cells if c.value in INJECTED}
    for value in expected:
        assert found.get(value) == "s", (value, found)
    # text-formatted ('@'): editing the cell in Excel does not turn it into a formula either
    assert {c.number_format for c in cells if c.value in INJECTED} == {"@"}


def test_the_children_due_list_export(client, poisoned, users):
    client.force_login(users["zx_leader"])
    response = client.get(reverse("contacts:due"), {"export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    _assert_text(response.content, NAME)


def test_the_roster_export_command(poisoned, tmp_path):
    target = tmp_path / "roster.xlsx"
    call_command("export_roster", "--school", "HS-ZX", "-o", str(target), stdout=io.StringIO())
    _assert_text(target, NAME, VILLAGE, ADDRESS, NOTES)


def test_the_access_log_page_export(client, poisoned, users):
    log_access(
        request=None,
        user=users["zx_leader"],
        action=AccessAction.VIEW_SENSITIVE,
        child=poisoned,
        detail=DETAIL,
    )
    client.force_login(users["town"])
    response = client.get(reverse("accounts:access_log"), {"export": "xlsx"})
    assert response.status_code == 200
    _assert_text(response.content, NAME, DETAIL)


def test_the_audit_export_command(poisoned, users, tmp_path):
    log_access(
        request=None,
        user=users["zx_leader"],
        action=AccessAction.VIEW_SENSITIVE,
        child=poisoned,
        detail=DETAIL,
    )
    target = tmp_path / "audit.xlsx"
    call_command("audit", "export", "-o", str(target), stdout=io.StringIO())
    _assert_text(target, NAME, DETAIL)


@pytest.mark.parametrize("command", ["export_xueji", "export_minzheng"])
def test_the_xueji_and_minzheng_export_commands(poisoned, tmp_path, command):
    target = tmp_path / f"{command}.xlsx"
    call_command(command, "--school", "HS-ZX", "-o", str(target), stdout=io.StringIO())
    _assert_text(target, NAME)
