"""Donations (捐赠): recording a gift, handing it out to children with the balance locked, the
anonymised stories and the donor's certificate, and the fairness check (who received nothing,
who several times). Rights as in services.py: the school's managers record and hand out."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from guanai.accounts.models import User
from guanai.children.models import Child
from guanai.lib.errors import Invalid
from guanai.org.models import School

from .cleaning import clean_date, clean_money, clean_text
from .models import Allocation, Donation, DonorKind, GiftKind, plain
from .services import check_manager


def clean_donation(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {
        "donor": clean_text(values, "donor", errors, limit=100, required="请填写捐赠方"),
        "donor_contact": clean_text(values, "donor_contact", errors, limit=100),
        "notes": clean_text(values, "notes", errors, limit=2000),
        "item": clean_text(values, "item", errors, limit=100),
    }
    donor_kind = values.get("donor_kind") or DonorKind.PERSON
    if donor_kind not in DonorKind.values:
        errors["donor_kind"] = "应为 个人 或 单位"
    kind = values.get("kind")
    if kind not in GiftKind.values:
        errors["kind"] = "应为 现金 或 物品"
    elif kind == GiftKind.ITEMS and not out["item"]:
        errors.setdefault("item", "请填写捐赠的物品，如“书包”")
    out["donor_kind"], out["kind"] = donor_kind, kind
    out["amount"] = clean_money(values, "amount", errors, required="请填写金额或数量")
    if kind == GiftKind.ITEMS and out["amount"] is not None and out["amount"] % 1:
        errors["amount"] = "物品数量应为整数"
    out["received_on"] = clean_date(values, "received_on", errors, required="请填写接收日期")
    if out["received_on"] and out["received_on"] > timezone.localdate():
        errors["received_on"] = "接收日期不能晚于今天"
    if errors:
        raise Invalid(errors)
    if kind == GiftKind.MONEY:
        out["item"] = ""
    return out


@transaction.atomic
def record_donation(*, school: School, values: dict[str, Any], by: User) -> Donation:
    check_manager(by, school)
    return Donation.objects.create(school=school, recorded_by=by, **clean_donation(values))


@transaction.atomic
def allocate(*, donation: Donation, child: Child, values: dict[str, Any], by: User) -> Allocation:
    """Hand part of a donation to a child. The donation's row is locked while its balance is
    read, so two allocations at once never together exceed what was received."""
    check_manager(by, donation.school)
    locked = Donation.objects.select_for_update().get(pk=donation.pk)
    errors: dict[str, str] = {}
    if child.school_id != locked.school_id:
        errors["child"] = "只能发放给本校的儿童"
    amount = clean_money(values, "amount", errors, required="请填写发放的金额或数量")
    if locked.kind == GiftKind.ITEMS and amount is not None and amount % 1:
        errors["amount"] = "物品数量应为整数"
    handed_on = clean_date(values, "handed_on", errors, required="请填写发放日期")
    if handed_on and handed_on < locked.received_on:
        errors["handed_on"] = "发放日期不能早于接收日期"
    elif handed_on and handed_on > timezone.localdate():
        errors["handed_on"] = "发放日期不能晚于今天"
    handed_by = clean_text(values, "handed_by", errors, limit=50, required="请填写经手人")
    receipt = clean_text(values, "receipt_code", errors, limit=50)
    reason = clean_text(values, "reason", errors, limit=200)
    what = clean_text(values, "what", errors, limit=100) or locked.item
    if amount is not None and "amount" not in errors:
        left = locked.balance()
        if amount > left:
            errors["amount"] = f"超过余额：这笔捐赠还剩 {plain(left)} {locked.unit}"
    if errors:
        raise Invalid(errors)
    return Allocation.objects.create(
        donation=locked,
        child=child,
        what=what,
        amount=amount,
        handed_on=handed_on,
        handed_by=handed_by,
        receipt_code=receipt,
        reason=reason,
        recorded_by=by,
    )


# Grades and classes as people write them: 三年级, 3年级, (1)班, （2）班, 3班, 三·一班.
CLASS_WORDS = re.compile(
    r"[一二三四五六七八九十\d]+\s*年级|[(（]?\s*[一二三四五六七八九十\d]+\s*[)）]?\s*班"
)


def story_names(donation: Donation) -> list[str]:
    """The names a story about this donation must not contain: each child it went to, full
    name and, for names of three characters or more, the given name."""
    names: set[str] = set()
    for name in donation.allocations.values_list("child__name", flat=True).distinct():
        name = (name or "").strip()
        if name:
            names.add(name)
            if len(name) >= 3:
                names.add(name[1:])
    return sorted(names, key=lambda n: (-len(n), n))


def story_problems(donation: Donation, text: str) -> str:
    """Why a story cannot go on the donor's certificate ('' when it may)."""
    named = [n for n in story_names(donation) if n in text]
    if named:
        return "故事中不能出现受助儿童的姓名：" + "、".join(named)
    if CLASS_WORDS.search(text):
        return "故事中不能写年级或班级"
    return ""


@transaction.atomic
def set_stories(*, donation: Donation, stories: str, by: User) -> Donation:
    """Write the anonymised stories for the donor (the school's managers): short texts about
    what the gift did, refused when they name a child it went to or a grade or class."""
    check_manager(by, donation.school)
    errors: dict[str, str] = {}
    text = clean_text({"stories": stories}, "stories", errors, limit=2000)
    if not errors and (problem := story_problems(donation, text)):
        errors["stories"] = problem
    if errors:
        raise Invalid(errors)
    donation.stories = text
    donation.save(update_fields=["stories"])
    return donation


def certificate(donation: Donation) -> dict[str, Any]:
    """What the donor's certificate says: the gift, how much of it was handed out to how many
    children, per school and per item — counts only, no child's name or class — and the
    stories (left out, with the reason, if a child it later went to is named in them)."""
    rows = (
        donation.allocations.values("child__school__name", "what")
        .annotate(children=Count("child", distinct=True), amount=Sum("amount"), times=Count("id"))
        .order_by("child__school__name", "what")
    )
    totals = donation.allocations.aggregate(
        children=Count("child", distinct=True), amount=Sum("amount"), times=Count("id")
    )
    given = totals["amount"] or Decimal(0)
    problem = story_problems(donation, donation.stories) if donation.stories else ""
    stories = [] if problem else [p.strip() for p in donation.stories.split("\n") if p.strip()]
    return {
        "d": donation,
        "per_school": [
            {
                "school": r["child__school__name"],
                "what": r["what"] or ("现金" if donation.kind == GiftKind.MONEY else donation.item),
                "children": r["children"],
                "times": r["times"],
                "amount": plain(r["amount"]),
            }
            for r in rows
        ],
        "children": totals["children"],
        "times": totals["times"],
        "given": plain(given),
        "left": plain(donation.amount - given),
        "stories": stories,
        "stories_left_out": problem,
        "printed": timezone.localdate(),
    }


def certificate_pdf(donation: Donation) -> bytes:
    """The donor's certificate (捐赠证书 / 感谢信): one A4 page, CJK font embedded."""
    from django.conf import settings
    from django.template.loader import render_to_string
    from weasyprint import HTML

    from guanai.lib.pdf import font_url

    html = render_to_string(
        "activities/certificate_pdf.html", certificate(donation) | {"font_url": font_url()}
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def fairness(user: User, *, school: School | None = None) -> dict[str, list]:
    """Left-behind children in scope who received nothing, and those who received several
    times (with the recorded reasons), most first."""
    kids = Child.objects.visible_to(user).active().left_behind()
    if school is not None:
        kids = kids.filter(school=school)
    kids = kids.select_related("school", "school_class").annotate(n=Count("allocations"))
    order = ("school__code", "school_class__grade", "school_class__class_no", "name_pinyin")
    nothing = list(kids.filter(n=0).order_by(*order))
    several = list(kids.filter(n__gte=2).order_by("-n", *order))
    reasons: dict[int, list[str]] = defaultdict(list)
    for a in Allocation.objects.filter(child__in=several).exclude(reason=""):
        reasons[a.child_id].append(a.reason)
    for child in several:
        child.reasons = reasons.get(child.pk, [])
    return {"nothing": nothing, "several": several}
