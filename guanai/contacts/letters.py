"""致家长的一封信: templates and placeholders, printing runs (batches) and receipt slips (回执).

One letter per family: brothers and sisters in the batch who share a guardian get one letter
naming each of them, and its one slip counts for all of them (see `families.family_key`). The
PDF is made by `letters_pdf`.
"""

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from guanai.accounts import scope
from guanai.accounts.models import Role, RoleAssignment, User
from guanai.children.models import LEFT_BEHIND, Child, Enrolment
from guanai.children.validation import CardInvalid
from guanai.lib import dates
from guanai.lib.dates import current_term
from guanai.lib.grades import grade_name
from guanai.org.models import School, SchoolClass

from .families import facts_of, family_key, group_families, stored_family_key, stored_family_keys
from .models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Contact,
    ContactKind,
    Letter,
    LetterBatch,
    LetterChild,
    LetterTemplate,
    new_receipt_code,
)

PLACEHOLDER_RE = re.compile(r"\{([^{}\s]{1,10})\}")
PLACEHOLDERS = {
    "学生姓名": "孩子的姓名（兄弟姐妹合用一封信时写全，如“张三、张四”）",
    "监护人": "监护人姓名（没有时写“家长”）",
    "班级": "如 三年级(1)班",
    "学校": "学校名称",
    "班主任": "班主任姓名",
    "班主任电话": "班主任的手机号（档案里没有时印一条横线，可以手写）",
    "学校电话": "学校电话（学校与班级页面填写；没有时印一条横线）",
    "日期": "打印日期，如 2026年11月29日",
    "学期": "如 2026—2027学年第一学期",
    "假期开始": "打印时填写",
    "假期结束": "打印时填写",
    "返校日期": "打印时填写",
}
DATE_VALUES = ("假期开始", "假期结束", "返校日期")
# The print form's field for each date value, so a refusal names the field it shows.
DATE_FIELDS = {"假期开始": "holiday_start", "假期结束": "holiday_end", "返校日期": "return_on"}
# A phone the records do not hold is printed as a line to write it on by hand.
BLANK_PHONE = "____________"


def placeholders_in(text: str) -> list[str]:
    return PLACEHOLDER_RE.findall(text or "")


def check_placeholders(text: str, field: str) -> None:
    """Unknown placeholders are refused, naming the allowed ones."""
    unknown = [p for p in placeholders_in(text) if p not in PLACEHOLDERS]
    if unknown:
        allowed = "、".join("{" + p + "}" for p in PLACEHOLDERS)
        raise CardInvalid({field: f"不认识的占位符 {{{unknown[0]}}}；可以使用 {allowed}"})


def fill(text: str, values: dict[str, str]) -> str:
    """Replace {占位符} with values; unknown ones are left as written."""
    return PLACEHOLDER_RE.sub(lambda m: values.get(m[1], m[0]), text or "")


def term_label(day: dt.date) -> str:
    return dates.term_label(current_term(day))


def cn_date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "____年__月__日"


def class_teachers(class_ids: set[int]) -> dict[int, str]:
    """The class teacher's name for each class (the first active assignment)."""
    return {pk: str(user) for pk, user in class_teacher_users(class_ids).items()}


def class_teacher_users(class_ids: set[int]) -> dict[int, User]:
    """The class teacher of each class (the first active assignment), with her phone."""
    today = timezone.localdate()
    rows = (
        RoleAssignment.objects.filter(
            role=Role.CLASS_TEACHER, school_class_id__in=class_ids, valid_from__lte=today
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .select_related("user")
        .order_by("id")
    )
    out: dict[int, User] = {}
    for ra in rows:
        out.setdefault(ra.school_class_id, ra.user)
    return out


def distinct(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def family_values(
    children: Sequence[Child], guardian_name: str, teachers: dict[int, User], extra: dict[str, str]
) -> dict[str, str]:
    """Placeholder values for one family's letter: every child named, eldest first."""
    mine = [teachers[c.school_class_id] for c in children if c.school_class_id in teachers]
    return {
        "学生姓名": "、".join(child.name for child in children),
        "监护人": guardian_name or "家长",
        "班级": "、".join(distinct([str(child.school_class) for child in children])),
        "学校": children[0].school.name,
        # "请与班主任{班主任}联系" still reads well when a class has no teacher on record
        "班主任": "、".join(distinct([str(t) for t in mine])),
        "班主任电话": "、".join(distinct([t.phone for t in mine if t.phone])) or BLANK_PHONE,
        "学校电话": children[0].school.phone or BLANK_PHONE,
        **extra,
    }


def family_label(children: Sequence[Child], hidden: int = 0) -> str:
    """The children of a letter with their classes: “张三、张四（三年级(1)班）；王五（四年级(1)班）”.
    `hidden` counts children the reader may not see; they are not named."""
    by_class: dict[str, list[str]] = {}
    for child in children:
        by_class.setdefault(str(child.school_class), []).append(child.name)
    label = "；".join(f"{'、'.join(names)}（{klass}）" for klass, names in by_class.items())
    return label + (f"，及本户另外 {hidden} 名学生" if hidden else "")


# --- templates --------------------------------------------------------------------------------


def ensure_builtin_templates() -> None:
    """The built-in letters come with migration 0002; recreate them if a database was flushed."""
    from .builtin_letters import BUILT_IN

    if LetterTemplate.objects.filter(built_in=True).exists():
        return
    for title, body in BUILT_IN:
        LetterTemplate.objects.get_or_create(built_in=True, title=title, defaults={"body": body})


def templates_for(user: User) -> QuerySet[LetterTemplate]:
    """Built-in templates and those of the user's towns and schools."""
    ensure_builtin_templates()
    if user.is_superuser:
        return LetterTemplate.objects.all()
    towns = {ra.town_id for ra in user.active_roles() if ra.town_id}
    schools = {ra.school_id for ra in user.active_roles() if ra.school_id}
    towns |= set(School.objects.filter(pk__in=schools).values_list("town_id", flat=True))
    return LetterTemplate.objects.filter(
        Q(built_in=True) | Q(town_id__in=towns) | Q(school_id__in=schools)
    )


@transaction.atomic
def save_template(
    *,
    by: User,
    title: str,
    body: str,
    receipt_text: str,
    template: LetterTemplate | None = None,
) -> LetterTemplate:
    """Create or change a town's (or school's) letter template. Built-ins are copied, not
    changed. Raises CardInvalid."""
    errors: dict[str, str] = {}
    title, body, receipt_text = (title or "").strip(), (body or "").strip(), (receipt_text or "")
    if not title or len(title) > 100:
        errors["title"] = "请填写标题（100 字以内）"
    if not body:
        errors["body"] = "请填写正文"
    elif len(body) > 5000:
        errors["body"] = "正文不能超过 5000 字"
    if len(receipt_text.strip()) > 300:
        errors["receipt_text"] = "回执内容不能超过 300 字"
    for field, text in (("title", title), ("body", body), ("receipt_text", receipt_text)):
        try:
            check_placeholders(text, field)
        except CardInvalid as exc:
            errors.update(exc.errors)
    if errors:
        raise CardInvalid(errors)
    if template is None or template.built_in:
        unit = _template_unit(by)
        template = LetterTemplate(created_by=by, **unit)
    template.title, template.body = title, body
    template.receipt_text = (
        receipt_text.strip() or LetterTemplate._meta.get_field("receipt_text").default
    )
    template.save()
    return template


def _template_unit(user: User) -> dict[str, Any]:
    """Where a template the user saves belongs: her town when she manages one, else her
    school (the scope table)."""
    town = scope.towns(user, "manage").order_by("pk").first()
    if town is not None:
        return {"town_id": town.pk}
    school = scope.schools(user, "view").order_by("pk").first()
    if school is not None:
        return {"school_id": school.pk}
    raise PermissionDenied("没有可以保存模板的学校")


def may_edit_template(user: User, template: LetterTemplate) -> bool:
    """A town's template: its town's administrators; a school's: its leaders; any template:
    whoever wrote it."""
    if user.is_read_only or template.built_in:
        return False
    if scope.holds(user, "manage", town_id=template.town_id, school_id=template.school_id):
        return True
    return template.created_by_id == user.pk


# --- which units a user may print for ----------------------------------------------------------


def printable_classes(user: User) -> QuerySet[SchoolClass]:
    """Classes whose letters the user may print (whole units of her roles)."""
    return scope.classes(user, "print").filter(active=True)


def may_print(user: User) -> None:
    if user.is_read_only:
        raise PermissionDenied("督导员为只读角色，不能打印家长信")
    if not user.is_superuser and not scope.units(user, "print"):
        raise PermissionDenied("只有班主任、年级负责人、校领导和镇管理员可以打印家长信")


# --- batches ----------------------------------------------------------------------------------


def unique_codes(n: int) -> list[str]:
    """n receipt codes not used by any letter yet."""
    codes: set[str] = set()
    while len(codes) < n:
        fresh = {new_receipt_code() for _ in range(n - len(codes))} - codes
        taken = set(Letter.objects.filter(code__in=fresh).values_list("code", flat=True))
        codes |= fresh - taken
    return list(codes)


@transaction.atomic
def create_batch(
    *,
    by: User,
    template: LetterTemplate,
    school: School,
    grade: int | None = None,
    school_class: SchoolClass | None = None,
    left_behind_only: bool = False,
    values: dict[str, str] | None = None,
) -> LetterBatch:
    """A printing run: one letter (with a receipt code) per family among the enrolled children
    of the class, grade or school that `by` may see, naming each child of the family. A letter
    is printed with the class of its eldest child (`Letter.child`). The caller checks the unit
    is printable by `by`; the PDF is built by a job. Vacation dates that cannot be (the end
    before the start, the return before the end) raise CardInvalid naming the field."""
    values = {k: v for k, v in (values or {}).items() if k in DATE_VALUES and v}
    errors = date_value_errors(values)
    if errors:
        raise CardInvalid(errors)
    children = Child.objects.visible_to(by).filter(school=school, enrolment=Enrolment.ENROLLED)
    if school_class is not None:
        children = children.filter(school_class=school_class)
    elif grade is not None:
        children = children.filter(school_class__grade=grade)
    if left_behind_only:
        children = children.filter(category__in=LEFT_BEHIND)
    rows = list(
        children.select_related("guardian")
        .order_by(F("birth_date").asc(nulls_last=True), "pk")
        .only("pk", "village", "group", "address", "guardian__name", "guardian__phone")
    )
    if not rows:
        raise CardInvalid({"school_class": "这个范围内没有在读学生"})
    batch = LetterBatch.objects.create(
        template=template,
        school=school,
        grade=school_class.grade if school_class else grade,
        school_class=school_class,
        title=template.title,
        body=template.body,
        receipt_text=template.receipt_text,
        values=values,
        created_by=by,
    )
    families = group_families([(child, facts_of(child)) for child in rows])
    letters = Letter.objects.bulk_create(
        Letter(
            batch=batch,
            child=family[0],
            code=code,
            family_key=stored_family_key(key),
            guardian_name=_addressee(family),
        )
        for (key, family), code in zip(families, unique_codes(len(families)), strict=True)
    )
    LetterChild.objects.bulk_create(
        LetterChild(letter=letter, child=child, batch=batch)
        for letter, (_key, family) in zip(letters, families, strict=True)
        for child in family
    )
    return batch


def date_value_errors(values: dict[str, str]) -> dict[str, str]:
    """Errors of a letter's vacation dates ({label: ISO date}), keyed by the print form's
    fields: each date plausible, the vacation not ending before it starts, and the return to
    school not before the vacation ends (or starts, when its end is not given)."""
    days: dict[str, dt.date] = {}
    errors: dict[str, str] = {}
    for label, field in DATE_FIELDS.items():
        if values.get(label):
            try:
                days[label] = dt.date.fromisoformat(values[label])
            except (TypeError, ValueError):
                errors[field] = f"{label}的日期格式不对，应为 2027-07-10"
    start, end, back = days.get("假期开始"), days.get("假期结束"), days.get("返校日期")
    periods = [
        (start, end, "假期开始", "假期结束"),
        (end or start, back, "假期结束" if end else "假期开始", "返校日期"),
    ]
    for first, last, first_label, last_label in periods:
        found = dates.range_errors(
            first,
            last,
            field_start=DATE_FIELDS[first_label],
            field_end=DATE_FIELDS[last_label],
            label_start=first_label,
            label_end=last_label,
        )
        for field, message in found.items():
            errors.setdefault(field, message)
    return errors


def _addressee(family: list[Child]) -> str:
    """The letter is addressed to the guardian (the eldest's name for her, if the cards differ)."""
    return next((name for name in (facts_of(c).guardian_name for c in family) if name), "")


def batches_visible_to(user: User) -> QuerySet[LetterBatch]:
    """Batches naming at least one child the user may see."""
    kids = Child.objects.visible_to(user).values("pk")
    return LetterBatch.objects.filter(
        pk__in=LetterChild.objects.filter(child__in=kids).values("batch_id")
    )


def may_download(batch: LetterBatch, user: User) -> bool:
    """The PDF names every child of the batch, so only someone who may see them all (the
    printer, or a leader above her) downloads it; read-only roles never do."""
    if user.is_read_only:
        return False
    kids = Child.objects.visible_to(user).values("pk")
    return not LetterChild.objects.filter(batch=batch).exclude(child__in=kids).exists()


def with_children(letters: QuerySet[Letter]) -> QuerySet[Letter]:
    """Letters with their children (eldest first), classes and schools loaded."""
    named = LetterChild.objects.select_related("child__school", "child__school_class").order_by(
        "id"
    )
    return letters.prefetch_related(Prefetch("letter_children", queryset=named))


def family_letters(child: Child) -> QuerySet[Letter]:
    """The letters of this child's family in every batch, newest first: those naming her, and
    those whose stored family key is her family's as the card shows it now, under any key of
    the ring (letters printed before a key rotation included). The caller limits them to what
    the user may see."""
    keys = stored_family_keys(family_key(facts_of(child)))
    return (
        Letter.objects.filter(Q(family_key__in=keys) | Q(letter_children__child=child))
        .distinct()
        .order_by("-batch__created_at", "-pk")
    )


def children_of(letter: Letter) -> list[Child]:
    return [lc.child for lc in letter.letter_children.all()]


# --- receipts ---------------------------------------------------------------------------------


def normalize_code(text: str) -> str:
    """Codes as typed or scanned: case, spaces, dashes and full-width characters ignored."""
    import unicodedata

    code = unicodedata.normalize("NFKC", text or "").upper()
    return "".join(ch for ch in code if ch.isalnum())


class ReceiptError(Exception):
    """A receipt code that cannot be recorded; the message is Chinese."""


@transaction.atomic
def record_receipt(*, code: str, by: User) -> tuple[Letter, bool]:
    """Mark the family's letter with this code returned and log a 书信 contact on the card of
    every child it names: one slip counts for all of them. Returns (letter, newly_recorded); a
    code scanned again changes nothing. Codes naming no child the user may contact are not
    found."""
    code = normalize_code(code)
    if len(code) != CODE_LENGTH:
        raise ReceiptError(f"回执编号“{code}”格式不对：应为 {CODE_LENGTH} 位字母数字")
    not_found = f"没有找到这个回执编号：{code}（请核对回执上的编号，或该回执不在您的范围内）"
    if set(code) - set(CODE_ALPHABET):
        # six letters and digits, but some no code uses (Z, O, 0…): a misread or made-up slip
        raise ReceiptError(not_found)
    kids = Child.objects.visible_to(by, "contact").values("pk")
    mine = LetterChild.objects.filter(child__in=kids).values("letter_id")
    letter = (
        with_children(Letter.objects.select_for_update(of=("self",)))
        .select_related("batch")
        .filter(code=code, pk__in=mine)
        .first()
    )
    if letter is None:
        raise ReceiptError(not_found)
    if letter.returned_at is not None:
        return letter, False
    now = timezone.now()
    letter.returned_at, letter.returned_by = now, by
    letter.save(update_fields=["returned_at", "returned_by"])
    for child in children_of(letter):
        Contact.objects.create(
            child=child,
            kind=ContactKind.LETTER,
            at=now,
            by=by,
            with_whom=letter.guardian_name or "家长",
            notes=f"《{letter.batch.title}》回执已收回（编号 {letter.code}）",
        )
    return letter, True


def family_seen_by(letter: Letter, user: User) -> str:
    """The letter's children as `user` may see them: named with their classes, the others
    only counted."""
    kids = children_of(letter)
    visible = Child.objects.visible_to(user).filter(pk__in=[c.pk for c in kids])
    shown = children_seen(letter, set(visible.values_list("pk", flat=True)))
    return family_label(shown, hidden=len(kids) - len(shown))


def children_seen(letter: Letter, visible: set[int]) -> list[Child]:
    return [child for child in children_of(letter) if child.pk in visible]


def receipt_summary(batch: LetterBatch, user: User) -> list[dict[str, Any]]:
    """Per class a letter was printed with (its eldest child's): families (letters), returned,
    and the letters not returned yet with the children the user may see."""
    kids = Child.objects.visible_to(user).filter(letter_children__batch=batch)
    visible = set(kids.values_list("pk", flat=True))
    mine = LetterChild.objects.filter(batch=batch, child__in=kids.values("pk"))
    rows = (
        with_children(batch.letters.filter(pk__in=mine.values("letter_id")))
        .select_related("child__school_class")
        .order_by("child__school_class__grade", "child__school_class__class_no", "child__name")
    )
    classes: dict[int, dict[str, Any]] = {}
    for letter in rows:
        klass = letter.child.school_class
        entry = classes.setdefault(
            klass.pk,
            {"label": str(klass), "class_id": klass.pk, "total": 0, "returned": 0, "missing": []},
        )
        entry["total"] += 1
        if letter.returned_at:
            entry["returned"] += 1
        else:
            entry["missing"].append(
                {"code": letter.code, "children": children_seen(letter, visible)}
            )
    return list(classes.values())


def units_for(user: User) -> list[tuple[str, str]]:
    """The classes, grades and schools the user may print letters (or send messages) for:
    whole units of her roles, as ("class:ID" | "grade:SCHOOL:GRADE" | "school:ID", label)."""
    classes = list(printable_classes(user).select_related("school").ordered())
    whole_schools: set[int] = set()
    whole_grades: set[tuple[int, int]] = set()
    for level, ra in scope.units(user, "print"):
        if level == scope.TOWN:
            whole_schools |= {c.school_id for c in classes if c.school.town_id == ra.town_id}
        elif level == scope.SCHOOL:
            whole_schools.add(ra.school_id)
        elif level == scope.GRADE and ra.grade is not None:
            whole_grades.add((ra.school_id, ra.grade))
    if user.is_superuser:
        whole_schools = {c.school_id for c in classes}
    out: list[tuple[str, str]] = []
    seen_schools: set[int] = set()
    seen_grades: set[tuple[int, int]] = set()
    for c in classes:
        if c.school_id in whole_schools and c.school_id not in seen_schools:
            seen_schools.add(c.school_id)
            out.append((f"school:{c.school_id}", f"{c.school.name}（全校）"))
        key = (c.school_id, c.grade)
        if (c.school_id in whole_schools or key in whole_grades) and key not in seen_grades:
            seen_grades.add(key)
            out.append((f"grade:{c.school_id}:{c.grade}", f"{c.school.name} {grade_name(c.grade)}"))
        out.append((f"class:{c.pk}", f"{c.school.name} {c}"))
    return out


def resolve_unit(user: User, value: str) -> tuple[School, int | None, SchoolClass | None]:
    """(school, grade, class) of a unit value the user may use; Http404 otherwise."""
    from django.http import Http404

    if value not in dict(units_for(user)):
        raise Http404("没有这个范围")
    kind, *ids = value.split(":")
    if kind == "class":
        klass = SchoolClass.objects.select_related("school").get(pk=int(ids[0]))
        return klass.school, klass.grade, klass
    school = School.objects.get(pk=int(ids[0]))
    return school, (int(ids[1]) if kind == "grade" else None), None
