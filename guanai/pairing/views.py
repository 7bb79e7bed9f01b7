"""Pairing pages: the list of pairs (propose, accept some or all), one pair (swap the buddy with
the cost change shown, end with a reason, the following teacher, its history).

Pairs come from `Pair.objects.visible_to` (a pair is visible when its child is), children from
`Child.objects.visible_to`; acting needs `permissions.check_manage_pair` on top.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from guanai.accounts.models import User
from guanai.accounts.permissions import writer_required
from guanai.children.access import search_children
from guanai.children.models import Child
from guanai.exports import xlsx_download
from guanai.lib.grades import GRADE_NAMES
from guanai.lib.htmx import is_partial
from guanai.org.models import School

from .forms import EndForm, FollowForm, ProposeForm, SwapForm
from .models import Pair, PairStatus
from .permissions import (
    arranged_classes,
    check_manage_pair,
    managed_schools,
    may_manage_pairs,
)
from .services import (
    PairingError,
    accept_pairs,
    compare_costs,
    end_pair,
    propose_pairs,
    school_staff,
    set_follow_teacher,
    swap_buddy,
    swap_options,
)

PAGE_SIZE = 50
STATUSES = [("", "草稿和进行中"), *PairStatus.choices, ("all", "全部")]


def _pairs(request: HttpRequest) -> QuerySet[Pair]:
    return Pair.objects.visible_to(request.user)


def _filter(qs: QuerySet[Pair], request: HttpRequest, g: QueryDict) -> QuerySet[Pair]:
    """The list's filters, shared by the list and "accept all"."""
    status = g.get("status", "")
    if status in PairStatus.values:
        qs = qs.filter(status=status)
    elif status != "all":
        qs = qs.filter(status__in=[PairStatus.DRAFT, PairStatus.ACTIVE])
    if g.get("school"):
        qs = qs.filter(school__code=g["school"])
    if g.get("grade", "").isdigit():
        qs = qs.filter(child__school_class__grade=int(g["grade"]))
    if g.get("class_no", "").isdigit():
        qs = qs.filter(child__school_class__class_no=int(g["class_no"]))
    if g.get("child", "").isdigit():
        qs = qs.filter(Q(child_id=int(g["child"])) | Q(buddy_id=int(g["child"])))
    if g.get("mine") == "1":
        qs = qs.filter(follow_teacher=request.user)
    if g.get("q", "").strip():
        q = g["q"].strip()
        qs = qs.filter(Q(child__name__contains=q) | Q(buddy__name__contains=q))
    return qs


def _propose_form(request: HttpRequest, data=None) -> ProposeForm | None:
    if not may_manage_pairs(request.user):
        return None
    classes = list(
        arranged_classes(request.user)
        .select_related("school")
        .order_by("school_id", "grade", "class_no")
    )
    schools = list(managed_schools(request.user).order_by("id"))
    if not classes and not schools:
        return None
    return ProposeForm(data, schools=schools, classes=classes)


def _list(
    request: HttpRequest, *, propose_form: ProposeForm | None = None, status: int = 200
) -> HttpResponse:
    qs = _filter(_pairs(request), request, request.GET).select_related(
        "school", "child__school_class", "buddy__school_class", "follow_teacher"
    )
    qs = qs.order_by(
        "school_id",
        "child__school_class__grade",
        "child__school_class__class_no",
        "child__name",
        "id",
    )
    if request.GET.get("export") == "xlsx":
        return _export(request, qs)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    form = propose_form or _propose_form(request)
    ctx = {
        "page": page,
        "query": query.urlencode(),
        "f": request.GET,
        "statuses": STATUSES,
        "grades": sorted(GRADE_NAMES.items()),
        "schools": School.objects.filter(pk__in=_pairs(request).values("school_id")).order_by("id"),
        "propose_form": form,
        "can_manage": form is not None,
        "has_drafts": any(p.status == PairStatus.DRAFT for p in page.object_list),
    }
    template = "pairing/_pairs.html" if is_partial(request) else "pairing/list.html"
    return render(request, template, ctx, status=status)


def _export(request: HttpRequest, qs: QuerySet[Pair]) -> HttpResponse:
    """The filtered list (every page) as Excel: who is paired with whom, why, who follows."""
    today = timezone.localdate()
    return xlsx_download(
        request,
        filename=f"pairs-{today:%Y%m%d}.xlsx",
        what="结对名单",
        header=[
            "学校",
            "班级",
            "儿童",
            "类别",
            "结对伙伴",
            "伙伴班级",
            "状态",
            "说明",
            "跟踪教师",
            "确认日期",
            "结束日期",
            "结束原因",
        ],
        rows=(
            [
                p.school.name,
                str(p.child.school_class),
                p.child.name,
                p.child.get_category_display(),
                p.buddy.name,
                str(p.buddy.school_class),
                p.get_status_display(),
                p.explanation,
                str(p.follow_teacher) if p.follow_teacher else "",
                timezone.localdate(p.accepted_at) if p.accepted_at else None,
                timezone.localdate(p.ended_at) if p.ended_at else None,
                p.end_reason,
            ]
            for p in qs.iterator(chunk_size=500)
        ),
    )


@login_required
def pair_list(request: HttpRequest) -> HttpResponse:
    """Pairs in scope with their explanations; drafts can be accepted some or all at once."""
    return _list(request)


def _back(request: HttpRequest) -> HttpResponse:
    query = QueryDict(request.POST.get("query", "")).urlencode()
    return redirect(reverse("pairing:list") + (f"?{query}" if query else ""))


@writer_required
@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest) -> HttpResponse:
    """Propose the optimal pairs for a school or one class; saved as drafts to review. A GET
    (a bookmark, a reload) is sent to the list, where the proposal form is."""
    form = _propose_form(request, request.POST or None)
    if form is None:
        raise PermissionDenied("没有安排结对的权限")
    if request.method == "GET":
        messages.info(request, "请选择学校或班级，再点“提出结对建议”")
        return redirect(reverse("pairing:list") + "#propose")
    if not form.is_valid():
        return _list(request, propose_form=form, status=422)
    school, school_class = form.cleaned_data["target"]
    try:
        proposal = propose_pairs(
            school=school, school_class=school_class, by=request.user, dry_run=False
        )
    except PairingError as exc:
        messages.error(request, str(exc))
        return redirect("pairing:list")
    unpaired = list(Child.objects.filter(pk__in=proposal.unpaired).values_list("name", flat=True))
    text = f"已为{school_class or school.name}提出 {len(proposal.pairs)} 对结对建议（草稿），请逐对查看后确认"
    if unpaired:
        text += f"；未能结对 {len(unpaired)} 人：{'、'.join(unpaired[:20])}"
        text += "（没有出生日期、年龄相差超过两岁或找不到同学时无法结对，可在结对详情中手工更换）"
    messages.success(request, text)
    query = {"status": "draft", "school": school.code}
    if school_class is not None:
        query |= {"grade": school_class.grade, "class_no": school_class.class_no}
    q = QueryDict(mutable=True)
    q.update(query)
    return redirect(reverse("pairing:list") + "?" + q.urlencode())


@writer_required
@require_POST
def accept(request: HttpRequest) -> HttpResponse:
    """Accept the ticked drafts, or (`all=1`) every draft the list's filters show that the
    user may change."""
    if not may_manage_pairs(request.user):
        raise PermissionDenied("没有管理结对的权限")
    drafts = _pairs(request).filter(status=PairStatus.DRAFT)
    changeable = Child.objects.visible_to(request.user, "change")
    if request.POST.get("all") == "1":
        query = QueryDict(request.POST.get("query", ""))
        chosen = list(_filter(drafts, request, query).filter(child__in=changeable))
    else:
        raw = request.POST.getlist("pair")
        if not raw or not all(v.isdigit() for v in raw):
            messages.error(request, "请先勾选要确认的结对")
            return _back(request)
        ids = {int(v) for v in raw}
        chosen = list(_pairs(request).filter(pk__in=ids))
        if len(chosen) != len(ids):
            raise Http404("未找到")
        if len(chosen) != changeable.filter(pk__in=[p.child_id for p in chosen]).count():
            raise PermissionDenied("没有管理这些结对的权限")
    if not chosen:
        messages.error(request, "没有可以确认的结对草稿")
        return _back(request)
    try:
        accepted = accept_pairs(pairs=chosen, by=request.user)
    except PairingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _accepted_message(accepted))
    return _back(request)


def _accepted_message(accepted: list[Pair]) -> str:
    """What accepting did; the following teacher is promised only for the pairs that have one."""
    text = f"已确认 {len(accepted)} 对结对"
    followed = sum(1 for p in accepted if p.follow_teacher_id)
    unfollowed = len(accepted) - followed
    if not unfollowed:
        return f"{text}，跟踪教师会在名单中看到这些孩子"
    hint = "可在结对详情中指定跟踪教师"
    if not followed:
        return f"{text}；还没有跟踪教师，{hint}"
    return f"{text}；其中 {followed} 对的跟踪教师会在名单中看到这些孩子，另 {unfollowed} 对还没有跟踪教师，{hint}"


def _history(pair: Pair, user: User) -> list[dict]:
    """Who was paired with whom and when: the pair's historical rows, oldest first. A former
    buddy outside the reader's scope (moved to another school, say) is not named."""
    rows = list(pair.history.select_related("history_user").order_by("history_date", "history_id"))
    ids = {r.buddy_id for r in rows}
    names = dict(Child.objects.visible_to(user).filter(pk__in=ids).values_list("pk", "name"))
    # the reasons were written with names ("更换结对伙伴：刘一 → 陈二"): blank the hidden ones
    hidden = Child.objects.filter(pk__in=ids - set(names)).values_list("name", flat=True)

    def reason(text: str) -> str:
        for name in hidden:
            text = text.replace(name, "（不在您的查看范围内）")
        return text

    teacher_ids = {r.follow_teacher_id for r in rows if r.follow_teacher_id}
    teachers = {u.pk: str(u) for u in User.objects.filter(pk__in=teacher_ids)}
    return [
        {
            "at": r.history_date,
            "by": str(r.history_user) if r.history_user else "系统",
            "reason": reason(r.history_change_reason or ""),
            "status": PairStatus(r.status).label,
            "buddy": names.get(r.buddy_id, "（不在您的查看范围内）"),
            "teacher": teachers.get(r.follow_teacher_id, "—"),
        }
        for r in rows
    ]


def _detail(request: HttpRequest, pair: Pair, *, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    can_manage = (
        pair.status != PairStatus.ENDED
        and may_manage_pairs(user)
        and Child.objects.visible_to(user, "change").filter(pk=pair.child_id).exists()
    )
    visible = set(
        Child.objects.visible_to(user)
        .filter(pk__in=[pair.child_id, pair.buddy_id])
        .values_list("pk", flat=True)
    )
    q = request.GET.get("q", "").strip()
    options = []
    if can_manage:
        candidates = Child.objects.visible_to(user)
        if q:
            candidates = search_children(request, candidates, q)
        options = swap_options(pair, candidates)
    ctx = {
        "pair": pair,
        "can_manage": can_manage,
        "child_visible": pair.child_id in visible,
        "buddy_visible": pair.buddy_id in visible,
        "options": options,
        "q": q,
        "history": _history(pair, user),
        "end_form": forms.get("end_form") or EndForm(),
        "swap_form": forms.get("swap_form") or SwapForm(),
        "follow_form": forms.get("follow_form")
        or (
            FollowForm(staff=school_staff(pair.school), initial={"teacher": pair.follow_teacher_id})
            if can_manage
            else None
        ),
    }
    return render(request, "pairing/detail.html", ctx, status=status)


def _pair(request: HttpRequest, pk: int) -> Pair:
    return get_object_or_404(
        _pairs(request).select_related(
            "school", "child__school_class", "buddy__school_class", "follow_teacher"
        ),
        pk=pk,
    )


@login_required
def pair_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One pair: both children (homes and coordinates), the explanation, swap options with their
    cost change, the following teacher and the history."""
    return _detail(request, _pair(request, pk))


@writer_required
@require_POST
def swap(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the pair another buddy (a child in the user's scope)."""
    pair = _pair(request, pk)
    check_manage_pair(request.user, pair)
    form = SwapForm(request.POST)
    if not form.is_valid():
        return _detail(request, pair, swap_form=form, status=422)
    buddy = get_object_or_404(Child.objects.visible_to(request.user), pk=form.cleaned_data["buddy"])
    old = pair.buddy.name
    try:
        change = swap_buddy(pair=pair, buddy=buddy, by=request.user)
    except PairingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, f"结对伙伴已由 {old} 换为 {buddy.name}（{compare_costs(change, than='原来')}）"
        )
    return redirect("pairing:detail", pk=pair.pk)


@writer_required
@require_POST
def end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a pair (or decline a draft) with a reason."""
    pair = _pair(request, pk)
    check_manage_pair(request.user, pair)
    form = EndForm(request.POST)
    if not form.is_valid():
        return _detail(request, pair, end_form=form, status=422)
    try:
        end_pair(pair=pair, by=request.user, reason=form.cleaned_data["reason"])
    except PairingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "结对已结束，原因已记入历史")
    return redirect("pairing:detail", pk=pair.pk)


@writer_required
@require_POST
def follow(request: HttpRequest, pk: int) -> HttpResponse:
    """Name the teacher who follows the pair's safety."""
    pair = _pair(request, pk)
    check_manage_pair(request.user, pair)
    form = FollowForm(request.POST, staff=school_staff(pair.school))
    if not form.is_valid():
        return _detail(request, pair, follow_form=form, status=422)
    try:
        set_follow_teacher(pair=pair, teacher=form.cleaned_data["teacher"], by=request.user)
    except PairingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "已更新跟踪教师")
    return redirect("pairing:detail", pk=pair.pk)
