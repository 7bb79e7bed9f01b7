"""Stored counts per class of a finished day (`stats.DayCount`): a past date without a history
pass per request.

A finished day's history never changes (history rows are append-only, written when a card,
parent or guardian changes), so each class's counts at the end of a past day are computed once
— by the first request for that day, by the worker each night for yesterday (`tasks.py`), or
by `guanai fill-day-counts` — and a past date's summary and dashboard are sums of rows. Today
is never stored as a day: today's numbers are always live (SPEC §6.3), summed from the rows per
class that database triggers keep current (`live.py`, counted by `count_classes(live=True)`).

Whose rows: a user's units are whole classes (`scope.unit_q` over the classes), so their rows
are summed; the children a user also follows one by one (responsible teacher then, proxy
parent or following teacher named that day) outside those classes are counted from history,
like the live path, and added. A user whose units reach cards by their own fields (a village's
director: the card's 村) is counted from history as before (`scope_classes` answers None).

The counts are exactly those of the history path (`services.summary` and
`services.dashboard_counts` on a past date): tested against it on random data.

Anonymisation (`guanai/privacy/`) keeps category, gender and 村 but cuts a birth date to its
month, in the history too, for children who left years ago. A day stored before that keeps its
age bands as they were counted; a day first stored after it counts the cut dates, as the history
path then does. Stored counts are aggregates and name nobody, so anonymisation leaves them.
"""

import datetime as dt
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from operator import add
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Max, Q, Value, When
from django.utils import timezone

from guanai.accounts import scope
from guanai.children.models import Child, ChildAssignment, Enrolment, Guardian, Parent
from guanai.org.models import SchoolClass

from .models import CountedDay, DayCount
from .services import AGE_BANDS, CATEGORIES, GUARDIAN_TYPES, MISSING_FIELDS, _cutoff, _end_of

# The stored row is a list of numbers in this order (a third of the size of a dict per row);
# a day stored with another layout is counted again (`LAYOUT`).
KEYS = (
    ("n",)
    + tuple(f"cat_{c}" for c in CATEGORIES)
    + ("civil",)
    + tuple(f"sex_{g}" for g in ("male", "female", "unknown"))
    + tuple(f"band_{b}" for b in AGE_BANDS)
    + tuple(f"board_{b}" for b in ("yes", "no", "unknown"))
    + tuple(f"gt_{t}" for t in GUARDIAN_TYPES)
    + tuple(f"m_{m}" for m in MISSING_FIELDS)
)
LAYOUT = len(KEYS)  # CountedDay.layout: a new key makes a new layout
LEFT_BEHIND = ("single", "double")
CARD_COLUMNS = (
    "id",
    "school_class_id",
    "category",
    "civil_affairs",
    "gender",
    "birth_date",
    "boarding",
    "hukou",
    "village",
    "id_number_masked",
    "student_no_masked",
)


def guardian_type(relation: str) -> str:
    """services.guardian_type_expr in Python (a relation already known not to be blank)."""
    if relation.startswith("外祖") or relation in ("外公", "外婆", "姥爷", "姥姥"):
        return "maternal_grandparents"
    if relation.startswith("祖") or relation in ("爷爷", "奶奶"):
        return "grandparents"
    if relation in ("父亲", "母亲", "父", "母", "爸爸", "妈妈"):
        return "parent"
    return "relatives"


def _latest(model, end: dt.datetime, columns: Iterable[str], *, among=None, key: str = "id"):
    """Each record's latest historical row by `end`, not a deletion: `columns` of each.
    `among`: only records whose `key` (id or child_id) is in it."""
    historical = model.history.model
    candidates = historical.objects.filter(history_date__lt=end)
    if among is not None:
        candidates = candidates.filter(**{f"{key}__in": among})
    last = candidates.values("id").annotate(last=Max("history_id")).values("last")
    rows = historical.objects.filter(history_id__in=last).exclude(history_type="-")
    return rows.values_list(*columns)


def _related(model, end: dt.datetime | None, columns: tuple[str, ...], among, class_ids=None):
    """The parents' or guardians' `columns` of the children `among` (None: every child's, or
    those of the classes `class_ids`): as the history stood at `end`, or today's rows (`end`
    None; a phone is read as blank or not, without decrypting it)."""
    if end is not None:
        return _latest(model, end, columns, among=among, key="child_id")
    rows = model.objects.all()
    if among is not None:
        rows = rows.filter(child_id__in=among)
    elif class_ids is not None:
        rows = rows.filter(child__school_class_id__in=class_ids)
    if "phone" in columns:
        rows = rows.annotate(has_phone=Case(When(phone="", then=Value("")), default=Value("1")))
        columns = tuple("has_phone" if c == "phone" else c for c in columns)
    return rows.values_list(*columns)


def count_classes(
    day: dt.date, *, cards=None, live: bool = False, class_ids=None, db: str | None = None
) -> dict[int, Counter]:
    """{class id: Counter over KEYS} of the children enrolled at the end of `day`, as the
    history stood: every card, or the historical card rows `cards` (an iterable of value
    tuples in CARD_COLUMNS order, already chosen). `live`: today's cards, parents and
    guardians as they are now (`day` is today: its age bands), of the classes `class_ids`
    (None: every class) or the card rows `cards` read from `Child`; `db`: the database to
    count them in (the primary, for the stored rows: `live.py`)."""
    end = None if live else _end_of(day)
    if cards is None and live:
        return _count_live(day, class_ids, db)
    if cards is None:
        cards = _latest(Child, end, CARD_COLUMNS + ("enrolment",))
        cards = [c[:-1] for c in cards if c[-1] == Enrolment.ENROLLED]
    cards = list(cards)
    c6, c14, c16 = _cutoff(day, 6), _cutoff(day, 14), _cutoff(day, 16)
    out: dict[int, Counter] = defaultdict(Counter)
    klass_of: dict[int, int] = {}
    category_of: dict[int, str] = {}
    for pk, klass, cat, civil, gender, birth, boarding, hukou, village, idm, stm in cards:
        klass_of[pk], category_of[pk] = klass, cat
        c = out[klass]
        c["n"] += 1
        c[f"cat_{cat}"] += 1
        c["civil"] += 1 if civil else 0
        c[f"sex_{gender if gender in ('male', 'female') else 'unknown'}"] += 1
        if birth is None:
            band = "unknown"
        elif birth > c6:
            band = "0-5"
        elif birth > c14:
            band = "6-13"
        elif birth > c16:
            band = "14-15"
        else:
            band = "16+"
        c[f"band_{band}"] += 1
        c[f"board_{'unknown' if boarding is None else 'yes' if boarding else 'no'}"] += 1
        c["m_id_number"] += 1 if idm == "" and stm == "" else 0
        c["m_birth_date"] += 1 if birth is None else 0
        c["m_gender"] += 1 if not gender else 0
        c["m_hukou"] += 1 if not hukou else 0
        c["m_village"] += 1 if not village else 0
        c["m_boarding"] += 1 if boarding is None else 0
    # a few children: their own rows; many: every row (a long IN list costs more than it saves)
    among = None if len(cards) > 5000 else list(klass_of)
    # parents' status: only a 未摸排 card can lack one (the category is derived from them)
    for c in out.values():
        c["m_father_status"] = c["m_mother_status"] = c["cat_unknown"]
    unknown = [pk for pk, cat in category_of.items() if cat == "unknown"]
    unknown = unknown if len(unknown) <= 5000 else None
    parents = _related(Parent, end, ("child_id", "relation", "status"), unknown, class_ids)
    for child_id, relation, status in parents:
        filled = status != "" and relation in ("father", "mother")
        if filled and child_id in klass_of and category_of[child_id] == "unknown":
            out[klass_of[child_id]][f"m_{relation}_status"] -= 1
    for c in out.values():
        c["m_guardian"] = c["m_guardian_phone"] = c["n"]
        c["gt_unknown"] = c["cat_single"] + c["cat_double"]
    guardians = _related(Guardian, end, ("child_id", "name", "phone", "relation"), among, class_ids)
    for child_id, name, phone, relation in guardians:
        if child_id not in klass_of:
            continue
        c = out[klass_of[child_id]]
        c["m_guardian"] -= 1 if name != "" else 0
        c["m_guardian_phone"] -= 1 if phone != "" else 0
        if relation and category_of[child_id] in LEFT_BEHIND:
            c[f"gt_{guardian_type(relation)}"] += 1
            c["gt_unknown"] -= 1
    return dict(out)


def _count_live(day: dt.date, class_ids, db: str | None = None) -> dict[int, Counter]:
    """count_classes(live=True) of whole classes, counted by the database: a grouped pass over
    the cards (every count a column, as `services.dashboard_counts`), one over the guardians
    (named, with a phone, and the left-behind children's guardian types) and one over the
    parents of the 未摸排 cards — no row per card in Python (a county's 100,000 cards: a
    tenth of the time, bench/live_counts.py)."""
    from .services import band_filters, missing_flags

    where: dict[str, Any] = {"enrolment": Enrolment.ENROLLED}
    if class_ids is not None:
        where["school_class_id__in"] = class_ids
    enrolled = Q(**where)
    of_child = Q(**{f"child__{k}": v for k, v in where.items()})
    aggregates = {f"cat_{c}": Count("id", filter=Q(category=c)) for c in CATEGORIES}
    aggregates["civil"] = Count("id", filter=Q(civil_affairs=True))
    aggregates |= {f"sex_{g}": Count("id", filter=Q(gender=g)) for g in ("male", "female")}
    aggregates |= {
        f"band_{b}": Count("id", filter=q)
        for b, q in zip(AGE_BANDS, band_filters(day), strict=True)
    }
    aggregates["board_yes"] = Count("id", filter=Q(boarding=True))
    aggregates["board_no"] = Count("id", filter=Q(boarding=False))
    grouped = (
        Child.objects.using(db)
        .filter(enrolled)
        .values("school_class_id")
        .annotate(n=Count("id"), **aggregates, **missing_flags())
        .order_by()
    )
    out: dict[int, Counter] = {}
    for r in grouped:
        c = Counter({k: v for k, v in r.items() if k in AT})
        c["sex_unknown"] = r["n"] - r["sex_male"] - r["sex_female"]
        c["board_unknown"] = r["n"] - r["board_yes"] - r["board_no"]
        c["m_father_status"] = c["m_mother_status"] = r["cat_unknown"]
        c["m_guardian"] = c["m_guardian_phone"] = r["n"]
        c["gt_unknown"] = r["cat_single"] + r["cat_double"]
        out[r["school_class_id"]] = c
    parents = (
        Parent.objects.using(db)
        .filter(of_child, child__category="unknown", relation__in=("father", "mother"))
        .exclude(status="")
        .values_list("child__school_class_id", "relation")
        .annotate(n=Count("id"))
        .order_by()
    )
    for klass, relation, n in parents:
        out[klass][f"m_{relation}_status"] -= n
    # grouped by the relation as written (a few dozen words), typed here: no CASE per row
    guardians = (
        Guardian.objects.using(db)
        .filter(of_child)
        .values_list("child__school_class_id", "relation")
        .annotate(
            named=Count("id", filter=~Q(name="")),
            phoned=Count("id", filter=~Q(phone="")),
            typed=Count("id", filter=Q(child__category__in=LEFT_BEHIND)),
        )
        .order_by()
    )
    for klass, relation, named, phoned, typed in guardians:
        c = out[klass]
        c["m_guardian"] -= named
        c["m_guardian_phone"] -= phoned
        if typed and relation:
            c[f"gt_{guardian_type(relation)}"] += typed
            c["gt_unknown"] -= typed
    return out


def fill_day(day: dt.date) -> CountedDay:
    """Store the counts per class of a finished day (once: a day already stored in this
    layout is left as it is)."""
    return _fill(day)[0]


def _fill(day: dt.date) -> tuple[CountedDay, dict[int, list[int]] | None]:
    """fill_day, and the rows it counted when it counted them (None: stored before)."""
    if day >= timezone.localdate():
        raise ValueError("today is never stored: its counts are live")
    done = CountedDay.objects.filter(day=day).first()
    if done is not None and done.layout == LAYOUT:
        return done, None
    t0 = time.perf_counter()
    counted = count_classes(day)
    classes = dict(SchoolClass.objects.filter(pk__in=list(counted)).values_list("pk", "school_id"))
    rows = [
        DayCount(day=day, school_class_id=klass, school_id=classes[klass], counts=vector(c))
        for klass, c in counted.items()
        if klass in classes  # a class deleted since: nobody can ask for it
    ]
    vectors = {r.school_class_id: r.counts for r in rows}
    mark = CountedDay(
        day=day,
        layout=LAYOUT,
        classes=len(rows),
        children=sum(r.counts[0] for r in rows),
        seconds=time.perf_counter() - t0,
    )
    try:
        with transaction.atomic():
            if done is not None:  # another layout: count again
                DayCount.objects.filter(day=day).delete()
                done.delete()
            DayCount.objects.bulk_create(rows, batch_size=1000)
            mark.save()
    except IntegrityError:  # another request or the worker stores the same numbers meanwhile
        pass
    return mark, vectors


def vector(c: Counter) -> list[int]:
    """A Counter over KEYS as the stored list of numbers."""
    return [c.get(k, 0) for k in KEYS]


def stored(day: dt.date, class_ids: list[int] | None) -> dict[int, list[int]]:
    """{class id: counts in KEYS order} of a stored day (filled first when it is not yet);
    `class_ids` None: every class."""
    _, counted = _fill(day)
    if counted is not None:  # counted just now: no need to read them back
        wanted = None if class_ids is None else set(class_ids)
        return {k: v for k, v in counted.items() if wanted is None or k in wanted}
    rows = DayCount.objects.filter(day=day)
    if class_ids is not None:
        rows = rows.filter(school_class_id__in=class_ids)
    return dict(rows.values_list("school_class_id", "counts"))


def scope_classes(
    user, day: dt.date, where: Q, *, live: bool = False
) -> tuple[list[int] | None, dict[int, Counter]] | None:
    """The classes (filtered by `where` over SchoolClass; None: every class) whose stored
    rows make the user's counts on `day`, and the counts of the children the user follows
    one by one outside them; None when the user's units reach cards by their own fields (a
    village): the history path counts those."""
    classes = SchoolClass.objects.filter(where)
    if user is not None and not user.is_authenticated:
        return [], {}
    if user is not None and not user.is_superuser:
        lookups = {"town": "school__town_id", "school": "school_id", "grade": "grade"}
        units = scope.unit_q(user, "view", klass="id", **lookups)
        if units != scope.unit_q(user, "view", klass="id", child="", **lookups):
            return None  # a unit reaching cards by their 村 or category
        from .services import holds_every_school

        if not holds_every_school(user):
            mine = set(classes.filter(units).values_list("pk", flat=True))
            wanted = set(classes.values_list("pk", flat=True))
            if live:
                return sorted(mine), _followed_today(user, day, mine, classes)
            return sorted(mine), _followed(user, day, mine, wanted)
    if not where:
        return None, {}
    return list(classes.values_list("pk", flat=True)), {}


def _followed(user, day: dt.date, mine: set[int], wanted: set[int]) -> dict[int, Counter]:
    """The counts of the children the user was responsible teacher of on `day` or was named
    to then (proxy parent, following teacher), in the `wanted` classes but outside `mine`."""
    named = set(
        ChildAssignment.objects.filter(user=user, valid_from__lte=day)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
        .values_list("child_id", flat=True)
    )
    historical = Child.history.model
    taught = historical.objects.filter(responsible_teacher_id=user.pk).values_list("id", flat=True)
    among = named | set(taught)
    if not among:
        return {}
    rows = _latest(
        Child,
        _end_of(day),
        CARD_COLUMNS + ("enrolment", "responsible_teacher_id"),
        among=among,
    )
    cards = [
        r[: len(CARD_COLUMNS)]
        for r in rows
        if r[-2] == Enrolment.ENROLLED
        and (r[-1] == user.pk or r[0] in named)
        and r[1] in wanted
        and r[1] not in mine
    ]
    return count_classes(day, cards=cards) if cards else {}


def _followed_today(user, day: dt.date, mine: set[int], classes) -> dict[int, Counter]:
    """_followed for today: the children the user may see now (`visible_to`, as the live
    count's rows) in the `classes` but outside `mine`, counted from the cards as they are."""
    cards = (
        Child.objects.visible_to(user)
        .filter(enrolment=Enrolment.ENROLLED, school_class__in=classes)
        .exclude(school_class_id__in=mine)
        .values_list(*CARD_COLUMNS)
    )
    cards = list(cards)
    return count_classes(day, cards=cards, live=True) if cards else {}


def class_where(
    *,
    school: str | None = None,
    grade: int | None = None,
    class_no: int | None = None,
    school_ids: list[int] | None = None,
) -> Q:
    """The child list's filters (?school=CODE&grade=N&class_no=N, or a set of schools) as a
    condition on SchoolClass."""
    where = Q()
    if school:
        where &= Q(school__code=school)
    if school_ids is not None:
        where &= Q(school_id__in=school_ids)
    if grade is not None:
        where &= Q(grade=grade)
    if class_no is not None:
        where &= Q(class_no=class_no)
    return where


def class_counts(
    user,
    day: dt.date,
    *,
    school: str | None = None,
    grade: int | None = None,
    class_no: int | None = None,
    school_ids: list[int] | None = None,
) -> dict[int, list[int]] | None:
    """{class id: counts in KEYS order} of the user's children on a finished `day` or today,
    filtered as the child list is (?school=CODE&grade=N&class_no=N, or a set of schools): the
    stored rows of the user's classes (today: `live.counts`) plus the children followed one by
    one; None when only the history path (today: the live pass) can say (`scope_classes`)."""
    where = class_where(school=school, grade=grade, class_no=class_no, school_ids=school_ids)
    today = day == timezone.localdate()
    found = scope_classes(user, day, where, live=today)
    if found is None:
        return None
    ids, followed = found
    if today:
        from . import live

        counts = live.counts(ids)
    else:
        counts = stored(day, ids)
    for klass, c in followed.items():
        counts[klass] = list(map(add, counts.get(klass, [0] * LAYOUT), vector(c)))
    return counts


def _classes(counts: dict[int, Any]) -> dict[int, tuple]:
    """{class id: (school code, school name, grade, class number)}: tuples, not models (a
    county has thousands of classes)."""
    rows = SchoolClass.objects.filter(pk__in=list(counts)) if len(counts) < 500 else None
    if rows is None:
        rows = SchoolClass.objects.all()
    fields = ("pk", "school__code", "school__name", "grade", "class_no")
    return {r[0]: r[1:] for r in rows.values_list(*fields)}


def _sums(counts: dict[int, list[int]], key) -> dict:
    """Counts in KEYS order summed by key(class tuple)."""
    classes = _classes(counts)
    out: dict = {}
    for klass, v in counts.items():
        k = key(classes[klass])
        out[k] = list(map(add, out[k], v)) if k in out else v
    return out


AT = {k: i for i, k in enumerate(KEYS)}  # where each key stands in a row


def _block(v: list[int]) -> dict:
    return {
        "children": v[AT["n"]],
        "by_category": {c: v[AT[f"cat_{c}"]] for c in CATEGORIES},
        "civil_affairs": v[AT["civil"]],
    }


def summary_from(counts: dict[int, list[int]], *, as_of: dt.date) -> dict:
    """services.summary's answer from counts per class."""
    from .services import GENDERS

    counts = {k: v for k, v in counts.items() if v[AT["n"]]}
    by_class = _sums(counts, lambda c: c)
    by_school: dict = {}
    by_grade: dict = {}
    total = [0] * LAYOUT
    for (code, _name, grade, _no), v in by_class.items():
        by_school[code] = list(map(add, by_school[code], v)) if code in by_school else v
        key = str(grade)
        by_grade[key] = list(map(add, by_grade[key], v)) if key in by_grade else v
        total = list(map(add, total, v))
    out = _block(total)
    out["as_of"] = as_of
    out["by_school"] = {k: _block(v) for k, v in sorted(by_school.items())}
    out["by_grade"] = {k: _block(v) for k, v in sorted(by_grade.items(), key=lambda kv: int(kv[0]))}
    out["by_age_band"] = {b: total[AT[f"band_{b}"]] for b in AGE_BANDS}
    out["by_gender"] = {g: total[AT[f"sex_{g}"]] for g in GENDERS}
    out["missing"] = {k: total[AT[f"m_{k}"]] for k in MISSING_FIELDS}
    return out


def dashboard_from(counts: dict[int, list[int]], *, unit_dims: tuple[str, ...]) -> dict:
    """services.dashboard_counts' answer from counts per class."""
    counts = {k: v for k, v in counts.items() if v[AT["n"]]}
    key = {
        "s_code": lambda c: (c[0], c[1]),
        "grade_": lambda c: (c[2],),
        "class_no_": lambda c: (c[3],),
    }.get(unit_dims[0] if unit_dims else "", lambda c: ())
    groups = _sums(counts, key)
    total = [0] * LAYOUT
    for v in groups.values():
        total = list(map(add, total, v))

    def counter(pairs) -> Counter:  # as the grouped pass gives them: no key for nobody
        return Counter({k: n for k, n in pairs if n})

    units = {}
    if unit_dims:
        for k, v in groups.items():
            unit = counter((c, v[AT[f"cat_{c}"]]) for c in CATEGORIES)
            unit["civil"] += v[AT["civil"]]
            unit["total"] += v[AT["n"]]
            units[k] = unit
    dims = {
        "category": counter((c, total[AT[f"cat_{c}"]]) for c in CATEGORIES),
        "civil": counter(
            (("yes", total[AT["civil"]]), ("no", total[AT["n"]] - total[AT["civil"]]))
        ),
        "band": counter((b, total[AT[f"band_{b}"]]) for b in AGE_BANDS),
        "gender": counter((g, total[AT[f"sex_{g}"]]) for g in ("male", "female", "unknown")),
        "boarding": counter((b, total[AT[f"board_{b}"]]) for b in ("yes", "no", "unknown")),
        "gtype": counter((t, total[AT[f"gt_{t}"]]) for t in GUARDIAN_TYPES),
    }
    return {
        "units": units,
        "unit_dims": unit_dims,
        "dims": dims,
        "total": total[AT["n"]],
        "missing": {k: total[AT[f"m_{k}"]] for k in MISSING_FIELDS},
    }
