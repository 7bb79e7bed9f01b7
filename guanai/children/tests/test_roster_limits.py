"""Files built to hurt the importer (security issue #10): each is refused with a message for the
teacher, and the process that reads it survives.

python-calamine aborts the whole process when it cannot allocate the grid of a sheet's used
range, so these files are small on disk and huge once read: a far cell (A1 and XFD1048576 in
1.6 KB), a 64 MB cell, 200,001 rows, 201 columns. The bench (bench/bad_sheets.py) measures the
full-size ones: a 1 GB cell and 16 million rows.
"""

import os
import pickle
import resource
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest

from guanai.children.roster import RosterError, import_roster, read_sheet
from guanai.lib import xlsx

from . import bad_sheets
from .test_roster_import import ident, run, write_xlsx


def refusal(path: Path, **kwargs) -> str:
    with pytest.raises(RosterError) as caught:
        list(read_sheet(path, **kwargs))
    message = str(caught.value)
    assert not any(word in message for word in ("Error", "error", "field", "memory")), message
    return message


# --- the far cell: 1.6 KB asking calamine for 549 GB ------------------------------------------


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> dict[str, str]:
    """A data directory of its own, migrated, with one school, for `guanai` run as a program."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["GUANAI_DATA_DIR"] = str(tmp_path_factory.mktemp("guanai-data"))
    for args in (
        ["init"],
        ["add-school", "--code", "T-1", "--name", "测试小学", "--town", "测试镇"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "guanai", *args],
            env=env,
            capture_output=True,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
    return env


def test_cli_refuses_far_cell_with_exit_2_instead_of_aborting(data_dir, tmp_path):
    path = bad_sheets.far_cell(tmp_path / "花名册.xlsx")
    assert path.stat().st_size < 2000
    done = subprocess.run(
        [sys.executable, "-m", "guanai", "import-roster", str(path), "--school", "T-1"],
        env=data_dir,
        capture_output=True,
        check=False,
        timeout=300,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 2, (done.returncode, stderr[-2000:])
    assert "XFD1048576" in stderr and "200000 行" in stderr and "花名册.xlsx" in stderr


def test_far_cell_without_dimension_is_refused_before_calamine(tmp_path):
    message = refusal(bad_sheets.far_cell(tmp_path / "a.xlsx"))
    assert "1048576 行" in message and "XFD1048576" in message


def test_far_cell_with_its_true_dimension_is_refused(tmp_path):
    path = bad_sheets.far_cell(tmp_path / "a.xlsx", dimension="A1:XFD1048576")
    assert "XFD1048576" in refusal(path)


def test_far_cell_behind_a_lying_dimension_costs_only_the_reader_process(tmp_path):
    """The dimension says A1:A2, so nothing is scanned: calamine itself meets the memory
    ceiling of its child process, which dies; this one says why and carries on."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    message = refusal(bad_sheets.far_cell(tmp_path / "a.xlsx", dimension="A1:A2"))
    assert "内存上限" in message and "多余的行和列" in message
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024  # KB
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 1536 * 1024


def test_columns_beyond_the_limit_are_refused(tmp_path):
    path = bad_sheets.far_cell(tmp_path / "a.xlsx", dimension="A1:GS2", ref="GS2")
    message = refusal(path)
    assert "201 列" in message and "200 列" in message


def test_rows_beyond_the_limit_are_refused(tmp_path):
    counted = bad_sheets.many_rows(tmp_path / "a.xlsx", xlsx.MAX_ROWS)  # no r=, no dimension
    assert counted.stat().st_size < 100_000
    assert "200001 行" in refusal(counted)
    honest = bad_sheets.many_rows(
        tmp_path / "b.xlsx", xlsx.MAX_ROWS, refs=True, dimension="A1:A200001"
    )
    assert "200001 行" in refusal(honest)


def test_rows_behind_a_lying_dimension_are_counted_before_calamine(tmp_path):
    """`<dimension ref="A1:A2">` over 200,001 rows: far more XML than two cells take, so the
    cells are scanned before calamine builds them (16 M rows so cost the reader 1.1 GB)."""
    path = bad_sheets.many_rows(tmp_path / "a.xlsx", xlsx.MAX_ROWS, dimension="A1:A2")
    with pytest.raises(xlsx.SheetError, match="200001 行"):
        xlsx.check_xlsx(path)


def test_sheet_at_the_row_limit_is_read(tmp_path):
    path = bad_sheets.many_rows(tmp_path / "a.xlsx", xlsx.MAX_ROWS - 1)
    assert sum(1 for _ in read_sheet(path)) == xlsx.MAX_ROWS


# --- long cells and zip bombs -------------------------------------------------------------------


def test_cell_of_64_mb_is_refused_without_reading_it(tmp_path):
    path = bad_sheets.huge_cell(tmp_path / "a.xlsx", 64 * 2**20)
    assert path.stat().st_size < 200_000
    assert "32767 个字符" in refusal(path)


def test_cell_just_over_excels_limit_is_refused_naming_it(tmp_path):
    path = bad_sheets.plain(tmp_path / "a.xlsx", [["姓名"], ["长" * 32_768]])
    assert "第 2 行第 A 列" in refusal(path)
    ok = bad_sheets.plain(tmp_path / "b.xlsx", [["姓名"], ["长" * 32_767]])
    assert len(list(read_sheet(ok))[1][1][0]) == 32_767


def test_part_inflating_past_its_limit_is_refused(tmp_path, monkeypatch):
    """The zip's own size fields are not trusted: the bytes are counted as they inflate."""
    monkeypatch.setattr(xlsx, "MAX_SHEET_XML_BYTES", 4 * 2**20)
    path = bad_sheets.many_rows(tmp_path / "a.xlsx", 170_000)
    with pytest.raises(xlsx.SheetError, match="解压后过大"):
        xlsx.check_xlsx(path)
    monkeypatch.setattr(xlsx, "MAX_PART_BYTES", 1000)
    small = bad_sheets.plain(tmp_path / "b.xlsx", [["姓名"]], dimension="A1")
    styles = "<styleSheet>" + "<numFmt/>" * 200 + "</styleSheet>"
    with zipfile.ZipFile(small, "a") as zf:
        zf.writestr("xl/styles.xml", styles)
    with pytest.raises(xlsx.SheetError, match="styles.xml"):
        xlsx.check_xlsx(small)


def test_duplicate_parts_are_refused(tmp_path):
    path = bad_sheets.plain(tmp_path / "a.xlsx", [["姓名"]], dimension="A1")
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as zf:
        warnings.simplefilter("ignore")
        zf.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    assert "重名" in refusal(path)


def test_damaged_workbook_is_refused_in_chinese(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    assert "不是有效的 Excel 文件" in refusal(path)


def test_sheet_without_dimension_imports_normally(cast, tmp_path):
    """The cell scan that replaces a missing <dimension> must not refuse an ordinary sheet."""
    rows = [["学生花名册"], ["姓名", "身份证号", "年级", "班级"], ["王小", ident(), "3", "1"]]
    path = bad_sheets.plain(tmp_path / "a.xlsx", rows)
    code, result, _ = run(path)
    assert code == 0 and result["created"] == 1, result


def test_messages_name_the_file_as_uploaded(tmp_path, cast):
    stored = bad_sheets.far_cell(tmp_path / "20260901-0123456789ab.xlsx")
    message = refusal(stored, name="三年级花名册.xlsx")
    assert "三年级花名册.xlsx" in message and "0123456789ab" not in message
    with pytest.raises(RosterError, match="三年级花名册"):
        import_roster(path=stored, school=cast["schools"]["bq"], name="三年级花名册.xlsx")


def test_normal_sheet_still_reads_dates_and_numbers(tmp_path):
    import datetime as dt

    path = write_xlsx(
        tmp_path / "a.xlsx", [["姓名", "出生日期", "年级"], ["王小", dt.date(2015, 3, 2), 3]]
    )
    assert list(read_sheet(path)) == [
        (1, ["姓名", "出生日期", "年级"]),
        (2, ["王小", dt.date(2015, 3, 2), 3.0]),
    ]


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_field_past_the_csv_modules_limit_is_said_in_chinese(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('姓名,备注\n王小,"' + "长" * 140_000 + '"\n', encoding="utf-8")
    message = refusal(path)
    assert "第 2 行" in message and "32767" in message


def test_csv_cell_over_excels_limit_is_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("姓名,备注\n王小," + "长" * 40_000 + "\n", encoding="utf-8")
    assert "第 2 行第 B 列" in refusal(path)


def test_csv_with_bare_carriage_returns_reads_as_lines(tmp_path):
    """Old Mac line ends made the csv module say "new-line character seen in unquoted field"."""
    path = tmp_path / "a.csv"
    path.write_bytes("姓名,年级\r王小,3\r李四,4\r".encode("gbk"))
    assert [cells for _n, cells in read_sheet(path)] == [
        ["姓名", "年级"],
        ["王小", "3"],
        ["李四", "4"],
    ]


def test_csv_rows_beyond_the_limit_are_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"x\n" * (xlsx.MAX_ROWS + 1))
    assert "200000 行" in refusal(path)


def test_csv_line_without_end_is_refused_before_it_fills_memory(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"a," * (xlsx.MAX_CSV_LINE_CHARS // 2 + 10))
    assert "超过" in refusal(path)


def test_csv_utf16_from_excel_unicode_text(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("姓名\t年级\n王小\t3\n".encode("utf-16"))
    assert [cells for _n, cells in read_sheet(path)] == [["姓名", "年级"], ["王小", "3"]]


def test_cli_missing_file_is_said_in_chinese(cast):
    code, _result, err = run("/nonexistent/花名册.xlsx")
    assert code == 2 and "文件不存在" in err and "No such file" not in err


def test_reader_module_imports_nothing_of_the_project():
    """The reader's child runs this file as a script, outside Django and the project."""
    source = Path(xlsx.__file__).read_text(encoding="utf-8")
    assert "from guanai" not in source and "import django" not in source
    done = subprocess.run(
        [sys.executable, "-I", xlsx.__file__, "/nonexistent.xlsx"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0
    assert pickle.loads(done.stdout) == ("error", "文件不存在")
