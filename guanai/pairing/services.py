"""Pairing workflows shared by pages, API and the `guanai pair` command.

The matching itself is `pairing.matching` (pure); this module reads the school's children, saves
proposals as drafts and moves pairs through draft → active → ended with history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from guanai.accounts import scope
from guanai.accounts.models import Role, RoleAssignment, User
from guanai.children.models import AssignmentKind, Category, Child, ChildAssignment, Enrolment
from guanai.org.models import School, SchoolClass

from .matching import (
    Match,
    Person,
    Weights,
    evaluate_pair,
    explain,
    match,
    round_cost,
    rounded_total,
)
from .models import Pair, PairStatus

TO_PAIR = (Category.SINGLE, Category.DOUBLE, Category.MIGRANT)
BUDDY_CATEGORY = Category.NONE
REPLACED_REASON = "被新的结对建议替换"


class PairingError(Exception):
    """A pairing action the rules forbid; the message is Chinese and says why."""


def pairing_weights() -> Weights:
    """The objective's weights from settings (SPEC §6.1 defaults)."""
    return Weights(
        distance_weight=float(getattr(settings, "GUANAI_PAIR_DISTANCE_WEIGHT", 1.0)),
        age_weight=float(getattr(settings, "GUANAI_PAIR_AGE_WEIGHT", 1.0)),
        max_age_gap_days=int(getattr(settings, "GUANAI_PAIR_MAX_AGE_GAP_DAYS", 730)),
        same_gender=bool(getattr(settings, "GUANAI_PAIR_SAME_GENDER", False)),
    )


def person_of(child: Child) -> Person:
    """The matcher's view of a card (coordinates only when both are set)."""
    has_xy = child.latitude is not None and child.longitude is not None
    return Person(
        id=child.pk,
        birth_date=child.birth_date,
        village=child.village,
        group=child.group,
        lat=float(child.latitude) if has_xy else None,
        lon=float(child.longitude) if has_xy else None,
        gender=child.gender,
    )


def _in_active_pair() -> Q:
    active = Pair.objects.active()
    return Q(pk__in=active.values("child_id")) | Q(pk__in=active.values("buddy_id"))


def children_to_pair(school: School, school_class: SchoolClass | None = None) -> QuerySet[Child]:
    """Enrolled left-behind and 随迁 children of the school (or of one of its classes) who are
    in no active pair."""
    qs = Child.objects.filter(school=school, enrolment=Enrolment.ENROLLED, category__in=TO_PAIR)
    if school_class is not None:
        qs = qs.filter(school_class=school_class)
    return qs.exclude(_in_active_pair()).order_by("pk")


def available_buddies(school: School, school_class: SchoolClass | None = None) -> QuerySet[Child]:
    """Enrolled children of the school with category `none` who are in no active pair.

    For one class: its own such children, except those already the buddy in a draft of a child
    of another class (a class proposal never takes another class's draft buddy)."""
    qs = Child.objects.filter(
        school=school, enrolment=Enrolment.ENROLLED, category=BUDDY_CATEGORY
    ).exclude(_in_active_pair())
    if school_class is not None:
        held = Pair.objects.drafts().filter(school=school).exclude(child__school_class=school_class)
        qs = qs.filter(school_class=school_class).exclude(pk__in=held.values("buddy_id"))
    return qs.order_by("pk")


def class_teachers(school: School) -> dict[int, User]:
    """school_class_id → the class teacher holding the class today (first assigned)."""
    today = timezone.localdate()
    rows = (
        RoleAssignment.objects.filter(
            role=Role.CLASS_TEACHER, school_class__school=school, valid_from__lte=today
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .select_related("user")
        .order_by("id")
    )
    teachers: dict[int, User] = {}
    for ra in rows:
        teachers.setdefault(ra.school_class_id, ra.user)
    return teachers


def default_follow_teacher(child: Child, teachers: dict[int, User] | None = None) -> User | None:
    """The child's responsible teacher, else the class teacher, else nobody."""
    if child.responsible_teacher_id:
        return child.responsible_teacher
    if teachers is None:
        teachers = class_teachers(child.school)
    return teachers.get(child.school_class_id)


def _apply(pair: Pair, m: Match) -> None:
    pair.cost = Decimal(str(round_cost(m.cost)))
    pair.distance_m = m.distance_m
    pair.age_gap_days = m.age_gap_days
    pair.same_village = m.same_village
    pair.same_group = m.same_group
    pair.explanation = explain(m)


@dataclass
class ProposedPair:
    """One pair of a proposal: the two cards, the matcher's facts, the teacher to follow."""

    child: Child
    buddy: Child
    match: Match
    follow_teacher: User | None

    @property
    def explanation(self) -> str:
        return explain(self.match)

    def as_dict(self) -> dict[str, Any]:
        m = self.match
        return {
            "child": self.child.pk,
            "child_name": self.child.name,
            "buddy": self.buddy.pk,
            "buddy_name": self.buddy.name,
            "distance_m": m.distance_m,
            "same_village": m.same_village,
            "same_group": m.same_group,
            "age_gap_days": m.age_gap_days,
            "cost": round_cost(m.cost),
        }


@dataclass
class Proposal:
    """The result of `propose_pairs`: pairs by child id, unpaired child ids, saved drafts."""

    school: School
    dry_run: bool
    school_class: SchoolClass | None = None
    pairs: list[ProposedPair] = field(default_factory=list)
    unpaired: list[int] = field(default_factory=list)
    saved: list[Pair] = field(default_factory=list)
    replaced: int = 0

    @property
    def total_cost(self) -> float:
        return rounded_total([p.match.cost for p in self.pairs])

    def as_dict(self) -> dict[str, Any]:
        """Exactly the JSON of `guanai pair --json` (SPEC §6.1)."""
        return {
            "pairs": [p.as_dict() for p in self.pairs],
            "unpaired": list(self.unpaired),
            "total_cost": self.total_cost,
        }


def propose_pairs(
    *,
    school: School,
    by: User | None,
    dry_run: bool,
    school_class: SchoolClass | None = None,
) -> Proposal:
    """Propose the optimal buddy pairs for a school; unless `dry_run`, save them as drafts.

    Saving replaces the school's earlier drafts (deleted, kept in history); active and ended
    pairs are never touched, and children in an active pair take no part. Atomic when it
    saves; a dry run only reads, so it opens no write transaction (SQLite has one writer).

    With `school_class`, only that class's children and buddies take part (a class teacher
    pairing her class), and only the drafts of that class's children are replaced.
    """
    if school_class is not None and school_class.school_id != school.pk:
        raise PairingError("该班级不属于所选学校")
    if dry_run:
        return _propose(school=school, by=by, dry_run=True, school_class=school_class)
    with transaction.atomic():
        # One proposal at a time per school: the second waits and then replaces the first.
        School.objects.select_for_update().filter(pk=school.pk).first()
        return _propose(school=school, by=by, dry_run=False, school_class=school_class)


def _propose(
    *, school: School, by: User | None, dry_run: bool, school_class: SchoolClass | None
) -> Proposal:
    children = list(children_to_pair(school, school_class).select_related("responsible_teacher"))
    buddies = list(available_buddies(school, school_class))
    result = match(
        [person_of(c) for c in children], [person_of(b) for b in buddies], pairing_weights()
    )
    by_id = {c.pk: c for c in children} | {b.pk: b for b in buddies}
    teachers = class_teachers(school)
    proposal = Proposal(
        school=school, dry_run=dry_run, school_class=school_class, unpaired=result.unpaired
    )
    for m in result.pairs:
        child = by_id[m.child]
        proposal.pairs.append(
            ProposedPair(
                child=child,
                buddy=by_id[m.buddy],
                match=m,
                follow_teacher=default_follow_teacher(child, teachers),
            )
        )
    if dry_run:
        return proposal
    old_drafts = Pair.objects.filter(school=school, status=PairStatus.DRAFT)
    if school_class is not None:
        old_drafts = old_drafts.filter(child__school_class=school_class)
    for old in old_drafts.order_by("pk"):
        old._history_user = by
        old._change_reason = REPLACED_REASON
        old.delete()
        proposal.replaced += 1
    drafts = []
    for p in proposal.pairs:
        pair = Pair(
            child=p.child,
            buddy=p.buddy,
            school=school,
            status=PairStatus.DRAFT,
            follow_teacher=p.follow_teacher,
            created_by=by,
        )
        _apply(pair, p.match)
        drafts.append(pair)
    proposal.saved = bulk_create_with_history(
        drafts, Pair, batch_size=500, default_user=by, default_change_reason="结对建议"
    )
    return proposal


# --- the following teacher ---------------------------------------------------------------------


def _sync_following(pairs: list[Pair], by: User | None) -> None:
    """Make each pair's open follow assignments exactly what its state calls for.

    An active pair with a follow teacher gives that teacher a subject-teacher assignment for
    both children (so they appear in her lists); any other state ends them. Ended rows stay,
    so who followed whom, and when, is kept.
    """
    if not pairs:
        return
    today = timezone.localdate()
    through = Pair.follow_assignments.through
    links = through.objects.filter(
        pair_id__in=[p.pk for p in pairs], childassignment__valid_to__isnull=True
    ).select_related("childassignment")
    open_by_pair: dict[int, list[ChildAssignment]] = {}
    for link in links:
        open_by_pair.setdefault(link.pair_id, []).append(link.childassignment)
    new: list[ChildAssignment] = []
    new_for: list[int] = []
    for pair in pairs:
        wanted: set[tuple[int, int]] = set()
        if pair.status == PairStatus.ACTIVE and pair.follow_teacher_id:
            wanted = {
                (pair.follow_teacher_id, pair.child_id),
                (pair.follow_teacher_id, pair.buddy_id),
            }
        for a in open_by_pair.get(pair.pk, []):
            key = (a.user_id, a.child_id)
            if key in wanted:
                wanted.discard(key)
                continue
            # valid_to is the last day in effect: ending today removes the scope at once
            # (a row started today keeps its true start, an empty period).
            a.valid_to = today - dt.timedelta(days=1)
            a._history_user = by
            a._change_reason = "结对结束或更换，跟踪分配结束"
            a.save()
        for user_id, child_id in sorted(wanted):
            new.append(
                ChildAssignment(
                    user_id=user_id,
                    child_id=child_id,
                    kind=AssignmentKind.SUBJECT_TEACHER,
                    valid_from=today,
                )
            )
            new_for.append(pair.pk)
    if new:
        saved = bulk_create_with_history(
            new,
            ChildAssignment,
            batch_size=500,
            default_user=by,
            default_change_reason="结对跟踪教师",
        )
        through.objects.bulk_create(
            [
                through(pair_id=pk, childassignment_id=a.pk)
                for pk, a in zip(new_for, saved, strict=True)
            ]
        )


def school_staff(school: School) -> QuerySet[User]:
    """People who may follow a pair or be named responsible: holders of a staff role at the
    school today or later (leaders, teachers, counselors)."""
    today = timezone.localdate()
    ras = RoleAssignment.objects.filter(role__in=scope.SCHOOL_STAFF, school=school).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=today)
    )
    return User.objects.filter(is_active=True, pk__in=ras.values("user_id")).order_by(
        "display_name", "username"
    )


@transaction.atomic
def set_follow_teacher(*, pair: Pair, teacher: User | None, by: User | None) -> Pair:
    """Name the teacher who follows the pair's safety (None: nobody). For an active pair the
    old teacher's assignments end and the new teacher's start today."""
    pair = Pair.objects.select_for_update().get(pk=pair.pk)
    if pair.status == PairStatus.ENDED:
        raise PairingError("已结束的结对不能更换跟踪教师")
    if teacher is not None and not school_staff(pair.school).filter(pk=teacher.pk).exists():
        raise PairingError(f"{teacher} 不是{pair.school.name}的教职工")
    if pair.follow_teacher_id == (teacher.pk if teacher else None):
        return pair
    pair.follow_teacher = teacher
    pair._history_user = by
    pair._change_reason = f"跟踪教师改为 {teacher}" if teacher else "取消跟踪教师"
    pair.save()
    _sync_following([pair], by)
    return pair


def _busy(people: Iterable[int], *, exclude: Iterable[int] = ()) -> QuerySet[Pair]:
    ids = list(people)
    return (
        Pair.objects.active()
        .filter(Q(child_id__in=ids) | Q(buddy_id__in=ids))
        .exclude(pk__in=list(exclude))
    )


@transaction.atomic
def accept_pairs(*, pairs: Iterable[Pair], by: User | None) -> list[Pair]:
    """Accept draft pairs: they become active (进行中), recording who accepted and when."""
    ids = [p.pk for p in pairs]
    locked = list(
        Pair.objects.select_for_update()
        .filter(pk__in=ids)
        .select_related("child", "buddy")
        .order_by("pk")
    )
    if len(locked) != len(set(ids)):
        raise PairingError("有结对已不存在（可能已被新的结对建议替换），请刷新后再确认")
    seen: set[int] = set()
    for pair in locked:
        if pair.status != PairStatus.DRAFT:
            raise PairingError(
                f"{pair.child.name} 与 {pair.buddy.name} 的结对{pair.get_status_display()}，"
                "只有草稿可以确认"
            )
        for person in (pair.child, pair.buddy):
            if person.pk in seen:
                raise PairingError(f"{person.name} 不能同时确认两对结对")
            seen.add(person.pk)
            if person.enrolment != Enrolment.ENROLLED:
                raise PairingError(f"{person.name} 已不在读，不能结对")
    taken = _busy(seen, exclude=ids).select_related("child", "buddy").first()
    if taken is not None:
        raise PairingError(f"{taken.child.name} 与 {taken.buddy.name} 已有进行中的结对")
    now = timezone.now()
    for pair in locked:
        pair.status = PairStatus.ACTIVE
        pair.accepted_by = by
        pair.accepted_at = now
        pair._history_user = by
        pair._change_reason = "确认结对"
        try:
            with transaction.atomic():
                pair.save()
        except IntegrityError as exc:
            raise PairingError("已有进行中的结对，请刷新后再确认") from exc
    _sync_following(locked, by)
    return locked


@transaction.atomic
def end_pair(*, pair: Pair, by: User | None, reason: str) -> Pair:
    """End a pair (active, or a draft that is declined) with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise PairingError("请填写结束原因")
    pair = Pair.objects.select_for_update().get(pk=pair.pk)
    if pair.status == PairStatus.ENDED:
        raise PairingError("该结对已结束")
    pair.status = PairStatus.ENDED
    pair.ended_by = by
    pair.ended_at = timezone.now()
    pair.end_reason = reason[:200]
    pair._history_user = by
    pair._change_reason = reason[:100]
    pair.save()
    _sync_following([pair], by)
    return pair


@transaction.atomic
def end_pairs_on_signal(sender, *, child: Child, by: User | None, reason: str, **kwargs) -> None:
    """The card's `child_leaves_pairs` signal (guanai/children/signals.py)."""
    end_pairs_of_child(child=child, by=by, reason=reason)


def end_pairs_of_child(*, child: Child, by: User | None, reason: str) -> int:
    """End every draft and active pair the child is in (transfer, no longer left-behind …)."""
    open_pairs = Pair.objects.filter(
        Q(child=child) | Q(buddy=child), status__in=[PairStatus.DRAFT, PairStatus.ACTIVE]
    ).order_by("pk")
    count = 0
    for pair in open_pairs:
        end_pair(pair=pair, by=by, reason=reason)
        count += 1
    return count


def why_not(child: Child, buddy: Child, weights: Weights | None = None) -> str | None:
    """Why the rules forbid this pair (Chinese), or None when they allow it."""
    weights = weights or pairing_weights()
    for person in (child, buddy):
        if person.birth_date is None:
            return f"{person.name} 没有出生日期，不能结对"
    if child.school_id != buddy.school_id:
        return "只能与本校同学结对"
    gap = abs((child.birth_date - buddy.birth_date).days)
    if gap > weights.max_age_gap_days:
        return f"两人年龄相差 {gap} 天，超过 {weights.max_age_gap_days} 天"
    if weights.same_gender and (not child.gender or child.gender != buddy.gender):
        return "按设置须与同性别同学结对"
    if evaluate_pair(person_of(child), person_of(buddy), weights) is None:
        return "不符合结对条件"
    return None


@transaction.atomic
def swap_buddy(*, pair: Pair, buddy: Child, by: User | None) -> float:
    """Give a draft or active pair another buddy; returns the change in total cost.

    A buddy who is free is simply taken. A buddy held by another draft of the school trades
    places: that draft gets this pair's old buddy (when the rules allow it), so both children
    keep a buddy and the returned change covers both pairs. A buddy in an active pair is refused.
    """
    pair = Pair.objects.select_for_update().select_related("child", "buddy").get(pk=pair.pk)
    if pair.status == PairStatus.ENDED:
        raise PairingError("已结束的结对不能更换伙伴")
    if buddy.pk == pair.buddy_id:
        return 0.0
    if buddy.pk == pair.child_id:
        raise PairingError("不能与自己结对")
    if buddy.school_id != pair.school_id:
        raise PairingError("只能与本校同学结对")
    if buddy.enrolment != Enrolment.ENROLLED:
        raise PairingError(f"{buddy.name} 已不在读")
    if buddy.category != BUDDY_CATEGORY:
        raise PairingError(f"{buddy.name} 本人是需要帮扶的儿童，不能作为结对伙伴")
    if _busy([buddy.pk], exclude=[pair.pk]).exists():
        raise PairingError(f"{buddy.name} 已有进行中的结对")
    weights = pairing_weights()
    problem = why_not(pair.child, buddy, weights)
    if problem:
        raise PairingError(problem)
    old_buddy = pair.buddy
    before = round_cost(float(pair.cost))
    after = round_cost(evaluate_pair(person_of(pair.child), person_of(buddy), weights).cost)
    other = (
        Pair.objects.select_for_update()
        .select_related("child")
        .filter(status=PairStatus.DRAFT, buddy=buddy)
        .exclude(pk=pair.pk)
        .first()
    )
    if other is not None:
        problem = why_not(other.child, old_buddy, weights)
        if problem:
            raise PairingError(
                f"{buddy.name} 已在 {other.child.name} 的结对草稿中，"
                f"而 {old_buddy.name} 与 {other.child.name} 不能交换：{problem}"
            )
        before += round_cost(float(other.cost))
        traded = evaluate_pair(person_of(other.child), person_of(old_buddy), weights)
        after += round_cost(traded.cost)
        # Park the other draft on nobody first is impossible (buddy is required), and drafts
        # carry no uniqueness constraint, so the two saves may happen in either order.
        other.buddy = old_buddy
        _apply(other, traded)
        other._history_user = by
        other._change_reason = f"与 {pair.child.name} 交换结对伙伴"
        other.save()
    pair.buddy = buddy
    _apply(pair, evaluate_pair(person_of(pair.child), person_of(buddy), weights))
    pair._history_user = by
    pair._change_reason = f"更换结对伙伴：{old_buddy.name} → {buddy.name}"
    pair.save()
    _sync_following([pair], by)
    return round_cost(after - before)


@dataclass
class SwapOption:
    """A buddy the pair could take instead, and what it would change.

    `trade_with` is the draft that holds this buddy now: it would get the pair's old buddy,
    and `cost_change` covers both pairs (as `swap_buddy` answers)."""

    buddy: Child
    cost: float
    cost_change: float
    explanation: str
    trade_with: Pair | None = None

    @property
    def verdict(self) -> str:
        """The change in a teacher's words (the cost itself is the optimiser's business)."""
        return compare_costs(self.cost_change)


def compare_costs(change: float, *, than: str = "现在") -> str:
    """A change of total cost said plainly: lower is nearer homes and closer ages."""
    if change < -0.0005:
        return f"比{than}更合适"
    if change > 0.0005:
        return f"不如{than}合适"
    return f"与{than}差不多"


def swap_options(pair: Pair, candidates: QuerySet[Child], *, limit: int = 12) -> list[SwapOption]:
    """The best buddies for a pair among `candidates` (already scoped by the caller), cheapest
    change first. Buddies the rules forbid, or held by an active pair, are left out."""
    weights = pairing_weights()
    child = pair.child
    if child.birth_date is None or pair.status == PairStatus.ENDED:
        return []
    gap = dt.timedelta(days=weights.max_age_gap_days)
    qs = (
        candidates.filter(
            school_id=pair.school_id,
            enrolment=Enrolment.ENROLLED,
            category=BUDDY_CATEGORY,
            birth_date__gte=child.birth_date - gap,
            birth_date__lte=child.birth_date + gap,
        )
        .exclude(pk=pair.buddy_id)
        .exclude(_in_active_pair())
        .select_related("school_class")
    )
    people = list(qs)
    holders = {
        d.buddy_id: d
        for d in Pair.objects.drafts()
        .filter(buddy_id__in=[b.pk for b in people])
        .exclude(pk=pair.pk)
        .select_related("child")
    }
    me, old = person_of(child), person_of(pair.buddy)
    current = round_cost(float(pair.cost))
    options = []
    for buddy in people:
        m = evaluate_pair(me, person_of(buddy), weights)
        if m is None:
            continue
        change = round_cost(m.cost) - current
        other = holders.get(buddy.pk)
        if other is not None:
            traded = evaluate_pair(person_of(other.child), old, weights)
            if traded is None:
                continue
            change += round_cost(traded.cost) - round_cost(float(other.cost))
        options.append(
            SwapOption(
                buddy=buddy,
                cost=round_cost(m.cost),
                cost_change=round_cost(change),
                explanation=explain(m),
                trade_with=other,
            )
        )
    options.sort(key=lambda o: (o.cost_change, o.buddy.pk))
    return options[:limit]
