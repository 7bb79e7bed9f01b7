"""Counts of enrolled children in a user's scope, today or as of a past date (统计).

Every number a leader reports starts here, from `Child.objects.visible_to(user)` — the same
rows and filters as the child list (`GET /api/v1/children`, the 儿童档卡 page) — so that the
summary, the dashboard and the term report agree with the lists a leader can open.

"As of" a date:
- today (the default): the cards as they are now (exactly what the lists show);
- a past date: each card as its history stood at the end of that day (Asia/Shanghai) — its
  school, class, enrolment, category, 民政 flag, gender, birth date, village, 户口, boarding —
  and its parents' and guardian's latest recorded state by then. A card created later is not
  counted. Whose children: those inside the user's units (today's role assignments) on their
  class and school of that day, the children the user was responsible teacher of then, and
  those named to the user (proxy parent, following teacher) on that date. Ages and age bands
  are whole years on the date. The category and 民政 flag are those stored on the card that day
  (re-derived daily by `refresh_classifications`), not recomputed.
"""

import datetime as dt
from collections import Counter, defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from guanai.accounts import scope
from guanai.children.models import Child, ChildAssignment, Enrolment, Guardian, Parent
from guanai.org.models import School

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATEGORIES = ("single", "double", "migrant", "none", "unknown")
CATEGORY_NAMES = {
    "single": "单留守",
    "double": "双留守",
    "migrant": "随迁",
    "none": "非留守",
    "unknown": "未摸排",
}
AGE_BANDS = ("0-5", "6-13", "14-15", "16+", "unknown")
AGE_BAND_NAMES = {
    "0-5": "0–5 岁",
    "6-13": "6–13 岁",
    "14-15": "14–15 岁",
    "16+": "16 岁及以上",
    "unknown": "未采集",
}
GENDERS = ("male", "female", "unknown")
GENDER_NAMES = {"male": "男", "female": "女", "unknown": "未采集"}
BOARDING = ("yes", "no", "unknown")
BOARDING_NAMES = {"yes": "寄宿", "no": "走读", "unknown": "未采集"}
GUARDIAN_TYPES = ("grandparents", "maternal_grandparents", "relatives", "parent", "unknown")
GUARDIAN_TYPE_NAMES = {
    "grandparents": "祖父母",
    "maternal_grandparents": "外祖父母",
    "relatives": "其他亲属",
    "parent": "父或母",
    "unknown": "未采集",
}
# The card fields a complete 一人一卡 holds, counted when blank ("未采集"), never hidden.
MISSING_FIELDS = {
    "id_number": "身份证号（或学籍号）",
    "birth_date": "出生日期",
    "gender": "性别",
    "hukou": "户口性质",
    "village": "村",
    "boarding": "是否寄宿",
    "father_status": "父亲状况",
    "mother_status": "母亲状况",
    "guardian": "监护人",
    "guardian_phone": "监护人电话",
}


def _cutoff(on: dt.date, years: int) -> dt.date:
    """The latest birth date of a child who is at least `years` old on `on` (lib.dates.age_on:
    a 29 February birth turns a year older on 1 March of a common year)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:  # 29 February on, common year back then
        return dt.date(on.year - years, 2, 28)


def age_band_expr(on: dt.date) -> Case:
    return Case(
        When(birth_date__isnull=True, then=Value("unknown")),
        When(birth_date__gt=_cutoff(on, 6), then=Value("0-5")),
        When(birth_date__gt=_cutoff(on, 14), then=Value("6-13")),
        When(birth_date__gt=_cutoff(on, 16), then=Value("14-15")),
        default=Value("16+"),
        output_field=CharField(),
    )


def band_filters(on: dt.date) -> list[Q]:
    """AGE_BANDS as one range of birth dates each, for counts filtered by band: one
    comparison per card and band, not the whole CASE of `age_band_expr` (bench/stats.py)."""
    c6, c14, c16 = _cutoff(on, 6), _cutoff(on, 14), _cutoff(on, 16)
    return [
        Q(birth_date__gt=c6),
        Q(birth_date__gt=c14, birth_date__lte=c6),
        Q(birth_date__gt=c16, birth_date__lte=c14),
        Q(birth_date__lte=c16),
        Q(birth_date__isnull=True),
    ]


def guardian_type_expr(field: str) -> Case:
    """祖父母 / 外祖父母 / 其他亲属 / 父或母 from the guardian's relation as typed (the roster
    import turns 爷爷/奶奶/外公/外婆 into 祖父/祖母/外祖父/外祖母)."""
    return Case(
        When(**{field: ""}, then=Value("unknown")),
        When(**{f"{field}__startswith": "外祖"}, then=Value("maternal_grandparents")),
        When(
            **{f"{field}__in": ["外公", "外婆", "姥爷", "姥姥"]},
            then=Value("maternal_grandparents"),
        ),
        When(**{f"{field}__startswith": "祖"}, then=Value("grandparents")),
        When(**{f"{field}__in": ["爷爷", "奶奶"]}, then=Value("grandparents")),
        When(
            **{f"{field}__in": ["父亲", "母亲", "父", "母", "爸爸", "妈妈"]}, then=Value("parent")
        ),
        default=Value("relatives"),
        output_field=CharField(),
    )


def _text(expr) -> Coalesce:
    """'' for a missing related row, so that "blank" is one comparison (a subquery compared
    twice, IS NULL and = '', would run twice per row)."""
    return Coalesce(expr, Value(""), output_field=CharField())


def _end_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=SHANGHAI)


def _latest(model, end: dt.datetime, field: str, **match: Any) -> Subquery:
    """The `field` of the latest historical row of a related record by `end`, or NULL when
    there was none or it had been deleted."""
    rows = model.history.filter(history_date__lt=end, **match).order_by(
        "-history_date", "-history_id"
    )
    return Subquery(
        rows.annotate(v=Case(When(history_type="-", then=Value(None)), default=F(field))).values(
            "v"
        )[:1]
    )


def rows(
    user,
    *,
    as_of: dt.date | None = None,
    school: str | None = None,
    grade: int | None = None,
    class_no: int | None = None,
    school_ids: list[int] | None = None,
    family: bool = True,
    bare: bool = False,
    everyone: bool | None = None,
) -> QuerySet:
    """Enrolled children in the user's scope on `as_of` (`user` None: every child — the
    command line, which has no login), annotated with the same names today and in the past:
    s_code, s_name, grade_, class_no_, band and, with `family`, father_status,
    mother_status, g_name, g_phone, g_relation and gtype (a join or subqueries per row, left
    out of the counts that do not need them). Filters as the child list's
    (?school=CODE&grade=N&class_no=N), or a set of schools. `bare`: the filtered rows without
    any annotation (the subquery of the children's ids)."""
    today = timezone.localdate()
    as_of = as_of or today
    live = as_of >= today
    if live:
        if everyone is None:  # the caller may know it already (is_whole)
            everyone = user is None or holds_every_school(user)
        # the same rows as visible_to() when the user's towns hold every school, without an
        # OR over three conditions on every card (bench/stats.py)
        base = Child.objects.all() if everyone else Child.objects.visible_to(user)
        qs = base.filter(enrolment=Enrolment.ENROLLED)
    else:
        qs = _history_rows(user, as_of, school=school, school_ids=school_ids)
    if school:
        qs = qs.filter(school__code=school)
    if school_ids is not None:
        qs = qs.filter(school_id__in=school_ids)
    if grade is not None:
        qs = qs.filter(school_class__grade=grade)
    if class_no is not None:
        qs = qs.filter(school_class__class_no=class_no)
    if bare:
        return qs
    qs = qs.annotate(
        s_code=F("school__code"),
        s_name=F("school__name"),
        grade_=F("school_class__grade"),
        class_no_=F("school_class__class_no"),
        band=age_band_expr(as_of),
    )
    if not family:
        return qs
    if live:
        parent = Parent.objects.filter(child_id=OuterRef("pk"))
        qs = qs.annotate(
            father_status=_text(Subquery(parent.filter(relation="father").values("status")[:1])),
            mother_status=_text(Subquery(parent.filter(relation="mother").values("status")[:1])),
            g_name=_text(F("guardian__name")),
            g_phone=_text(F("guardian__phone")),
            g_relation=_text(F("guardian__relation")),
        )
    else:
        end = _end_of(as_of)
        qs = qs.annotate(
            father_status=_text(
                _latest(Parent, end, "status", child_id=OuterRef("id"), relation="father")
            ),
            mother_status=_text(
                _latest(Parent, end, "status", child_id=OuterRef("id"), relation="mother")
            ),
            g_name=_text(_latest(Guardian, end, "name", child_id=OuterRef("id"))),
            g_phone=_text(_latest(Guardian, end, "phone", child_id=OuterRef("id"))),
            g_relation=_text(_latest(Guardian, end, "relation", child_id=OuterRef("id"))),
        )
    return qs.annotate(gtype=guardian_type_expr("g_relation"))


def is_whole(user, as_of: dt.date, **where: Any) -> tuple[bool, bool | None]:
    """Whether `rows(user, as_of=as_of, **where)` are every enrolled card today (no filter,
    and the user's towns hold every school), and whether the user holds every school (None
    when not asked: a past date); both for `rows(everyone=…)` and `missing_from(whole=…)`."""
    if as_of < timezone.localdate():
        return False, None
    everyone = user is None or holds_every_school(user)
    return everyone and all(v in (None, "") for v in where.values()), everyone


def holds_every_school(user) -> bool:
    """Whether the towns the user holds as a whole (town administrator, inspector) hold every
    school: then every card is in the user's scope."""
    if user.is_superuser:
        return True
    towns = scope.towns(user, "view")
    return towns.exists() and not School.objects.exclude(town__in=towns).exists()


def _history_rows(
    user, as_of: dt.date, *, school: str | None = None, school_ids: list[int] | None = None
) -> QuerySet:
    """Each card's latest historical row by the end of `as_of`, enrolled then, inside the
    user's units then (today's role assignments on that day's school and class). With a
    school (or schools) the latest rows are looked for only among the cards that ever had a
    row there (the caller keeps those of that school on that day): a school's history, not the
    whole county's (bench/stats.py, trends per term)."""
    historical = Child.history.model
    end = _end_of(as_of)
    candidates = historical.objects.filter(history_date__lt=end)
    if school:
        ever = historical.objects.filter(school__code=school)
        candidates = candidates.filter(id__in=ever.values("id"))
    elif school_ids is not None:
        ever = historical.objects.filter(school_id__in=school_ids)
        candidates = candidates.filter(id__in=ever.values("id"))
    latest = candidates.values("id").annotate(last=Max("history_id")).values("last")
    qs = historical.objects.filter(history_id__in=latest).exclude(history_type="-")
    qs = qs.filter(enrolment=Enrolment.ENROLLED)
    if user is None or holds_every_school(user):
        return qs
    cond = scope.unit_q(
        user,
        "view",
        town="school__town_id",
        school="school_id",
        grade="school_class__grade",
        klass="school_class_id",
        child="",  # a historical card row: village units reach it too
    )
    if cond is None:
        return qs
    if not user.is_authenticated:
        return qs.none()
    named = ChildAssignment.objects.filter(user=user, valid_from__lte=as_of).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=as_of)
    )
    cond |= Q(responsible_teacher_id=user.pk) | Q(id__in=named.values("child_id"))
    return qs.filter(cond)


def _block() -> dict[str, Any]:
    return {"children": 0, "by_category": dict.fromkeys(CATEGORIES, 0), "civil_affairs": 0}


def summary(
    user,
    *,
    as_of: dt.date | None = None,
    school: str | None = None,
    grade: int | None = None,
    class_no: int | None = None,
    school_ids: list[int] | None = None,
    stored: bool = True,
) -> dict[str, Any]:
    """The counts of SPEC §6.3 `GET /api/v1/stats/summary`: one pass over the cards grouped
    by class (with their blank fields), the classes, the guardians, and the parents of the
    未摸排 cards (`missing_from`). A category outside CATEGORIES cannot be stored (choices).
    A past date sums the counts stored per class for that day (`daycounts`), today the counts
    kept per class by triggers (`live`); `stored=False`: the pass over the cards (today) or
    their history, which gives the same numbers."""
    as_of = as_of or timezone.localdate()
    where = {"school": school, "grade": grade, "class_no": class_no, "school_ids": school_ids}
    if stored and as_of <= timezone.localdate():
        from . import daycounts  # it counts with this module's names

        counts = daycounts.class_counts(user, as_of, **where)
        if counts is not None:
            return daycounts.summary_from(counts, as_of=as_of)
    whole, everyone = is_whole(user, as_of, **where)
    bare = rows(user, as_of=as_of, bare=True, everyone=everyone, **where)
    out = _block()
    out.update(
        {
            "as_of": as_of,
            "by_school": {},
            "by_grade": {},
            "by_age_band": dict.fromkeys(AGE_BANDS, 0),
            "by_gender": dict.fromkeys(GENDERS, 0),
        }
    )
    by_school: dict[str, dict] = defaultdict(_block)
    by_grade: dict[str, dict] = defaultdict(_block)
    # one row per class, every count a column: a row per class and combination of values
    # would be ten times as many rows for a county (bench/stats.py)
    aggregates = {f"c_{c}": Count("id", filter=Q(category=c)) for c in CATEGORIES}
    aggregates["civil"] = Count("id", filter=Q(civil_affairs=True))
    aggregates |= {f"g_{g}": Count("id", filter=Q(gender=g)) for g in ("male", "female")}
    aggregates |= {f"b_{i}": Count("id", filter=q) for i, q in enumerate(band_filters(as_of))}
    grouped = list(
        bare.values("school_id", "school_class_id")
        .annotate(n=Count("id"), **aggregates, **missing_flags())
        .order_by()
    )
    from . import daycounts

    # (school code, name, grade, class number) tuples, not models: thousands in a county
    classes = daycounts._classes({r["school_class_id"]: None for r in grouped})
    for r in grouped:
        code, _name, grade, _no = classes[r["school_class_id"]]
        for block in (out, by_school[code], by_grade[str(grade)]):
            block["children"] += r["n"]
            for cat in CATEGORIES:
                block["by_category"][cat] += r[f"c_{cat}"]
            block["civil_affairs"] += r["civil"]
        for i, band in enumerate(AGE_BANDS):
            out["by_age_band"][band] += r[f"b_{i}"]
        for gender in ("male", "female"):
            out["by_gender"][gender] += r[f"g_{gender}"]
        out["by_gender"]["unknown"] += r["n"] - r["g_male"] - r["g_female"]
    out["by_school"] = dict(sorted(by_school.items()))
    out["by_grade"] = dict(sorted(by_grade.items(), key=lambda kv: int(kv[0])))
    out["missing"] = missing_from(grouped, ids=bare, as_of=as_of, whole=whole)
    return out


def _blank(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{field: ""})


MISSING_CONDITIONS = {
    # set and cleared with the number (Child.set_id_number), kept in history like it, and
    # short enough for an index
    "id_number": Q(id_number_masked="", student_no_masked=""),
    "birth_date": Q(birth_date__isnull=True),
    "gender": _blank("gender"),
    "hukou": _blank("hukou"),
    "village": _blank("village"),
    "boarding": Q(boarding__isnull=True),
    "father_status": Q(father_status=""),
    "mother_status": Q(mother_status=""),
    "guardian": Q(g_name=""),
    "guardian_phone": Q(g_phone=""),
}


CARD_FIELDS = ("id_number", "birth_date", "gender", "hukou", "village", "boarding")


def related_rows(model, qs: QuerySet, as_of: dt.date) -> QuerySet:
    """The parents' or guardian rows (`model`) of the children in `qs` (best `rows(bare=True)`:
    no joins in the subquery) as they stood on `as_of`: today's rows, or each one's latest
    historical row by the end of that day."""
    ids = qs.order_by().values("id")
    if as_of >= timezone.localdate():
        return model.objects.filter(child_id__in=ids)
    historical = model.history.model
    latest = (
        historical.objects.filter(history_date__lt=_end_of(as_of))
        .values("id")
        .annotate(last=Max("history_id"))
        .values("last")
    )
    return (
        historical.objects.filter(history_id__in=latest)
        .exclude(history_type="-")
        .filter(child_id__in=ids)
    )


def missing_flags() -> dict[str, Count]:
    """Aggregates of blank card fields to add to a grouped count of cards: one pass over the
    cards gives both."""
    return {f"m_{key}": Count("id", filter=MISSING_CONDITIONS[key]) for key in CARD_FIELDS}


def missing_from(
    grouped: list[dict], *, ids: QuerySet, as_of: dt.date, whole: bool = False
) -> dict[str, int]:
    """MISSING_FIELDS counts from grouped rows carrying `n`, `cat` and `missing_flags`, plus
    the parents' status — looked up only for the 未摸排 cards: the category is derived from
    the parents' status and is 未摸排 exactly while one is blank — and the guardians.
    `whole`: `ids` are every enrolled card today (`is_whole`)."""
    total = sum(r["n"] for r in grouped)
    out = {key: sum(r[f"m_{key}"] for r in grouped) for key in CARD_FIELDS}
    unknown = sum(
        r["c_unknown"] if "c_unknown" in r else r["n"] if r["cat"] == "unknown" else 0
        for r in grouped
    )
    filled = dict(
        related_rows(Parent, ids.filter(category="unknown"), as_of)
        .exclude(status="")
        .values_list("relation")
        .annotate(n=Count("id"))
        .order_by()
    )
    out["father_status"] = unknown - filled.get("father", 0)
    out["mother_status"] = unknown - filled.get("mother", 0)
    counts = {"named": Count("id", filter=~Q(name="")), "phoned": Count("id", filter=~Q(phone=""))}
    if whole:
        # every enrolled card today: every guardian but those of the cards not enrolled — a
        # plain scan of the guardians instead of a list of every enrolled card's id (a town of
        # 100,000: 0.2–0.4 s against 1.3–2.5 s under load, bench/stats.py)
        gone = Q(child_id__in=Child.objects.exclude(enrolment=Enrolment.ENROLLED).values("id"))
        row = Guardian.objects.aggregate(
            named=Count("id", filter=~Q(name="") & ~gone),
            phoned=Count("id", filter=~Q(phone="") & ~gone),
        )
        guardians = {k: row[k] or 0 for k in counts}
    else:
        guardians = related_rows(Guardian, ids, as_of).aggregate(**counts)
    out["guardian"] = total - (guardians["named"] or 0)
    out["guardian_phone"] = total - (guardians["phoned"] or 0)
    return {key: out[key] for key in MISSING_FIELDS}


def guardian_types(qs: QuerySet, *, as_of: dt.date, total: int) -> Counter:
    """{guardian type: n} of the `total` children of `qs`; those without a guardian relation
    are "unknown"."""
    grouped = (
        related_rows(Guardian, qs, as_of)
        .exclude(relation="")
        .annotate(gtype=guardian_type_expr("relation"))
        .values("gtype")
        .annotate(n=Count("id"))
        .order_by()
    )
    out = Counter({r["gtype"]: r["n"] for r in grouped})
    out["unknown"] += total - sum(out.values())
    return out


# A card is complete (一人一卡) as Child.missing_fields() says: an ID number or 学籍号, a birth
# date, a village, both parents' status, and for a left-behind child a guardian with a phone.
INCOMPLETE = (
    MISSING_CONDITIONS["id_number"]
    | MISSING_CONDITIONS["birth_date"]
    | MISSING_CONDITIONS["village"]
    | Q(category="unknown")
    | (Q(category__in=("single", "double")) & (Q(g_name="") | Q(g_phone="")))
)


def incomplete_count(qs: QuerySet) -> int:
    """How many of the rows (annotated by `rows`) have an incomplete card."""
    return qs.order_by().aggregate(n=Count("id", filter=INCOMPLETE))["n"] or 0


def dashboard_counts(
    user,
    *,
    as_of: dt.date | None = None,
    school: str | None = None,
    grade: int | None = None,
    class_no: int | None = None,
    stored: bool = True,
) -> dict[str, Any]:
    """The dashboard's counts for a unit (the user's whole scope, a school, a grade or a
    class), one grouped pass over the cards and two small queries (the guardians of the
    left-behind, the parents of the 未摸排):

    - `units`: the next level down (schools → grades → classes), each {category: n, "civil",
      "total"} plus its key;
    - `dims`: by category, age band, gender, boarding, and guardian type (left-behind
      children only: whose guardian matters), "unknown" counted in each;
    - `missing`: blank card fields (MISSING_FIELDS).

    A past date sums the counts stored per class for that day (`daycounts`), today the counts
    kept per class by triggers (`live`); `stored=False`: the pass over the cards (today) or
    their history, which gives the same numbers.
    """
    as_of = as_of or timezone.localdate()
    where = {"school": school, "grade": grade, "class_no": class_no}
    if class_no is not None:
        unit_dims: tuple[str, ...] = ()
    elif grade is not None:
        unit_dims = ("class_no_",)
    elif school:
        unit_dims = ("grade_",)
    else:
        unit_dims = ("s_code", "s_name")
    from . import daycounts  # it counts with this module's names

    if stored and as_of <= timezone.localdate():
        counts = daycounts.class_counts(user, as_of, **where)
        if counts is not None:
            return daycounts.dashboard_from(counts, unit_dims=unit_dims)
    whole, everyone = is_whole(user, as_of, **where)
    bare = rows(user, as_of=as_of, bare=True, everyone=everyone, **where)
    # one row per class, every count a column (as the summary's pass), not a group per class
    # and combination of values: no sort of the cards (bench/stats.py)
    aggregates = {f"cat_{c}": Count("id", filter=Q(category=c)) for c in CATEGORIES}
    aggregates["civil"] = Count("id", filter=Q(civil_affairs=True))
    aggregates |= {f"sex_{g}": Count("id", filter=Q(gender=g)) for g in ("male", "female")}
    aggregates |= {f"band_{i}": Count("id", filter=q) for i, q in enumerate(band_filters(as_of))}
    aggregates["board_yes"] = Count("id", filter=Q(boarding=True))
    aggregates["board_no"] = Count("id", filter=Q(boarding=False))
    grouped = list(
        bare.values("school_id", "school_class_id")
        .annotate(n=Count("id"), **aggregates, **missing_flags())
        .order_by()
    )
    counts: dict[int, list[int]] = {}
    for r in grouped:
        c = Counter({k: v for k, v in r.items() if k in daycounts.KEYS})
        c["sex_unknown"] = r["n"] - r["sex_male"] - r["sex_female"]
        c["board_unknown"] = r["n"] - r["board_yes"] - r["board_no"]
        for i, band in enumerate(AGE_BANDS):
            c[f"band_{band}"] = r[f"band_{i}"]
        r["c_unknown"] = r["cat_unknown"]  # for missing_from
        counts[r["school_class_id"]] = daycounts.vector(c)
    data = daycounts.dashboard_from(counts, unit_dims=unit_dims)
    left_behind = data["dims"]["category"]["single"] + data["dims"]["category"]["double"]
    data["dims"]["gtype"] = guardian_types(
        bare.filter(category__in=("single", "double")), as_of=as_of, total=left_behind
    )
    data["missing"] = missing_from(grouped, ids=bare, as_of=as_of, whole=whole)
    return data
