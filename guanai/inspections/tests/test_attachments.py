"""Files on checklist items and on 整改 items: photos re-encoded, documents (PDF, .docx, .xlsx)
recognised by their bytes, refused in Chinese when they are not what they say, served only to
those who read their record (404 outside), each download logged; pages and API."""

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanai.accounts.models import AccessLog, Role
from guanai.inspections import attachments, rectifications, services
from guanai.inspections.models import Attachment, EvidencePhoto
from guanai.testing import make_school, make_town, make_user

from .conftest import client_for

API = "/api/v1/inspections"


# --- files -------------------------------------------------------------------------------------


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def docx_bytes() -> bytes:
    import docx

    out = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("关爱留守儿童活动方案")
    document.save(out)
    return out.getvalue()


def xlsx_bytes() -> bytes:
    import openpyxl

    out = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(["姓名", "班级"])
    book.save(out)
    return out.getvalue()


def png_bytes() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 30)).save(out, "PNG")
    return out.getvalue()


def upload(name: str, data: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def macro_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx_bytes())) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("word/vbaProject.bin", b"\x00" * 64)
    return out.getvalue()


# --- the people --------------------------------------------------------------------------------


@pytest.fixture
def people(bq):
    """The cast and, besides: a class teacher of 板桥小学, and an inspector and a school leader
    of another town."""
    users = dict(bq["users"])
    users["bq_teacher"] = make_user(
        "bq_teacher",
        Role.CLASS_TEACHER,
        school=bq["school"],
        school_class=bq["kids"]["bq31a"].school_class,
        display_name="板桥班主任",
    )
    other = make_town("龙潭镇")
    users["lt_inspector"] = make_user(
        "lt_inspector", Role.INSPECTOR, town=other, display_name="龙潭督导"
    )
    users["lt_leader"] = make_user(
        "lt_leader",
        Role.SCHOOL_LEADER,
        school=make_school("LT-ZX", "龙潭镇中心小学", town=other),
        display_name="龙潭校长",
    )
    return users


@pytest.fixture
def insp(bq, people):
    inspection = services.create_inspection(
        school=bq["school"],
        planned_on=dt.date(2026, 12, 10),
        sample_size=4,
        seed="附件",
        by=people["inspector"],
    )
    services.advance(inspection=inspection, to="in_progress", by=people["inspector"])
    return inspection


@pytest.fixture
def item(insp):
    return insp.checklist.get(title="活动方案")


# Who reads an inspection of 板桥小学 (and its files), and who does not.
READERS = {"town", "inspector", "bq_leader"}
OUTSIDERS = {"zx_leader", "bq_teacher", "zx_teacher31", "proxy_wang", "lt_inspector", "lt_leader"}
# Who may add files to a checklist item: the town's inspectors; readers who may not: 403.
WRITERS = {"town", "inspector"}


# --- recognising a document ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, data, kind",
    [
        ("活动方案.pdf", pdf_bytes(), "pdf"),
        ("方案.docx", docx_bytes(), "docx"),
        ("台账.xlsx", xlsx_bytes(), "xlsx"),
        ("没有扩展名", pdf_bytes(), "pdf"),
    ],
)
def test_documents_are_recognised_by_their_bytes(item, people, name, data, kind):
    (a,) = attachments.attach_to_item(item=item, files=[upload(name, data)], by=people["inspector"])
    assert a.kind == kind and a.file.name.endswith(f".{kind}") and a.size == len(data)
    assert a.name.endswith(f".{kind}") and a.name.startswith(name.split(".")[0])


def test_a_photo_is_re_encoded_and_keeps_its_name(item, people):
    (a,) = attachments.attach_to_item(
        item=item, files=[upload("座谈会.png", png_bytes())], by=people["inspector"]
    )
    assert (a.kind, a.name) == ("photo", "座谈会.jpg")
    assert a.file.read().startswith(b"\xff\xd8\xff")  # a JPEG the app made


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("方案.pdf", b"<html><script>alert(1)</script></html>", "不是真正的 PDF 文件"),
        ("方案.pdf", docx_bytes(), "内容是 Word，与文件名不符"),
        ("方案.pdf", png_bytes(), "是照片，不是真正的 PDF 文件"),
        ("方案.docx", b"PK\x03\x04 not a zip at all", "不是真正的 Word 文件"),
        ("方案.docx", macro_docx(), "含有宏"),
        ("方案.exe", b"MZ\x90\x00", "不是 PDF、Word（.docx）或 Excel（.xlsx）文件"),
        ("方案.pdf", b"", "是空的"),
        ("方案.pdf", b"%PDF-" + b"0" * (10 * 2**20), "超过 10 MB"),
        ("照片.png", b"\x89PNG\r\n\x1a\nbroken", "不是 JPG 或 PNG 照片"),
    ],
)
def test_a_bad_file_is_refused_in_chinese_and_nothing_is_stored(item, people, name, data, message):
    from guanai.lib.errors import Invalid

    with pytest.raises(Invalid) as exc:
        attachments.attach_to_item(item=item, files=[upload(name, data)], by=people["inspector"])
    assert message in exc.value.errors["files"]
    assert not Attachment.objects.exists()


def test_at_most_five_at_once_and_none_after_the_inspection_is_closed(insp, item, people):
    from guanai.lib.errors import Invalid

    six = [upload(f"{i}.pdf", pdf_bytes()) for i in range(6)]
    with pytest.raises(Invalid, match="files"):
        attachments.attach_to_item(item=item, files=six, by=people["inspector"])
    for to in ("reported", "closed"):
        services.advance(inspection=insp, to=to, by=people["inspector"])
    with pytest.raises(Invalid) as exc:
        attachments.attach_to_item(item=item, files=[upload("a.pdf", pdf_bytes())], by=None)
    assert "检查已结束" in exc.value.errors["files"]


# --- pages -------------------------------------------------------------------------------------


def test_the_inspector_attaches_a_pdf_and_a_photo_in_the_page(insp, item, people):
    c = client_for(people["inspector"])
    r = c.post(
        f"/inspections/{insp.pk}/checklist/{item.pk}/files/",
        {"files": [upload("活动方案.pdf", pdf_bytes()), upload("座谈会.png", png_bytes())]},
        follow=True,
    )
    html = r.content.decode()
    assert "已在“活动方案”上传 2 个附件" in html
    assert "活动方案.pdf" in html and "座谈会.jpg" in html
    assert {a.kind for a in item.attachments.all()} == {"pdf", "photo"}
    # the school's leader reads the list but has no upload or delete button
    html = client_for(people["bq_leader"]).get(f"/inspections/{insp.pk}/").content.decode()
    assert "活动方案.pdf" in html and "上传附件" not in html and "remove-file" not in html


def test_a_disguised_file_is_named_in_the_page(insp, item, people):
    c = client_for(people["inspector"])
    r = c.post(
        f"/inspections/{insp.pk}/checklist/{item.pk}/files/",
        {"files": [upload("方案.pdf", b"MZ not a pdf")]},
        follow=True,
    )
    assert "文件“方案.pdf”不是真正的 PDF 文件" in r.content.decode()
    r = c.post(f"/inspections/{insp.pk}/checklist/{item.pk}/files/", {}, follow=True)
    assert "请选择要上传的文件" in r.content.decode()
    r = c.post(
        f"/inspections/{insp.pk}/checklist/{item.pk}/files/",
        {"files": [upload("空.pdf", b"")]},
        follow=True,
    )
    assert "附件是空文件" in r.content.decode()
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("who", sorted(READERS | OUTSIDERS))
def test_uploading_to_a_checklist_item_in_and_out_of_scope(client, insp, item, people, who):
    client.force_login(people[who])
    r = client.post(
        f"/inspections/{insp.pk}/checklist/{item.pk}/files/",
        {"files": [upload("a.pdf", pdf_bytes())]},
    )
    expected = 302 if who in WRITERS else 403 if who in READERS else 404
    assert r.status_code == expected
    assert Attachment.objects.exists() is (who in WRITERS)


@pytest.mark.parametrize("who", sorted(READERS | OUTSIDERS))
def test_downloading_a_checklist_file_in_scope_only_and_logged(client, insp, item, people, who):
    (a,) = attachments.attach_to_item(
        item=item, files=[upload("台账.xlsx", xlsx_bytes())], by=people["inspector"]
    )
    client.force_login(people[who])
    r = client.get(f"/inspections/files/{a.pk}/")
    assert r.status_code == (200 if who in READERS else 404)
    logged = AccessLog.objects.filter(detail__contains="台账.xlsx")
    if who in READERS:
        assert r["Content-Type"].startswith("application/vnd.openxmlformats")
        assert r["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in r["Content-Disposition"]
        assert b"".join(r.streaming_content) == a.file.open("rb").read()
        row = logged.get()
        assert (row.user, row.school_id) == (people[who], insp.school_id)
        assert "活动方案" in row.detail
    else:
        assert not logged.exists()


@pytest.mark.parametrize("who", ["inspector", "bq_leader", "zx_leader", "lt_inspector"])
def test_deleting_a_checklist_file(client, insp, item, people, who):
    (a,) = attachments.attach_to_item(
        item=item, files=[upload("错传.pdf", pdf_bytes())], by=people["inspector"]
    )
    client.force_login(people[who])
    r = client.post(f"/inspections/files/{a.pk}/delete/")
    expected = {"inspector": 302, "bq_leader": 403}.get(who, 404)
    assert r.status_code == expected
    assert Attachment.objects.exists() is (who != "inspector")


def test_the_owner_adds_documents_as_evidence_of_a_rectification(insp, people):
    owner = people["bq_teacher"]
    rect = rectifications.raise_item(
        inspection=insp,
        school=insp.school,
        title="补齐家访记录",
        owner=owner,
        due_on=dt.date(2026, 12, 20),
        by=people["inspector"],
    )
    c = client_for(owner)
    r = c.post(
        f"/inspections/items/{rect.pk}/done/",
        {"evidence": "已补录", "files": [upload("家访.pdf", b"<html>no</html>")]},
        follow=True,
    )
    assert "不是真正的 PDF 文件" in r.content.decode()
    rect.refresh_from_db()
    assert rect.status == "open" and not Attachment.objects.exists()
    r = c.post(
        f"/inspections/items/{rect.pk}/done/",
        {
            "evidence": "已补录",
            "photos": [upload("现场.png", png_bytes())],
            "files": [upload("家访记录.docx", docx_bytes()), upload("台账.xlsx", xlsx_bytes())],
        },
    )
    rect.refresh_from_db()
    assert rect.status == "done"
    assert sorted(rect.files.values_list("name", flat=True)) == ["台账.xlsx", "家访记录.docx"]
    assert EvidencePhoto.objects.filter(item=rect).count() == 1
    doc = rect.files.get(kind="docx")
    html = client_for(people["inspector"]).get("/inspections/items/?status=done").content.decode()
    assert "家访记录.docx" in html and f"/inspections/files/{doc.pk}/" in html
    html = client_for(people["inspector"]).get(f"/inspections/{insp.pk}/").content.decode()
    assert "家访记录.docx" in html
    for who in sorted(READERS | OUTSIDERS - {"bq_teacher"}):
        r = client_for(people[who]).get(f"/inspections/files/{doc.pk}/")
        assert r.status_code == (200 if who in READERS else 404), who
    # the owner, a teacher of the school, reads her own item's files
    assert client_for(owner).get(f"/inspections/files/{doc.pk}/").status_code == 200
    assert AccessLog.objects.filter(detail__contains="家访记录.docx").count() == 4
    # the inspector does not add evidence, nor take it off
    assert (
        client_for(people["inspector"]).post(f"/inspections/files/{doc.pk}/delete/").status_code
        == 403
    )


# --- API ---------------------------------------------------------------------------------------


def api_url(insp, item, *rest) -> str:
    return "/".join([f"{API}/{insp.pk}/checklist/{item.pk}/attachments", *map(str, rest)])


@pytest.mark.parametrize("who", sorted(READERS | OUTSIDERS))
def test_api_attachments_in_and_out_of_scope(insp, item, people, who):
    c = client_for(people[who])
    r = c.post(api_url(insp, item), {"files": [upload("方案.pdf", pdf_bytes())]})
    expected = 201 if who in WRITERS else 403 if who in READERS else 404
    assert r.status_code == expected, r.content
    if who in WRITERS:
        (out,) = r.json()
        assert (out["name"], out["kind"]) == ("方案.pdf", "pdf")
        assert out["url"] == api_url(insp, item, out["id"])
    a = (
        Attachment.objects.first()
        or attachments.attach_to_item(
            item=item, files=[upload("方案.pdf", pdf_bytes())], by=people["inspector"]
        )[0]
    )
    listed = c.get(api_url(insp, item))
    got = c.get(api_url(insp, item, a.pk))
    checklist = c.get(f"{API}/{insp.pk}/checklist")
    if who in READERS:
        assert [x["name"] for x in listed.json()] == ["方案.pdf"]
        assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
        assert b"".join(got.streaming_content).startswith(b"%PDF-")
        rows = {x["title"]: x for x in checklist.json()}
        assert [x["id"] for x in rows["活动方案"]["attachments"]] == [a.pk]
        assert AccessLog.objects.filter(detail__contains="方案.pdf").count() == 1
    else:
        assert (listed.status_code, got.status_code, checklist.status_code) == (404, 404, 404)
        assert not AccessLog.objects.exists()
    r = c.delete(api_url(insp, item, a.pk))
    assert r.status_code == (204 if who in WRITERS else 403 if who in READERS else 404)


def test_api_bad_files_are_422_naming_the_field(insp, item, people):
    c = client_for(people["inspector"])
    for name, data, message in [
        ("方案.pdf", b"GIF89a", "不是真正的 PDF 文件"),
        ("方案.pdf", b"", "是空的"),
        ("方案.pdf", b"%PDF-" + b"0" * (10 * 2**20), "超过 10 MB"),
    ]:
        r = c.post(api_url(insp, item), {"files": [upload(name, data)]})
        assert r.status_code == 422, r.content
        (d,) = r.json()["detail"]
        assert d["field"] == "files" and message in d["msg"]
    r = c.post(api_url(insp, item), {})
    assert r.status_code == 422
    other = insp.checklist.exclude(pk=item.pk).first()
    r = c.get(f"{API}/{insp.pk}/checklist/{other.pk}/attachments/1")
    assert r.status_code == 404
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("who", ["bq_teacher", "bq_leader", "inspector", "zx_leader", "lt_leader"])
def test_api_rectification_files(insp, people, who):
    rect = rectifications.raise_item(
        inspection=insp,
        school=insp.school,
        title="补齐台账",
        owner=people["bq_teacher"],
        due_on=dt.date(2026, 12, 20),
        by=people["inspector"],
    )
    url = f"/api/v1/rectifications/{rect.pk}/files"
    c = client_for(people[who])
    r = c.post(url, {"files": [upload("台账.xlsx", xlsx_bytes())]})
    expected = {"bq_teacher": 201, "bq_leader": 201, "inspector": 403}.get(who, 404)
    assert r.status_code == expected, r.content
    if expected == 201:
        (out,) = r.json()
        assert out["kind"] == "xlsx"
        assert c.get(f"/api/v1/rectifications/{rect.pk}").json()["files"][0]["id"] == out["id"]
        got = c.get(out["url"])
        assert got.status_code == 200 and "attachment" in got["Content-Disposition"]
        bad = c.post(url, {"files": [upload("台账.xlsx", pdf_bytes())]})
        assert bad.status_code == 422 and "与文件名不符" in bad.json()["detail"][0]["msg"]
    else:
        assert c.get(url).status_code == (200 if who == "inspector" else 404)


def test_the_report_names_the_inspectors_and_the_files(insp, item, people):
    from pypdf import PdfReader

    attachments.attach_to_item(
        item=item, files=[upload("活动方案.pdf", pdf_bytes())], by=people["inspector"]
    )
    r = client_for(people["town"]).get(f"/inspections/{insp.pk}/report.pdf")
    text = PdfReader(io.BytesIO(r.content)).pages[0].extract_text()
    assert "检查人员 督导员" in text and "活动方案.pdf" in text
