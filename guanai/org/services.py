"""Organisation set-up used by pages and the `add-school` command."""

from django.db import transaction

from .models import School, SchoolClass, Town

# The town a fresh install gets when `add-school` names none: renamed later in the pages.
DEFAULT_TOWN_NAME = "本镇"


class OrgError(ValueError):
    """A set-up request that cannot be done; Chinese message."""


def town_for(town_name: str | None) -> tuple[Town, bool]:
    """The town a new school goes to, and whether it was created: the named one (created if
    new); with no name the only town there is, or a new one called DEFAULT_TOWN_NAME on a
    fresh install. With several towns and no name, nobody can guess: refuse, naming them."""
    if town_name and town_name.strip():
        return Town.objects.get_or_create(name=town_name.strip())
    towns = list(Town.objects.order_by("id")[:11])
    if not towns:
        return Town.objects.get_or_create(name=DEFAULT_TOWN_NAME)
    if len(towns) == 1:
        return towns[0], False
    names = "、".join(t.name for t in towns[:10]) + ("等" if len(towns) > 10 else "")
    raise OrgError(f"已有多个镇（{names}），请用 --town 指定学校属于哪个镇")


@transaction.atomic
def add_school(
    *, code: str, name: str, town_name: str | None = None, is_central: bool = False
) -> School:
    """Create a school (and its town if new, see `town_for`). An existing code is updated, not
    duplicated."""
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise OrgError("学校代码和名称都不能为空")
    town, _ = town_for(town_name)
    school, created = School.objects.get_or_create(
        code=code, defaults={"name": name, "town": town, "is_central": is_central}
    )
    if not created and (school.name, school.town_id) != (name, town.pk):
        school.name, school.town = name, town
        school.save()
    return school


def _enrolled(qs) -> int:
    return qs.filter(enrolment="enrolled").count()


@transaction.atomic
def rename_town(*, town: Town, name: str) -> Town:
    """Give a town its real name (a fresh install's is DEFAULT_TOWN_NAME)."""
    name = name.strip()
    if not name:
        raise OrgError("请填写镇名称")
    if Town.objects.exclude(pk=town.pk).filter(name=name).exists():
        raise OrgError(f"已有名为“{name}”的镇")
    town.name = name
    town.save(update_fields=["name"])
    return town


@transaction.atomic
def rename_school(*, school: School, name: str) -> School:
    """Correct a school's name; its code, the key of scripts and imports, stays."""
    name = name.strip()
    if not name:
        raise OrgError("请填写学校名称")
    school.name = name
    school.save(update_fields=["name", "updated_at"])
    return school


@transaction.atomic
def set_school_phone(*, school: School, phone: str) -> School:
    """The school's phone (normalised by the form), printed on letters to families."""
    school.phone = phone.strip()
    school.save(update_fields=["phone", "updated_at"])
    return school


@transaction.atomic
def set_school_active(*, school: School, active: bool) -> School:
    """Close a school no longer in use, or open it again. Nothing is deleted; a school with
    children still enrolled is not closed, or they would drop out of every list."""
    if not active:
        n = _enrolled(school.children)
        if n:
            raise OrgError(
                f"{school.name}还有 {n} 名在读学生，不能停用。"
                "请先为他们办理转学（摸排与核实 → 转学）或毕业，再停用学校。"
            )
    school.active = active
    school.save(update_fields=["active", "updated_at"])
    return school


@transaction.atomic
def rename_class(*, school_class: SchoolClass, grade: int, class_no: int) -> SchoolClass:
    """Correct a class's grade or number (a typo at set-up); its children, class teacher and
    records stay with it."""
    taken = (
        SchoolClass.objects.filter(school=school_class.school, grade=grade, class_no=class_no)
        .exclude(pk=school_class.pk)
        .first()
    )
    if taken is not None:
        closed = "（已停用，可在列表中重新启用）" if not taken.active else ""
        raise OrgError(f"{school_class.school.name}已有{taken}{closed}")
    school_class.grade, school_class.class_no = grade, class_no
    school_class.save(update_fields=["grade", "class_no"])
    return school_class


@transaction.atomic
def set_class_active(*, school_class: SchoolClass, active: bool) -> SchoolClass:
    """Close a class (it leaves the drop-downs; nothing is deleted) or open it again. A class
    with enrolled children is not closed: they would be left in a class nobody can choose."""
    if not active:
        n = _enrolled(school_class.children)
        if n:
            raise OrgError(
                f"{school_class}还有 {n} 名在读学生，不能停用。"
                "请先在他们的档卡中把班级改为其他班级（或办理转学、毕业），再停用本班。"
            )
    school_class.active = active
    school_class.save(update_fields=["active"])
    return school_class
