"""Letters to families: templates and placeholders, PDF per class joined (Chinese text and an
embedded CJK font), receipt codes, who has not returned a slip, scope. Here every cast child is
a family alone; brothers and sisters are in test_letters_families.py."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from guanai.accounts.models import AccessLog
from guanai.children.models import Child, Guardian
from guanai.children.validation import CardInvalid
from guanai.contacts import letters as L
from guanai.contacts import letters_pdf as P
from guanai.contacts.models import (
    CODE_ALPHABET,
    Contact,
    Letter,
    LetterBatch,
    LetterChild,
    LetterTemplate,
)
from guanai.testing import VISIBLE, make_child

ROLES = list(VISIBLE)


@pytest.fixture
def cast(cast):
    """The shared cast with a guardian's phone of its own for each child (the builder gives
    them all the same grandmother, which would make the whole cast one family)."""
    for n, child in enumerate(cast["children"].values()):
        Guardian.objects.filter(child=child).update(phone=f"1390000{n:04d}")
    return cast


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
    path = P.build_batch_pdf(batch)
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
    svg = P.code39_svg("K7QX3M")
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
    assert [[c.name for c in x["children"]] for x in c31["missing"]] == [["单小明"]]


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
    P.build_batch_pdf(batch)
    client.force_login(cast["users"][role])
    sees = bool(VISIBLE[role] & {"c31a", "c31b", "c32a"})
    assert client.get(reverse("contacts:batch", args=[batch.pk])).status_code == (
        200 if sees else 404
    )
    # the PDF names all three children: only for those who may see them all
    pdf = client.get(reverse("contacts:batch_pdf", args=[batch.pk]))
    sees_all = VISIBLE[role] >= {"c31a", "c31b", "c32a"} and role != "inspector"
    assert pdf.status_code == (200 if sees_all else 404)
    if sees:
        summary = client.get(reverse("contacts:batch", args=[batch.pk])).context["summary"]
        names = {k.name for c in summary for x in c["missing"] for k in x["children"]}
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
        make_child(
            cast["classes"]["c41"], name=f"四年级{n}", **{"guardian.phone": f"1370000000{n}"}
        )
    calls = []
    real = P.render_letters_pdf

    def spy(batch, letters):
        calls.append({c.school_class_id for x in letters for c in L.children_of(x)})
        return real(batch, letters)

    monkeypatch.setattr(P, "render_letters_pdf", spy)
    batch = L.create_batch(
        by=cast["users"]["zx_leader"], template=summer, school=cast["schools"]["zx"]
    )
    path = P.build_batch_pdf(batch)
    assert all(len(c) == 1 for c in calls) and len(calls) == 3  # three classes, one at a time
    _text, reader = pdf_text(path.read_bytes())
    assert len(reader.pages) == Child.objects.filter(school=cast["schools"]["zx"]).count()


# --- families: brothers and sisters get one letter -------------------------------------------------


def sibling(of: Child, school_class, name: str, birth: dt.date) -> Child:
    """A brother or sister of `of`: the same guardian, so the same phone."""
    guardian = Guardian.objects.get(child=of)
    return make_child(
        school_class,
        name=name,
        birth=birth,
        **{"guardian.name": guardian.name, "guardian.phone": guardian.phone},
    )


@pytest.fixture
def zhang(cast):
    """张三 (三年级(1)班) and his elder brother 张四 (四年级(1)班), with their grandmother."""
    return cast["children"]["c31a"], sibling(
        cast["children"]["c31a"], cast["classes"]["c41"], "张四", dt.date(2016, 2, 1)
    )


def school_batch(cast, summer, **unit):
    """中心小学's letters printed by its leader: the whole school unless a class is given."""
    return L.create_batch(
        by=cast["users"]["zx_leader"], template=summer, school=cast["schools"]["zx"], **unit
    )


def test_siblings_in_two_classes_get_one_letter_printed_with_the_eldest(cast, summer, zhang):
    san, si = zhang
    batch = school_batch(cast, summer)
    letter = Letter.objects.get(batch=batch, children=san)
    assert letter.child == si  # the eldest
    assert list(letter.children.order_by("letter_children__id")) == [si, san]
    assert letter.guardian_name == "张奶奶"
    assert len(letter.family_key) == 16 and "1390000" not in letter.family_key
    assert batch.letters.count() == 4  # 张家, 单小明, 李四, 王五
    kids = Child.objects.filter(school=cast["schools"]["zx"])
    assert LetterChild.objects.filter(batch=batch).count() == kids.count()  # each child once
    # the next printing recognises the same family by its stored key, not by a phone
    again = school_batch(cast, summer).letters.get(child=si)
    assert again.family_key == letter.family_key


def test_a_class_batch_groups_only_the_children_of_that_class(cast, summer, zhang):
    san, si = zhang
    batch = school_batch(cast, summer, school_class=cast["classes"]["c31"])
    assert list(batch.letters.get(child=san).children.all()) == [san]
    assert not LetterChild.objects.filter(batch=batch, child=si).exists()


def test_a_sibling_outside_the_printers_scope_is_not_named(cast, summer, zhang):
    # 王老师 sees her class only: even asked for the whole school, she groups within it
    batch = L.create_batch(
        by=cast["users"]["zx_teacher31"], template=summer, school=cast["schools"]["zx"]
    )
    assert set(LetterChild.objects.filter(batch=batch).values_list("child__name", flat=True)) == {
        "张三",
        "单小明",
    }
    text, _reader = pdf_text(P.build_batch_pdf(batch).read_bytes())
    assert "张四" not in text


def test_a_family_letter_names_every_child_and_its_slip_lists_their_classes(cast, summer, zhang):
    twin = sibling(cast["children"]["c31a"], cast["classes"]["c31"], "张五", dt.date(2017, 3, 2))
    batch = school_batch(cast, summer)
    letter = batch.letters.get(child=zhang[1])
    _text, reader = pdf_text(P.build_batch_pdf(batch).read_bytes())
    assert len(reader.pages) == batch.letters.count() == 4  # one page per family
    pages = [p.extract_text().replace(" ", "").replace("\n", "") for p in reader.pages]
    family = [p for p in pages if letter.code in p]
    assert len(family) == 1  # printed once, in 四年级(1)班's part
    assert family[0].startswith("暑假安全致家长的一封信尊敬的张奶奶")
    assert "为了让张四、张三、张五同学度过" in family[0]
    assert f"张四（四年级(1)班）；张三、{twin.name}（三年级(1)班）" in family[0]  # the slip
    assert any("Noto" in f for f in embedded_fonts(reader))


def test_one_slip_marks_the_family_returned_and_contacts_every_child(cast, summer, zhang):
    san, si = zhang
    batch = school_batch(cast, summer)
    letter = batch.letters.get(child=si)
    got, new = L.record_receipt(code=letter.code, by=cast["users"]["zx_leader"])
    assert got == letter and new
    assert set(Contact.objects.filter(kind="letter").values_list("child", flat=True)) == {
        san.pk,
        si.pk,
    }
    _again, new = L.record_receipt(code=letter.code, by=cast["users"]["zx_leader"])
    assert not new and Contact.objects.filter(kind="letter").count() == 2
    summary = {c["label"]: c for c in L.receipt_summary(batch, cast["users"]["zx_leader"])}
    assert (summary["四年级(1)班"]["returned"], summary["四年级(1)班"]["total"]) == (1, 2)
    assert (summary["三年级(1)班"]["returned"], summary["三年级(1)班"]["total"]) == (0, 1)


def test_the_younger_childs_teacher_may_record_the_familys_slip(client, cast, summer, zhang):
    si = zhang[1]
    batch = school_batch(cast, summer)
    P.build_batch_pdf(batch)
    code = batch.letters.get(child=si).code
    client.force_login(cast["users"]["zx_teacher31"])
    page = client.get(reverse("contacts:batch", args=[batch.pk]))
    missing = [m for c in page.context["summary"] for m in c["missing"] if m["code"] == code]
    assert [k.name for m in missing for k in m["children"]] == ["张三"]  # not 张四: not hers
    assert "（三年级(1)班）" in page.content.decode()  # listed under 四年级(1)班, so marked
    assert "请找打印人" in page.content.decode() and "下载 PDF" not in page.content.decode()
    response = client.post(reverse("contacts:receipt"), {"code": code}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "张三（三年级(1)班），及本户另外 1 名学生：已登记回执" in text and "张四" not in text
    assert Contact.objects.filter(kind="letter", child=si).exists()


def test_batch_page_counts_families(client, cast, summer, zhang):
    batch = school_batch(cast, summer)
    L.record_receipt(code=batch.letters.get(child=zhang[1]).code, by=cast["users"]["zx_leader"])
    client.force_login(cast["users"]["zx_leader"])
    page = client.get(reverse("contacts:batch", args=[batch.pk])).content.decode()
    assert re.search(r"回执已收回 <span[^>]*>1</span> / 4 户", page)
    assert "1 / 2 户" in page


def test_the_worker_warms_up_the_pdf_fonts_as_it_starts(monkeypatch, settings):
    import threading

    from django.core.management import call_command
    from django_tasks_db.management.commands.db_worker import Command as DbWorker

    from guanai.jobs import services

    assert P.warm_up in services.WARM_UPS  # registered by contacts/tasks.py
    started = threading.Event()
    monkeypatch.setattr(services, "WARM_UPS", [started.set])
    monkeypatch.setattr(DbWorker, "handle", lambda self, *args, **options: None)  # no loop
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    call_command("worker", "--no-reload")
    assert started.wait(5)


def test_batch_page_query_count_is_pinned(
    client, cast, summer, zhang, django_assert_max_num_queries
):
    for n in range(10):
        kid = make_child(
            cast["classes"]["c32"], name=f"刘{n}", **{"guardian.phone": f"1360{n:07d}"}
        )
        sibling(kid, cast["classes"]["c41"], f"刘姐{n}", dt.date(2015, 1, 1))
    batch = school_batch(cast, summer)
    client.force_login(cast["users"]["zx_leader"])
    with django_assert_max_num_queries(13):  # PostgreSQL adds a savepoint pair
        page = client.get(reverse("contacts:batch", args=[batch.pk]))
    assert page.status_code == 200 and "刘姐9" in page.content.decode()
    assert page.context["total"] == 14
