"""Letters to families: templates and placeholders, PDF per class joined (Chinese text and an
embedded CJK font), receipt codes, who has not returned a slip, scope."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from guanai.accounts.models import AccessLog
from guanai.children.models import Child
from guanai.children.validation import CardInvalid
from guanai.contacts import letters as L
from guanai.contacts.models import CODE_ALPHABET, Contact, Letter, LetterBatch, LetterTemplate
from guanai.testing import VISIBLE, make_child

ROLES = list(VISIBLE)


@pytest.fixture
def summer():
    return LetterTemplate.objects.get(built_in=True, title="暑假安全致家长的一封信")


def pdf_text(data: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def embedded_fonts(reader: PdfReader) -> set[str]:
    """BaseFont names of fonts whose program is embedded (FontFile, FontFile2 or FontFile3)."""
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            for desc in font.get("/DescendantFonts", [font]):
                desc = desc.get_object()
                descriptor = desc.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.add(str(desc["/BaseFont"]))
    return names


def test_built_in_templates_exist_with_the_vacation_safety_letters(db):
    titles = set(LetterTemplate.objects.filter(built_in=True).values_list("title", flat=True))
    assert {"暑假安全致家长的一封信", "寒假安全致家长的一封信", "致家长的一封信"} <= titles
    summer = LetterTemplate.objects.get(title="暑假安全致家长的一封信")
    assert "不私自下水游泳" in summer.body
    assert L.placeholders_in(summer.body) and all(
        p in L.PLACEHOLDERS for p in L.placeholders_in(summer.body)
    )


def test_fill_replaces_known_placeholders_only():
    assert L.fill("{学生姓名}的{监护人}：{未知}", {"学生姓名": "张三", "监护人": "奶奶"}) == (
        "张三的奶奶：{未知}"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"body": ""}, "body"),
        ({"body": "尊敬的{家长姓名}"}, "body"),
        ({"title": "给{学生}的信"}, "title"),
        ({"receipt_text": "长" * 301}, "receipt_text"),
    ],
)
def test_bad_templates_are_refused_naming_the_field(cast, change, field):
    args = {"title": "开学通知", "body": "尊敬的{监护人}：", "receipt_text": ""}
    args.update(change)
    with pytest.raises(CardInvalid) as exc:
        L.save_template(by=cast["users"]["zx_leader"], **args)
    assert field in exc.value.errors


def test_saving_a_built_in_template_makes_a_copy_for_the_school(cast, summer):
    copy = L.save_template(
        by=cast["users"]["zx_leader"],
        template=summer,
        title="暑假安全（中心小学）",
        body=summer.body,
        receipt_text="",
    )
    assert copy.pk != summer.pk and not copy.built_in and copy.school == cast["schools"]["zx"]
    summer.refresh_from_db()
    assert summer.title == "暑假安全致家长的一封信"
    assert set(L.templates_for(cast["users"]["bq_leader"])) == set(
        LetterTemplate.objects.filter(built_in=True)
    )
    assert copy in L.templates_for(cast["users"]["zx_teacher31"])


def test_batch_has_one_letter_and_unique_code_per_child(cast, summer):
    batch = L.create_batch(
        by=cast["users"]["zx_leader"], template=summer, school=cast["schools"]["zx"], grade=3
    )
    letters = list(batch.letters.all())
    kids = cast["children"]
    assert {x.child_id for x in letters} == {kids["c31a"].pk, kids["c31b"].pk, kids["c32a"].pk}
    codes = [x.code for x in letters]
    assert len(set(codes)) == 3
    assert all(len(c) == 6 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert letters[0].guardian_name == "张奶奶"
    only_lb = L.create_batch(
        by=cast["users"]["zx_leader"],
        template=summer,
        school=cast["schools"]["zx"],
        left_behind_only=True,
    )
    assert kids["c41a"].pk not in set(only_lb.letters.values_list("child_id", flat=True))


def test_pdf_has_the_chinese_text_receipt_codes_and_an_embedded_cjk_font(cast, summer):
    batch = L.create_batch(
        by=cast["users"]["zx_leader"],
        template=summer,
        school=cast["schools"]["zx"],
        grade=3,
        values={"假期开始": "2027-07-10", "假期结束": "2027-08-31", "返校日期": "2027-09-01"},
    )
    path = L.build_batch_pdf(batch)
    data = path.read_bytes()
    text, reader = pdf_text(data)
    assert len(reader.pages) == 3  # one A4 page per family, two classes joined
    compact = text.replace(" ", "").replace("\n", "")
    assert "暑假安全致家长的一封信" in compact
    assert "尊敬的张奶奶" in compact
    assert "不私自下水游泳" in compact
    assert "2027年7月10日" in compact
    assert "回执" in compact and "家长签名" in compact
    for letter in batch.letters.all():
        assert letter.code in compact
        assert letter.child.name in compact
    fonts = embedded_fonts(reader)
    assert any("NotoSansCJK" in f.replace("-", "") or "Noto" in f for f in fonts), fonts
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (round(float(width)), round(float(height))) == (595, 842)  # A4 in points
    batch.refresh_from_db()
    assert batch.pdf == path.name


def test_barcode_encodes_the_code_in_code39():
    svg = L.code39_svg("K7QX3M")
    # start + 6 characters + stop, 5 bars each
    assert svg.count("<rect") == 8 * 5


def test_receipt_is_recorded_once_and_logs_a_letter_contact(cast, summer):
    batch = L.create_batch(
        by=cast["users"]["zx_leader"], template=summer, school=cast["schools"]["zx"], grade=3
    )
    letter = batch.letters.get(child=cast["children"]["c31a"])
    teacher = cast["users"]["zx_teacher31"]
    typed = " " + letter.code.lower()[:3] + "-" + letter.code.lower()[3:] + " "
    got, new = L.record_receipt(code=typed, by=teacher)
    assert got == letter and new
    _again, new = L.record_receipt(code=letter.code, by=teacher)
    assert not new
    contact = Contact.objects.get(kind="letter")
    assert contact.child == letter.child and letter.code in contact.notes
    summary = L.receipt_summary(batch, cast["users"]["zx_leader"])
    c31 = next(c for c in summary if c["label"] == "三年级(1)班")
    assert (c31["returned"], c31["total"]) == (1, 2)
    assert [x.child.name for x in c31["missing"]] == ["单小明"]


@pytest.mark.parametrize("code", ["", "ABC", "ABCDEFG", "0O1IL5"])
def test_malformed_receipt_codes_are_refused(cast, code):
    with pytest.raises(L.ReceiptError):
        L.record_receipt(code=code, by=cast["users"]["zx_leader"])


def test_receipt_outside_scope_is_not_found(cast, summer):
    batch = L.create_batch(
        by=cast["users"]["bq_leader"], template=summer, school=cast["schools"]["bq"]
    )
    code = batch.letters.get().code
    with pytest.raises(L.ReceiptError, match="没有找到"):
        L.record_receipt(code=code, by=cast["users"]["zx_leader"])
    assert not Letter.objects.filter(returned_at__isnull=False).exists()


# --- pages ------------------------------------------------------------------------------------------


def print_unit(cast, role):
    return {
        "town": f"school:{cast['schools']['gt'].pk}",
        "zx_leader": f"school:{cast['schools']['zx'].pk}",
        "zx_grade3": f"grade:{cast['schools']['zx'].pk}:3",
        "zx_teacher31": f"class:{cast['classes']['c31'].pk}",
        "bq_leader": f"class:{cast['classes']['bq31'].pk}",
    }.get(role)


@pytest.mark.parametrize("role", ROLES)
def test_print_page_scope(client, cast, summer, role):
    client.force_login(cast["users"][role])
    response = client.get(reverse("contacts:print"))
    if role in ("inspector", "proxy_wang", "zx_counselor"):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    units = dict(response.context["form"].fields["unit"].choices)
    assert print_unit(cast, role) in units
    # a class outside the role's units is refused
    outside = (
        f"class:{cast['classes']['bq31'].pk}"
        if role != "bq_leader"
        else f"class:{cast['classes']['c31'].pk}"
    )
    if role != "town":
        response = client.post(reverse("contacts:print"), {"template": summer.pk, "unit": outside})
        assert response.status_code in (200, 404)
        assert not LetterBatch.objects.exists()


def test_teacher_prints_her_class_and_leader_records_slips(client, cast, summer):
    client.force_login(cast["users"]["zx_teacher31"])
    response = client.post(
        reverse("contacts:print"),
        {
            "template": summer.pk,
            "unit": f"class:{cast['classes']['c31'].pk}",
            "holiday_start": "2027-07-10",
        },
    )
    batch = LetterBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "contacts:batch", args=[batch.pk]
    )
    assert batch.job.status == "succeeded" and batch.pdf
    assert batch.values == {"假期开始": "2027-07-10"}
    page = client.get(reverse("contacts:batch", args=[batch.pk]))
    assert "下载 PDF" in page.content.decode()
    pdf = client.get(reverse("contacts:batch_pdf", args=[batch.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    text, _reader = pdf_text(b"".join(pdf.streaming_content))
    assert "暑假安全致家长的一封信" in text.replace(" ", "")
    assert AccessLog.objects.filter(action="export", detail__contains="家长信").exists()
    client.force_login(cast["users"]["zx_leader"])
    code = batch.letters.get(child=cast["children"]["c31b"]).code
    result = client.post(reverse("contacts:receipt"), {"code": code}, HTTP_HX_REQUEST="true")
    assert "已登记回执" in result.content.decode()
    again = client.post(reverse("contacts:receipt"), {"code": code}, HTTP_HX_REQUEST="true")
    assert "已登记过" in again.content.decode()
    bad = client.post(reverse("contacts:receipt"), {"code": "XXXXXX"}, HTTP_HX_REQUEST="true")
    assert "没有找到" in bad.content.decode()
    page = client.get(reverse("contacts:batch", args=[batch.pk]))
    assert page.context["returned"] == 1
    no_js = client.post(reverse("contacts:receipt"), {"code": code, "batch": batch.pk})
    assert no_js.status_code == 302


@pytest.mark.parametrize("role", ROLES)
def test_batch_pages_scope(client, cast, summer, role):
    batch = L.create_batch(
        by=cast["users"]["zx_leader"], template=summer, school=cast["schools"]["zx"], grade=3
    )
    L.build_batch_pdf(batch)
    client.force_login(cast["users"][role])
    sees = bool(VISIBLE[role] & {"c31a", "c31b", "c32a"})
    assert client.get(reverse("contacts:batch", args=[batch.pk])).status_code == (
        200 if sees else 404
    )
    pdf = client.get(reverse("contacts:batch_pdf", args=[batch.pk]))
    assert pdf.status_code == (200 if sees and role != "inspector" else 404)
    if sees:
        summary = client.get(reverse("contacts:batch", args=[batch.pk])).context["summary"]
        names = {x.child.name for c in summary for x in c["missing"]}
        assert names == {cast["children"][k].name for k in VISIBLE[role] & {"c31a", "c31b", "c32a"}}


@pytest.mark.parametrize("role", ROLES)
def test_receipt_entry_scope(client, cast, summer, role):
    batch = L.create_batch(
        by=cast["users"]["zx_leader"], template=summer, school=cast["schools"]["zx"], grade=3
    )
    code = batch.letters.get(child=cast["children"]["c32a"]).code
    client.force_login(cast["users"][role])
    response = client.post(reverse("contacts:receipt"), {"code": code}, HTTP_HX_REQUEST="true")
    if role == "inspector":
        assert response.status_code == 403
        return
    assert ("已登记回执" in response.content.decode()) is ("c32a" in VISIBLE[role])


@pytest.mark.parametrize("role", ROLES)
def test_letters_page_lists_visible_batches(client, cast, summer, role):
    batch = L.create_batch(
        by=cast["users"]["bq_leader"], template=summer, school=cast["schools"]["bq"]
    )
    client.force_login(cast["users"][role])
    response = client.get(reverse("contacts:letters"))
    assert response.status_code == 200
    assert (batch in list(response.context["page"])) is ("bq31a" in VISIBLE[role])


def test_letters_page_query_count_is_pinned(client, cast, summer, django_assert_max_num_queries):
    for _ in range(5):
        L.create_batch(by=cast["users"]["zx_leader"], template=summer, school=cast["schools"]["zx"])
    client.force_login(cast["users"]["zx_leader"])
    with django_assert_max_num_queries(11):  # PostgreSQL adds a savepoint pair
        client.get(reverse("contacts:letters"))


def test_template_pages(client, cast, summer):
    client.force_login(cast["users"]["zx_leader"])
    assert client.get(reverse("contacts:template_edit", args=[summer.pk])).status_code == 200
    response = client.post(
        reverse("contacts:template_new"),
        {"title": "家长会通知", "body": "尊敬的{监护人}：请于周五来校。", "receipt_text": ""},
    )
    assert response.status_code == 302
    tpl = LetterTemplate.objects.get(title="家长会通知")
    bad = client.post(
        reverse("contacts:template_edit", args=[tpl.pk]),
        {"title": "家长会通知", "body": "尊敬的{爸爸}"},
    )
    assert bad.status_code == 200 and "body" in bad.context["form"].errors
    client.force_login(cast["users"]["bq_leader"])
    assert client.get(reverse("contacts:template_edit", args=[tpl.pk])).status_code == 404
    client.force_login(cast["users"]["inspector"])
    assert client.get(reverse("contacts:template_new")).status_code == 403


def test_empty_unit_is_refused(client, cast, summer):
    from guanai.testing import make_class

    empty = make_class(cast["schools"]["zx"], 6, 1)
    client.force_login(cast["users"]["zx_leader"])
    response = client.post(
        reverse("contacts:print"), {"template": summer.pk, "unit": f"class:{empty.pk}"}
    )
    assert response.status_code == 200 and "没有在读学生" in response.content.decode()


def test_school_letters_are_rendered_class_by_class(cast, summer, monkeypatch):
    for n in range(3):
        make_child(cast["classes"]["c41"], name=f"四年级{n}")
    calls = []
    real = L.render_letters_pdf

    def spy(batch, letters):
        calls.append({x.child.school_class_id for x in letters})
        return real(batch, letters)

    monkeypatch.setattr(L, "render_letters_pdf", spy)
    batch = L.create_batch(
        by=cast["users"]["zx_leader"], template=summer, school=cast["schools"]["zx"]
    )
    path = L.build_batch_pdf(batch)
    assert all(len(c) == 1 for c in calls) and len(calls) == 3  # three classes, one at a time
    _text, reader = pdf_text(path.read_bytes())
    assert len(reader.pages) == Child.objects.filter(school=cast["schools"]["zx"]).count()
