"""/api/v1/stats: counts of the enrolled children in the user's scope (SPEC §6.3)."""

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, FilterSchema, Query, Router, Schema

from guanai.lib.dates import DateError, query_date
from guanai.lib.errors import Invalid

from . import services

router = Router(tags=["stats"])


class SummaryFilter(FilterSchema):
    school: str | None = Field(None, description="学校代码，如 HS-ZX")
    grade: int | None = Field(None, ge=0, le=12, description="年级，0（学前班）到 12")
    as_of: str | None = Field(None, description="统计日期（默认今天），如 2026-11-01")


class CategoryCounts(Schema):
    single: int
    double: int
    migrant: int
    none: int
    unknown: int


class UnitCounts(Schema):
    children: int
    by_category: CategoryCounts
    civil_affairs: int


class SummaryOut(UnitCounts):
    as_of: dt.date
    by_school: dict[str, UnitCounts]
    by_grade: dict[str, UnitCounts]
    by_age_band: dict[str, int] = Field(description="0-5, 6-13, 14-15, 16+, unknown：周岁")
    by_gender: dict[str, int] = Field(description="male, female, unknown")
    missing: dict[str, int] = Field(description="未采集的档卡字段：字段 → 人数")


def parse_as_of(value: str | None, *, field: str = "as_of") -> dt.date:
    """?as_of=: any date form lib.dates reads, not after today; today when absent."""
    today = timezone.localdate()
    try:
        day = query_date(value, label="统计日期", today=today)
    except DateError as exc:
        raise Invalid({field: str(exc)}, source="query") from None
    if day is None:
        return today
    if day > today:
        raise Invalid({field: f"统计日期不能晚于今天（{today:%Y-%m-%d}）"}, source="query")
    return day


@router.get("/summary", response=SummaryOut)
def summary(request: HttpRequest, filters: Query[SummaryFilter]):
    """Enrolled children in the user's scope: by category, 民政口径, school, grade, age band
    (whole years on `as_of`), gender, and blank card fields. `children` and `by_category`
    agree with `GET /api/v1/children?school=&grade=&category=` for the same user and day; a
    school code outside the scope counts nothing, as the list shows nothing. A past `as_of`
    counts the cards as their history stood at the end of that day (docs/stats.md)."""
    as_of = parse_as_of(filters.as_of)
    return services.summary(
        request.user, as_of=as_of, school=filters.school or None, grade=filters.grade
    )
