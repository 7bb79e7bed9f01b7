"""The one place that says which units a user's roles give them, for which action.

Every "this role sees these units" rule lives here. A role holds a unit — a town, a school, a
grade of a school, a class — or no unit at all (a proxy parent follows only the children named
to him). An action (view, contact, change, manage, arrange, print, add) is open to some roles;
the user's units for an action are those of their current role assignments whose role the
action admits. Models turn that into filters: `Child.objects.visible_to(user, action)`,
`School`/`SchoolClass`/`Town` through `schools()`, `classes()` and `towns()` below; features
build their own `visible_to` from `unit_q()` and never branch on a role themselves.

Superusers see everything. Staff and superusers are managed on the command line only.
"""

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from guanai.lib.villages import village_key, village_names
from guanai.org.models import School, SchoolClass, Town

from .models import Role

TOWN, SCHOOL, GRADE, CLASS, MEMBER = "town", "school", "grade", "class", "member"
# A village of a town (儿童主任: the children whose home 村 is hers, in the town's schools), and a
# town's left-behind children (儿童督导员): units of children, not of schools — they reach only
# records that lead to a child (`unit_q(child=…)`), never a school or a class as a whole.
VILLAGE, TOWN_LEFT_BEHIND = "village", "town_left_behind"

# The unit each role holds. MEMBER: belongs to a school (sees its campaigns and rounds) without
# holding any of its classes; None: no unit, only the children named to the person.
UNIT_OF_ROLE: dict[str, str | None] = {
    Role.TOWN_ADMIN: TOWN,
    Role.INSPECTOR: TOWN,
    Role.SCHOOL_LEADER: SCHOOL,
    Role.COUNSELOR: SCHOOL,
    Role.GRADE_LEADER: GRADE,
    Role.CLASS_TEACHER: CLASS,
    Role.SUBJECT_TEACHER: MEMBER,
    Role.PROXY_PARENT: None,
    Role.AUDITOR: TOWN,  # reads the town's access log (the `audit` row) and nothing else
    Role.VILLAGE_DIRECTOR: VILLAGE,
    Role.CHILD_SUPERVISOR: TOWN_LEFT_BEHIND,
}

_READERS = {
    Role.TOWN_ADMIN,
    Role.INSPECTOR,
    Role.SCHOOL_LEADER,
    Role.COUNSELOR,
    Role.GRADE_LEADER,
    Role.CLASS_TEACHER,
    Role.SUBJECT_TEACHER,
}
# The village children's director and the town's 儿童督导员: read their children's cards (masked),
# log home visits and calls, see the guardianship alerts, record 委托监护确认书 — nothing else.
_VILLAGE_ROLES = {Role.VILLAGE_DIRECTOR, Role.CHILD_SUPERVISOR}
_ARRANGERS = {Role.TOWN_ADMIN, Role.SCHOOL_LEADER, Role.GRADE_LEADER, Role.CLASS_TEACHER}

# The school's own staff: who may follow a pair or be named a child's responsible teacher.
SCHOOL_STAFF = {
    Role.SCHOOL_LEADER,
    Role.GRADE_LEADER,
    Role.CLASS_TEACHER,
    Role.SUBJECT_TEACHER,
    Role.COUNSELOR,
}

# Which roles' units count for an action.
ROLES_FOR_ACTION: dict[str, set[str]] = {
    "view": _READERS | _VILLAGE_ROLES,  # read cards, campaigns, rounds, responsibility
    "contact": (_READERS - {Role.INSPECTOR}) | _VILLAGE_ROLES,  # log contacts, send messages
    "change": _READERS - {Role.INSPECTOR},  # edit cards, screen, verify
    "manage": {Role.TOWN_ADMIN, Role.SCHOOL_LEADER},  # school-wide work: imports, rounds …
    # User management in the pages and API: the people whose every role lies in the town
    # (`User.objects.manageable_by`); staff, superusers and auditors on the command line only.
    "manage_users": {Role.TOWN_ADMIN},
    # The schools' own work in the menu (包年级包班, 代理家长, 摸排与核实, 学籍, 督导): school staff,
    # the town and its inspectors — not a proxy parent, a village's director or an auditor.
    "school_work": _READERS,
    "arrange": _ARRANGERS,  # propose pairs, name responsible teachers
    "print": _ARRANGERS,  # letters to families of whole classes
    "add": _ARRANGERS,  # add children to a class
    "sign_off": {Role.TOWN_ADMIN, Role.SCHOOL_LEADER, Role.GRADE_LEADER},  # a grade's 核实
    "lead": {Role.SCHOOL_LEADER, Role.GRADE_LEADER},  # the classes a leader oversees (包年级)
    "lead_grade": {Role.GRADE_LEADER},  # "my grades"
    "lead_school": {Role.SCHOOL_LEADER},  # school-level settings a leader overrides
    "teach": {Role.CLASS_TEACHER},  # "my class" (包班)
    # Sensitive sections (SPEC §4): who reads them, each opening logged.
    "psych": {Role.SCHOOL_LEADER, Role.COUNSELOR},  # observations, sessions, screenings
    "health": {Role.SCHOOL_LEADER, Role.GRADE_LEADER, Role.CLASS_TEACHER, Role.COUNSELOR},
    "incidents": {Role.TOWN_ADMIN, Role.SCHOOL_LEADER},  # 强制报告: read and follow up
    # 独居 / 脱离监护 alerts: see and resolve.
    "alerts": {Role.TOWN_ADMIN, Role.SCHOOL_LEADER} | _VILLAGE_ROLES,
    # Others' free-text contact notes (a contact's author always reads her own).
    "notes": {
        Role.TOWN_ADMIN,
        Role.SCHOOL_LEADER,
        Role.GRADE_LEADER,
        Role.CLASS_TEACHER,
        Role.COUNSELOR,
    },
    # File an observation or an incident report (then read back only as "已提交").
    "report": _READERS - {Role.INSPECTOR},
    "inspect": {Role.TOWN_ADMIN, Role.INSPECTOR},  # 督导: draw samples, record findings
    # Reading ID numbers and 学籍号 on a card: in full (each view logged), or masked only.
    "full_id": {
        Role.TOWN_ADMIN,
        Role.SCHOOL_LEADER,
        Role.GRADE_LEADER,
        Role.CLASS_TEACHER,
        Role.SUBJECT_TEACHER,
        Role.COUNSELOR,
    },
    "masked_id": {Role.INSPECTOR} | _VILLAGE_ROLES,
    # Lists of children as Excel from the pages (each export logged with its exporter).
    "export": {Role.TOWN_ADMIN, Role.SCHOOL_LEADER},
    # A village's lists as Excel (登记表, changed cards): the school's and the town's exporters,
    # the village children's director and the 督导员 (the school ↔ village exchange).
    "village_export": {Role.TOWN_ADMIN, Role.SCHOOL_LEADER} | _VILLAGE_ROLES,
    # Record a 委托监护确认书 (the guardian's signed confirmation, with its scan).
    "entrust": {Role.TOWN_ADMIN, Role.SCHOOL_LEADER} | _VILLAGE_ROLES,
    # Follows only the children named to him (a proxy parent's own page).
    "follow_named": {Role.PROXY_PARENT},
    # The access log of a unit: the auditor (三权分立), and the town administrator, who reads
    # it but can neither change it nor grant himself the audit role (docs/audit.md).
    "audit": {Role.AUDITOR, Role.TOWN_ADMIN},
    # Access beyond one's role for one child (accounts.access_requests): who may ask, who
    # decides (a leader of the child's school), who may open at once in an emergency (§36),
    # and who reviews the emergency openings afterwards.
    "request_access": SCHOOL_STAFF | _VILLAGE_ROLES,
    "approve_access": {Role.SCHOOL_LEADER},
    "break_glass": {Role.INSPECTOR, Role.TOWN_ADMIN},
    "review_emergency": {Role.SCHOOL_LEADER, Role.AUDITOR},
}


def acts_as(user, action: str) -> bool:
    """Whether one of the user's current roles is admitted to an action, whatever its unit —
    for rules about the person (how much of a card he reads, which page is his) rather than
    about the records of a unit. Superusers: every action."""
    roles = _check(action)
    if user is None or not user.is_authenticated:
        return False
    return user.is_superuser or bool(user.role_codes() & roles)


def _check(action: str) -> set[str]:
    if action not in ROLES_FOR_ACTION:
        raise ValueError(f"unknown action {action!r}")
    return ROLES_FOR_ACTION[action]


def units(user, action: str = "view", *, on: dt.date | None = None) -> list[tuple[str, object]]:
    """The user's units for an action: [(level, role assignment)], today or on a date."""
    roles = _check(action)
    if user is None or not user.is_authenticated:
        return []
    out = []
    for ra in user.active_roles(on) if on else user.active_roles():
        level = UNIT_OF_ROLE.get(ra.role)
        if ra.role in roles and level is not None:
            out.append((level, ra))
    return out


def fingerprint(user) -> list:
    """What the user's scope depends on today, as plain values: equal fingerprints, equal
    units (a key for results stored per scope, stats/termstore.py). None: the command line."""
    if user is None:
        return [None]
    return [user.pk, bool(user.is_superuser)] + sorted(
        [ra.role, ra.town_id, ra.school_id, ra.grade, ra.village, ra.school_class_id]
        for ra in user.active_roles()
    )


def unit_q(
    user,
    action: str = "view",
    *,
    town: str,
    school: str,
    grade: str | None = None,
    klass: str | None = None,
    member: bool = False,
    child: str | None = None,
    on: dt.date | None = None,
) -> Q | None:
    """A filter for the records inside the user's units, given the lookups that lead from the
    record to its town, school, grade and class. `grade`/`klass` None: the record belongs to a
    whole school (a grade or class unit then reaches its school). `member`: school members
    (subject teachers) count too. `child`: the prefix leading from the record to its child
    ("" for a card, "child__" for a contact) — only then do village and town-left-behind units
    reach it. None means everything (superusers)."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return None
    cond = Q(pk__in=[])
    for level, ra in units(user, action, on=on):
        school_id = ra.school_id or (ra.school_class.school_id if ra.school_class_id else None)
        if level == TOWN:
            cond |= Q(**{town: ra.town_id})
        elif level == SCHOOL or (grade is None and level in (GRADE, CLASS)):
            cond |= Q(**{school: school_id})
        elif level == MEMBER:
            if member:
                cond |= Q(**{school: school_id})
        elif level == GRADE:
            cond |= Q(**{school: school_id, grade: ra.grade})
        elif level == CLASS:
            cond |= Q(**{klass: ra.school_class_id}) if klass else Q(**{school: school_id})
        elif level in (VILLAGE, TOWN_LEFT_BEHIND) and child is not None:
            cond |= _child_unit_q(level, ra, town=town, child=child)
    return cond


def _child_unit_q(level: str, ra, *, town: str, child: str) -> Q:
    """A village unit: its town's children whose home 村 is the village, however spelled
    (`lib.villages.village_names`); a town-left-behind unit: its town's left-behind children."""
    from guanai.children.models import LEFT_BEHIND

    if level == VILLAGE:
        return Q(**{town: ra.town_id, f"{child}village__in": village_names(ra.village)})
    return Q(**{town: ra.town_id, f"{child}category__in": LEFT_BEHIND})


def village_units(user, action: str = "view") -> list[tuple[int, str]]:
    """The (town id, village key) pairs a user's village units hold for an action."""
    return [
        (ra.town_id, village_key(ra.village)) for lv, ra in units(user, action) if lv == VILLAGE
    ]


def _filtered(qs: QuerySet, cond: Q | None) -> QuerySet:
    return qs if cond is None else qs.filter(cond)


def schools(user, action: str = "view") -> QuerySet[School]:
    """Schools the user acts on as a whole or in part: a town's schools, the school of a
    school, grade or class unit, and (for `view`) the school a subject teacher belongs to."""
    return _filtered(
        School.objects.all(),
        unit_q(user, action, town="town_id", school="pk", member=action == "view"),
    )


def classes(user, action: str = "view") -> QuerySet[SchoolClass]:
    """Classes inside the user's units for an action (active and closed ones)."""
    return _filtered(
        SchoolClass.objects.all(),
        unit_q(user, action, town="school__town_id", school="school_id", grade="grade", klass="pk"),
    )


def towns(user, action: str = "manage") -> QuerySet[Town]:
    """Towns whose whole unit the user holds for an action (town administrators; inspectors
    for `view`)."""
    if user is not None and user.is_authenticated and user.is_superuser:
        return Town.objects.all()
    ids = {ra.town_id for level, ra in units(user, action) if level == TOWN}
    return Town.objects.filter(pk__in=ids)


def children_q(user, action: str = "view", *, today: dt.date) -> Q | None:
    """The filter behind `Child.objects.visible_to`: the children of the user's units, the
    children whose responsible teacher the user is (who may also edit their card), and — to
    read and log contacts, not to edit — the children named to the user (proxy parents,
    following teachers). None means every child (superusers)."""
    cond = unit_q(
        user,
        action,
        town="school__town_id",
        school="school_id",
        grade="school_class__grade",
        klass="school_class_id",
        child="",
    )
    if cond is None:
        return None
    cond |= Q(responsible_teacher=user)
    if action != "change":
        cond |= Q(pk__in=_named(user, today))
    return cond


def unit_children_q(user, action: str, *, prefix: str = "") -> Q | None:
    """Children inside the user's units for an action, and only those: no child named to the
    user, none she is merely the responsible teacher of. The gate of the sensitive sections
    (psych, health, notes), which follow the unit and never a single child. `prefix` leads
    from another model to its child ("child__"). None means every child (superusers)."""
    return unit_q(
        user,
        action,
        town=f"{prefix}school__town_id",
        school=f"{prefix}school_id",
        grade=f"{prefix}school_class__grade",
        klass=f"{prefix}school_class_id",
        child=prefix,
    )


def holds(
    user,
    action: str,
    *,
    town_id: int | None = None,
    school_id: int | None = None,
    grade: int | None = None,
    class_id: int | None = None,
) -> bool:
    """Whether one of the user's units for an action covers a record of this town, school,
    grade or class (None: the record has no such level — a town's letter template has no
    school, so only the town's own unit covers it). No query once the roles are read."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    for level, ra in units(user, action):
        unit_school = ra.school_id or (ra.school_class.school_id if ra.school_class_id else None)
        if (
            (level == TOWN and town_id is not None and ra.town_id == town_id)
            or (level == SCHOOL and school_id is not None and unit_school == school_id)
            or (
                level == GRADE
                and school_id is not None
                and unit_school == school_id
                and grade is not None
                and ra.grade == grade
            )
            or (level == CLASS and class_id is not None and ra.school_class_id == class_id)
        ):
            return True
    return False


def holds_child(user, action: str, child) -> bool:
    """Whether one of the user's units for an action covers this child (unit_children_q for
    one child already loaded)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    levels = {level for level, _ra in units(user, action)}
    if levels & {VILLAGE, TOWN_LEFT_BEHIND} and _holds_by_child(user, action, child):
        return True
    return holds(
        user,
        action,
        town_id=child.school.town_id if TOWN in levels else None,
        school_id=child.school_id,
        grade=child.school_class.grade if GRADE in levels else None,
        class_id=child.school_class_id,
    )


def _holds_by_child(user, action: str, child) -> bool:
    """Whether a village or town-left-behind unit covers this child (no query: the card's
    school is loaded)."""
    for level, ra in units(user, action):
        if ra.town_id != child.school.town_id:
            continue
        if level == VILLAGE and village_key(child.village) == village_key(ra.village):
            return True
        if level == TOWN_LEFT_BEHIND and child.is_left_behind:
            return True
    return False


def _named(user, on: dt.date) -> QuerySet:
    """Ids of the children named to the user on a day (proxy parent, following teacher)."""
    from guanai.children.models import ChildAssignment

    assigned = ChildAssignment.objects.filter(user=user, valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )
    return assigned.values("child_id")


def taught_class_ids(user, *, on: dt.date | None = None) -> QuerySet:
    """Ids of the classes the person is class teacher of (包班), today or on a date, as a
    subquery (no query of its own: lists of many people stay at a fixed query count); none
    for a superuser, who teaches no class."""
    from .models import RoleAssignment

    on = on or timezone.localdate()
    rows = RoleAssignment.objects.filter(
        user=user, role__in=ROLES_FOR_ACTION["teach"], valid_from__lte=on
    ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=on))
    return rows.values("school_class_id")


def my_children_q(user, *, named: bool = True, on: dt.date | None = None) -> Q:
    """The one definition of "my children" (the 我的 of every list): those the person is the
    responsible teacher of, those of the classes she is class teacher of, and — unless
    `named` is False (pairing's open work: what a teacher answers for) — the children named to
    her as proxy parent or following teacher, and the children of a children's director's
    village (of a 儿童督导员's town, left-behind)."""
    day = on or timezone.localdate()
    cond = Q(responsible_teacher=user) | Q(school_class_id__in=taught_class_ids(user, on=day))
    if named:
        cond |= Q(pk__in=_named(user, day))
        # A children's director's (and the town 督导员's) own children are those of her unit.
        for level, ra in units(user, "contact", on=on):
            if level in (VILLAGE, TOWN_LEFT_BEHIND):
                cond |= _child_unit_q(level, ra, town="school__town_id", child="")
    return cond
