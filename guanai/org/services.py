"""Organisation set-up used by pages and the `add-school` command."""

from django.db import transaction

from .models import School, Town


class OrgError(ValueError):
    """A set-up request that cannot be done; Chinese message."""


@transaction.atomic
def add_school(
    *, code: str, name: str, town_name: str | None = None, is_central: bool = False
) -> School:
    """Create a school (and its town if new). An existing code is updated, not duplicated."""
    code, name = code.strip(), name.strip()
    if not code or not name:
        raise OrgError("学校代码和名称都不能为空")
    town = (
        Town.objects.get_or_create(name=town_name.strip())[0]
        if town_name
        else Town.objects.order_by("id").first()
    )
    if town is None:
        raise OrgError("还没有镇，请用 --town 指定镇名")
    school, created = School.objects.get_or_create(
        code=code, defaults={"name": name, "town": town, "is_central": is_central}
    )
    if not created and (school.name, school.town_id) != (name, town.pk):
        school.name, school.town = name, town
        school.save()
    return school
