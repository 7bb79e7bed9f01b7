"""The 学籍 system's own student sheet through `guanai import-roster` (issue #17): recognised by
its headers, imported under the roster's rules (SPEC §6.2), its codes and family members read,
parents' status never guessed, 是否留守儿童 stored as `xueji_category`."""

import datetime as dt
import io
import json

from django.core.management import call_command

from guanai.children.models import Child
from guanai.children.roster import import_roster
from guanai.lib import crypto
from guanai.testing import make_child, make_class

from .xueji_sheets import DATA, SAMPLE, ident, member, student, write_sheet

BIRTH = dt.date(2017, 9, 1)


def run(path, school: str = "HS-BQ") -> tuple[int, dict]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import_roster", str(path), "--school", school, "--json", stdout=out, stderr=err
        )
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def card(number: str) -> Child:
    return Child.objects.get(id_number_hash=crypto.lookup_hash(number))


def people(child: Child) -> dict:
    parents = {
        p.relation: {
            "name": p.name,
            "phone": p.phone,
            "work_place": p.work_place,
            "status": p.status,
        }
        for p in child.parents.all()
    }
    g = getattr(child, "guardian", None)
    return {
        **parents,
        "guardian": {"name": g.name, "relation": g.relation, "phone": g.phone} if g else None,
    }


# --- the shared sample -------------------------------------------------------------------------


def test_sample_sheet_gives_the_expected_card_values(cast):
    expected = json.loads((DATA / "xueji-student-sheet-sample.expected.json").read_text())
    code, result = run(SAMPLE)
    assert (code, result["created"], result["rejected"]) == (0, 8, 0), result
    children = {
        c.name: c
        for c in Child.objects.filter(
            school__code="HS-BQ", name__in=[r["name"] for r in expected["rows"]]
        )
    }
    assert len(children) == 8
    for row in expected["rows"]:
        child = children[row["name"]]
        assert (child.school_class.grade, child.school_class.class_no) == (3, 1)
        assert child.gender == row["gender"], row["name"]
        assert child.birth_date.isoformat() == row["birth_date"]
        assert child.boarding is row["boarding"], row["name"]
        assert child.is_migrant is row["is_migrant"], row["name"]
        assert child.address == row["address"]
        assert child.xueji_category == row["xueji_category"], row["name"]
        got = people(child)
        assert {k: got["father"][k] for k in row["father"]} == row["father"]
        # Two rows (李志强, 杨国庆) list a grandmother and the father only: the sheet has no
        # mother for them, so the import has none to write.
        if "mother" in got:
            assert {k: got["mother"][k] for k in row["mother"]} == row["mother"]
        else:
            assert row["name"] in ("李志强", "杨国庆")
        if row["guardian"] is None:
            assert got["guardian"] is None
        else:
            want = dict(row["guardian"])
            if want["relation"].startswith("("):  # a parent as guardian: their own relation
                want["relation"] = "父亲" if want["name"] == row["father"]["name"] else "母亲"
            assert got["guardian"] == want, row["name"]
        # parents' status is not in the 学籍 sheet and is never guessed
        assert got["father"]["status"] == ""
        assert child.category == "unknown"


def test_sample_sheet_reimports_unchanged(cast):
    run(SAMPLE)
    code, result = run(SAMPLE)
    assert code == 0
    assert (result["rows"], result["unchanged"], result["created"], result["updated"]) == (
        8,
        8,
        0,
        0,
    )


# --- a generated sheet: codes and words, members in either order -----------------------------


def generated_rows() -> list[dict]:
    n = [ident(BIRTH, s) for s in (11, 12, 13, 14, 15, 16)]
    return [
        # coded values, father first and guardian
        student(
            "甲一",
            n[0],
            性别=1,
            出生日期=20170901,
            民族="01",
            户口性质="1",
            就读方式="2",
            是否留守儿童="2",
            是否进城务工人员随迁子女="0",
            现住址="枫树村3组",
            **member(
                1,
                name="甲父",
                relation="父子",
                phone="13800000001",
                guardian="1",
                work="广东省深圳市某厂",
            ),
            **member(2, name="甲母", relation="母子", phone="13800000002", guardian="0"),
        ),
        # named values, mother first, a grandmother as guardian
        student(
            "乙二",
            n[1],
            grade="三年级",
            class_="三年级(1)班",
            性别="女",
            出生日期="20170901",
            民族="苗族",
            户口性质="农业户口",
            就读方式="走读",
            是否留守儿童="单亲留守儿童",
            是否进城务工人员随迁子女="否",
            **member(1, name="乙奶奶", relation="奶奶", phone=13900000003, guardian="是"),
            **member(2, name="乙母", relation="母亲", phone="13800000004", guardian="否"),
        ),
        # members in the other order, the mother as guardian, 民族 as a number cell
        student(
            "丙三",
            n[2],
            grade=3,
            class_="1班",
            性别="1",
            民族=6,
            户口性质="2",
            就读方式=1,
            是否留守儿童=0,
            是否进城务工人员随迁子女="是",
            **member(1, name="丙母", relation="母子", phone="13800000005", guardian="1"),
            **member(2, name="丙父", relation="父亲", phone="13800000006", guardian="0"),
        ),
        # no guardian marked
        student(
            "丁四",
            n[3],
            class_="三年级1班",
            是否留守儿童="1",
            **member(1, name="丁父", relation="父亲", guardian="否"),
            **member(2, name="丁母", relation="母亲", guardian="否"),
        ),
        # a grandfather by the 学籍 relation code, and 户口 居民户口
        student(
            "戊五",
            n[4],
            户口性质="居民户口",
            残疾类型="4",
            **member(1, name="戊爷爷", relation="61", phone="0739-8123456", guardian="是"),
        ),
        # no 学籍 category at all: null
        student("己六", n[5]),
    ]


def test_generated_sheet_reads_codes_words_and_members_in_either_order(cast, tmp_path):
    path = write_sheet(tmp_path / "xj.xlsx", generated_rows(), shuffle=7)
    code, result = run(path)
    assert code == 0, result
    assert result["created"] == 6
    n = [ident(BIRTH, s) for s in (11, 12, 13, 14, 15, 16)]
    a, b, c, d, e, f = (card(x) for x in n)
    assert (a.gender, a.ethnicity, a.hukou, a.boarding, a.is_migrant) == (
        "male",
        "汉族",
        "rural",
        True,
        False,
    )
    assert (a.xueji_category, a.address) == ("double", "枫树村3组")
    assert people(a)["guardian"] == {"name": "甲父", "relation": "父亲", "phone": "13800000001"}
    assert people(a)["father"]["work_place"] == "广东省深圳市某厂"
    assert people(a)["mother"]["name"] == "甲母"
    assert (b.gender, b.ethnicity, b.hukou, b.boarding, b.xueji_category) == (
        "female",
        "苗族",
        "rural",
        False,
        "single",
    )
    assert people(b)["guardian"] == {"name": "乙奶奶", "relation": "祖母", "phone": "13900000003"}
    assert "father" not in people(b) and people(b)["mother"]["name"] == "乙母"
    assert (c.ethnicity, c.hukou, c.boarding, c.is_migrant, c.xueji_category) == (
        "苗族",
        "urban",
        False,
        True,
        "none",
    )
    assert people(c)["guardian"] == {"name": "丙母", "relation": "母亲", "phone": "13800000005"}
    assert people(c)["father"]["name"] == "丙父"
    assert people(d)["guardian"] is None
    assert (d.xueji_category, d.school_class.grade, d.school_class.class_no) == ("single", 3, 1)
    assert people(e)["guardian"] == {"name": "戊爷爷", "relation": "祖父", "phone": "0739-8123456"}
    assert (e.hukou, e.disability) == ("urban", "肢体残疾")
    assert f.xueji_category is None
    for child in (a, b, c, d, e, f):
        assert child.category == "unknown"  # parents' status never guessed
        assert all(p.status == "" for p in child.parents.all())
        assert child.student_no.startswith("G")


def test_generated_sheet_reimports_unchanged(cast, tmp_path):
    path = write_sheet(tmp_path / "xj.xlsx", generated_rows())
    run(path)
    code, result = run(path)
    assert (code, result["unchanged"], result["updated"], result["created"]) == (0, 6, 0, 0)


# --- the roster's rules: match by ID number, blank never clears ---------------------------------


def test_known_card_is_updated_and_blank_cells_never_clear(cast, tmp_path):
    cls = make_class(cast["schools"]["bq"], 3, 1)
    number = ident(BIRTH, 21)
    child = make_child(
        cls,
        name="庚七",
        birth=BIRTH,
        id_number=number,
        **{"father.status": "away", "mother.status": "home", "address": "旧地址"},
    )
    assert child.category == "single"
    path = write_sheet(
        tmp_path / "xj.xlsx",
        [
            student(
                "庚七",
                number,
                是否留守儿童="双亲留守儿童",
                **member(1, name="庚父", relation="父亲", phone="13800000011", guardian="否"),
            )
        ],
    )
    code, result = run(path)
    assert (code, result["updated"], result["created"]) == (0, 1, 0)
    child = card(number)
    assert child.pk == Child.objects.get(name="庚七").pk
    assert child.xueji_category == "double"
    assert child.address == "旧地址"  # blank 现住址 never clears
    got = people(child)
    assert got["father"] == {
        "name": "庚父",
        "phone": "13800000011",
        "work_place": "",
        "status": "away",
    }
    assert got["mother"]["status"] == "home"
    assert got["guardian"]["name"] == "张奶奶"  # no member marked: left as it is
    assert child.category == "single"  # derived from the card, not from the sheet
    # a later sheet without 是否留守儿童 leaves the stored 学籍 category alone
    path = write_sheet(tmp_path / "xj2.xlsx", [student("庚七", number)])
    code, result = run(path)
    assert (code, result["unchanged"]) == (0, 1)
    assert card(number).xueji_category == "double"


def test_both_parents_marked_guardian_leaves_the_guardian_as_it_is(cast, tmp_path):
    cls = make_class(cast["schools"]["bq"], 3, 1)
    number = ident(BIRTH, 23)
    make_child(cls, name="辛八", birth=BIRTH, id_number=number)
    rows = [
        student(
            "辛八",
            number,
            **member(1, name="辛父", relation="父亲", guardian="是"),
            **member(2, name="辛母", relation="母亲", guardian="是"),
        )
    ]
    code, _ = run(write_sheet(tmp_path / "xj.xlsx", rows))
    assert code == 0
    assert people(card(number))["guardian"]["name"] == "张奶奶"


def test_a_grandparent_marked_with_a_parent_is_the_guardian(cast, tmp_path):
    number = ident(BIRTH, 25)
    rows = [
        student(
            "壬九",
            number,
            **member(1, name="壬父", relation="父亲", guardian="是"),
            **member(2, name="壬外婆", relation="外婆", guardian="是", phone="13800000021"),
        )
    ]
    assert run(write_sheet(tmp_path / "xj.xlsx", rows))[0] == 0
    assert people(card(number))["guardian"] == {
        "name": "壬外婆",
        "relation": "外祖母",
        "phone": "13800000021",
    }


# --- rejections name the sheet's own column ------------------------------------------------------


def test_rejections_name_the_sheet_columns(cast, tmp_path):
    n = [ident(BIRTH, s) for s in (31, 33, 35, 37, 39, 41, 43)]
    rows = [
        student("错一", n[0], 是否留守儿童="3"),
        student("错二", n[1], **member(2, name="某", relation="父亲", phone="12345")),
        student("错三", n[2], grade="4", class_="三年级(1)班"),
        student(
            "错四",
            n[3],
            **member(1, name="父甲", relation="父亲"),
            **member(2, name="父乙", relation="父子"),
        ),
        student("错五", n[4], **member(1, name="某", relation="奶奶", guardian="也许")),
        student("错六", n[5], 民族="77"),
        student("错七", n[6], 性别="2"),  # an odd sequence number is a boy
    ]
    code, result = run(write_sheet(tmp_path / "xj.xlsx", rows))
    assert code == 1
    assert result["rejected"] == 7 and result["created"] == 0
    columns = {e["row"]: e["column"] for e in result["errors"]}
    assert columns == {
        2: "是否留守儿童",
        3: "成员2联系电话",
        4: "班级",
        5: "成员2关系",
        6: "成员1是否监护人",
        7: "民族",
        8: "性别",
    }
    messages = {e["row"]: e["message"] for e in result["errors"]}
    assert "单亲留守儿童" in messages[2]
    assert "不一致" in messages[4]
    assert "都是父亲" in messages[5]


def test_bad_id_number_names_the_sheet_column(cast, tmp_path):
    rows = [student("错八", "431121201709010000")]
    code, result = run(write_sheet(tmp_path / "xj.xlsx", rows))
    assert code == 1
    assert result["errors"][0]["column"] == "身份证件号"


def test_a_passport_holder_is_matched_by_the_student_number(cast, tmp_path):
    row = student("外籍", "E12345678", 身份证件类型="护照")
    row["全国学籍号"] = "L2017090100001"
    code, result = run(write_sheet(tmp_path / "xj.xlsx", [row]))
    assert (code, result["created"]) == (0, 1), result
    child = Child.objects.get(name="外籍")
    assert child.id_number_hash is None and child.student_no == "L2017090100001"


def test_an_ordinary_roster_with_a_category_column_is_not_a_xueji_sheet(cast, tmp_path):
    from .test_roster_import import write_xlsx

    number = ident(BIRTH, 45)
    path = write_xlsx(
        tmp_path / "r.xlsx",
        [
            ["姓名", "身份证号", "年级", "班级", "是否留守儿童"],
            ["癸十", number, 3, 1, "双亲留守儿童"],
        ],
    )
    code, result = run(path)
    assert (code, result["created"]) == (0, 1)
    assert card(number).xueji_category is None


def test_dry_run_through_the_service(cast, tmp_path):
    path = write_sheet(tmp_path / "xj.xlsx", generated_rows())
    result = import_roster(path=path, school=cast["schools"]["bq"], dry_run=True)
    assert (result.created, result.rejected) == (6, 0)
    assert not Child.objects.filter(name="甲一").exists()


# --- parents' and guardian's ID numbers -------------------------------------------------------


def test_members_id_numbers_are_stored_encrypted_and_masked(cast, tmp_path):
    from guanai.children.xueji import person_id_number

    number = ident(BIRTH, 51)
    father_id = ident(dt.date(1988, 5, 6), 13)
    grandma_id = ident(dt.date(1960, 2, 3), 22)
    rows = [
        student(
            "子一",
            number,
            **member(1, name="子父", relation="父亲", id_type="居民身份证", id_number=father_id),
            **member(2, name="子奶奶", relation="奶奶", guardian="是", id_number=grandma_id),
        )
    ]
    path = write_sheet(tmp_path / "xj.xlsx", rows)
    assert run(path)[0] == 0
    child = card(number)
    father = child.parent("father")
    assert father.id_number_enc and father_id not in father.id_number_enc
    assert person_id_number(father) == father_id
    assert father.id_number_masked == father_id[:4] + "*" * 10 + father_id[-4:]
    assert father.id_number_hash == crypto.lookup_hash(father_id)
    assert person_id_number(child.guardian) == grandma_id
    code, result = run(path)
    assert (code, result["unchanged"]) == (0, 1)
    # a new number for the father is an update
    rows[0].update(member(1, id_number=ident(dt.date(1988, 5, 6), 15)))
    code, result = run(write_sheet(tmp_path / "xj2.xlsx", rows))
    assert (code, result["updated"]) == (0, 1)
    assert person_id_number(card(number).parent("father")).endswith(
        ident(dt.date(1988, 5, 6), 15)[-4:]
    )


def test_bad_member_id_number_names_the_member_column(cast, tmp_path):
    rows = [
        student(
            "子二",
            ident(BIRTH, 53),
            **member(2, name="子母", relation="母亲", id_number="431121198805060000"),
        )
    ]
    code, result = run(write_sheet(tmp_path / "xj.xlsx", rows))
    assert code == 1
    assert [e["column"] for e in result["errors"]] == ["成员2身份证件号"]


def test_a_passport_member_number_is_not_read_as_an_id_number(cast, tmp_path):
    number = ident(BIRTH, 55)
    rows = [
        student(
            "子三",
            number,
            **member(1, name="子父", relation="父亲", id_type="护照", id_number="E1234567"),
        )
    ]
    assert run(write_sheet(tmp_path / "xj.xlsx", rows))[0] == 0
    assert card(number).parent("father").id_number_enc == ""


# --- the import page takes the same path ------------------------------------------------------


def test_import_page_reads_the_xueji_sheet(client, cast, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from guanai.jobs.models import Job

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client.force_login(cast["users"]["bq_leader"])
    upload = SimpleUploadedFile("学生信息.xlsx", SAMPLE.read_bytes())
    response = client.post(
        reverse("screening:imports"),
        {"school": cast["schools"]["bq"].pk, "term": "2026-2027-1", "file": upload},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    job = Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert job.result["summary"]["created"] == 8 and job.result["summary"]["rejected"] == 0
    response = client.post(reverse("screening:import_confirm", args=[job.pk]))
    assert response.status_code == 302
    assert Child.objects.get(name="张美玲").xueji_category == "double"


def test_find_header_can_keep_the_sheets_own_columns(cast):
    from guanai.children.roster import find_header, read_sheet

    header, rows = find_header(read_sheet(SAMPLE), translate=False)
    assert header.kind == "xueji" and header.row == 1
    assert header.index["成员2联系电话"] == 63 and header.index["是否留守儿童"] == 26
    first = next(rows)
    assert first[0] == 2 and first[1][header.index["姓名"]] == "王小红"
    header, _rows = find_header(read_sheet(SAMPLE))
    assert "父亲电话" in header.index and "成员2联系电话" not in header.index
