"""Fixtures of the screening tests: jobs run at once, roster sheets built on the fly."""

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanai.testing import new_id_number

HEADER = [
    "姓名",
    "性别",
    "身份证号",
    "年级",
    "班级",
    "父亲状况",
    "母亲状况",
    "监护人姓名",
    "监护人电话",
]


@pytest.fixture(autouse=True)
def _immediate_jobs(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def roster_row(name: str, *, birth=dt.date(2016, 5, 1), grade="3", class_no="1", **extra):
    row = {
        "姓名": name,
        "性别": "男",
        "身份证号": new_id_number(birth, "male"),
        "年级": grade,
        "班级": class_no,
        "父亲状况": "外出务工",
        "母亲状况": "在家",
        "监护人姓名": "李奶奶",
        "监护人电话": "13912345678",
    }
    row.update(extra)
    return row


def roster_csv(rows: list[dict], name: str = "花名册.csv", encoding: str = "utf-8"):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(encoding), content_type="text/csv")


def good_and_bad(n_good: int = 3) -> list[dict]:
    """n_good valid rows, then a row with a wrong check digit and one without 年级."""
    rows = [roster_row(f"新生{i}") for i in range(n_good)]
    bad_id = roster_row("错号")
    bad_id["身份证号"] = bad_id["身份证号"][:-1] + ("0" if bad_id["身份证号"][-1] != "0" else "1")
    rows.append(bad_id)
    rows.append(roster_row("缺年级", grade=""))
    return rows
