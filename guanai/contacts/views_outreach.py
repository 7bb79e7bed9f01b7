"""Pages for reaching many families: letters with receipt slips, and messages through a gateway.
Scope via Child.objects.visible_to(), as everywhere."""

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from guanai.accounts.models import AccessAction
from guanai.accounts.permissions import writer_required
from guanai.accounts.services import log_access
from guanai.children.validation import CardInvalid
from guanai.jobs.services import start_job
from guanai.lib.htmx import is_partial

from . import letters as L
from . import messaging as M
from .forms import MessageForm, PrintForm, ReceiptForm, TemplateForm
from .gateways import GATEWAYS, default_gateway_for, gateways_for
from .letters_pdf import letters_dir
from .models import Message
from .rules import DEFAULT_RULES


@login_required
def letters(request: HttpRequest) -> HttpResponse:
    """Letter templates and the printing runs the user may see, newest first."""
    batches = (
        L.batches_visible_to(request.user)
        .select_related("school", "school_class", "created_by", "job")
        .annotate(
            n=Count("letters"),
            returned=Count("letters", filter=Q(letters__returned_at__isnull=False)),
        )
        .order_by("-id")
    )
    page = Paginator(batches, 20).get_page(request.GET.get("page"))
    templates = L.templates_for(request.user).order_by("-built_in", "id")
    return render(
        request,
        "contacts/letters.html",
        {
            "page": page,
            "templates": templates,
            "can_print": _can_print(request),
            "placeholders": L.PLACEHOLDERS,
        },
    )


def _can_print(request: HttpRequest) -> bool:
    try:
        L.may_print(request.user)
    except Exception:  # noqa: BLE001 — PermissionDenied: the page just hides the buttons
        return False
    return True


@writer_required
@require_http_methods(["GET", "POST"])
def template_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Write a letter template (a built-in one is copied when saved)."""
    template = None
    if pk is not None:
        template = get_object_or_404(L.templates_for(request.user), pk=pk)
    L.may_print(request.user)
    initial = (
        {"title": template.title, "body": template.body, "receipt_text": template.receipt_text}
        if template
        else {}
    )
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        editable = template if template and L.may_edit_template(request.user, template) else None
        try:
            saved = L.save_template(by=request.user, template=editable, **form.cleaned_data)
        except CardInvalid as exc:
            for key, message in exc.errors.items():
                form.add_error(key if key in form.fields else None, message)
        else:
            messages.success(request, f"已保存模板“{saved.title}”")
            return redirect("contacts:letters")
    return render(
        request,
        "contacts/template_edit.html",
        {"form": form, "template": template, "placeholders": L.PLACEHOLDERS},
    )


@writer_required
@require_http_methods(["GET", "POST"])
def letters_print(request: HttpRequest) -> HttpResponse:
    """Print a letter for a class, grade or school: one letter per family with a receipt
    code; the PDF is rendered class by class in the background."""
    L.may_print(request.user)
    templates = list(L.templates_for(request.user).order_by("-built_in", "id"))
    units = L.units_for(request.user)
    initial = {"template": request.GET.get("template")} if request.GET.get("template") else {}
    form = PrintForm(request.POST or None, templates=templates, units=units, initial=initial)
    if request.method == "POST" and form.is_valid():
        school, grade, klass = L.resolve_unit(request.user, form.cleaned_data["unit"])
        template = get_object_or_404(
            L.templates_for(request.user), pk=form.cleaned_data["template"]
        )
        try:
            batch = L.create_batch(
                by=request.user,
                template=template,
                school=school,
                grade=grade,
                school_class=klass,
                left_behind_only=form.cleaned_data["left_behind_only"],
                values=form.values(),
            )
        except CardInvalid as exc:
            for key, message in exc.errors.items():
                form.add_error(key if key in form.fields else None, message)
        else:
            batch.job = start_job(
                kind="letters_pdf", params={"batch": batch.pk}, by=request.user, school=school
            )
            batch.save(update_fields=["job"])
            return redirect("contacts:batch", pk=batch.pk)
    return render(request, "contacts/print.html", {"form": form, "has_units": bool(units)})


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A printing run: progress, the PDF, and receipts per class: families returned and the
    children of the families that have not."""
    batch = get_object_or_404(
        L.batches_visible_to(request.user).select_related(
            "school", "school_class", "job", "created_by"
        ),
        pk=pk,
    )
    summary = L.receipt_summary(batch, request.user)
    ctx = {
        "batch": batch,
        "job": batch.job,
        "summary": summary,
        "total": sum(c["total"] for c in summary),
        "returned": sum(c["returned"] for c in summary),
        "form": ReceiptForm(),
        "can_record": not request.user.is_read_only,
        "can_download": L.may_download(batch, request.user),
    }
    template = "contacts/_receipts.html" if is_partial(request) else "contacts/batch.html"
    return render(request, template, ctx)


@login_required
def batch_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the letters; personal data leaving the system, so the access log records it.
    Only for users who may see every child the letters name."""
    batch = get_object_or_404(L.batches_visible_to(request.user), pk=pk)
    if not batch.pdf or not L.may_download(batch, request.user):
        raise Http404("PDF 尚未生成")
    path = letters_dir() / Path(batch.pdf).name
    if not path.exists():
        raise Http404("PDF 尚未生成")
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EXPORT,
        school=batch.school,
        detail=f"下载家长信 {batch.title} · {batch.scope_label}",
    )
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=f"{batch.title}-{batch.scope_label}.pdf",
        content_type="application/pdf",
    )


@writer_required
@require_POST
def receipt(request: HttpRequest) -> HttpResponse:
    """Record a returned slip by its code (typed, or scanned: the scanner types it and Enter);
    one slip counts for every child of the family."""
    form = ReceiptForm(request.POST)
    result = {"ok": False, "text": "请输入回执编号"}
    if form.is_valid():
        try:
            letter, new = L.record_receipt(code=form.cleaned_data["code"], by=request.user)
        except L.ReceiptError as exc:
            result = {"ok": False, "text": str(exc)}
        else:
            when = letter.returned_at.astimezone().strftime("%m-%d %H:%M")
            text = f"{letter.code} {L.family_seen_by(letter, request.user)}"
            n = len(L.children_of(letter))
            done = "：已登记回执" + (f"，{n} 名学生都记为书信联系" if n > 1 else "")
            result = {
                "ok": True,
                "new": new,
                "text": text + (done if new else f"：{when} 已登记过"),
                "batch": letter.batch_id,
            }
    if is_partial(request):
        return render(request, "contacts/_receipt_result.html", {"result": result})
    (messages.success if result["ok"] else messages.error)(request, result["text"])
    batch_id = request.POST.get("batch") or result.get("batch")
    if str(batch_id).isdigit():
        return redirect("contacts:batch", pk=int(batch_id))
    return redirect("contacts:letters")


# --- messages ---------------------------------------------------------------------------------


@login_required
def message_list(request: HttpRequest) -> HttpResponse:
    """The outbox: messages sent by the user or reaching children in her scope."""
    qs = (
        Message.objects.visible_to(request.user)
        .select_related("created_by", "job")
        .annotate(
            n=Count("recipients"),
            sent=Count("recipients", filter=Q(recipients__status="sent")),
            failed=Count("recipients", filter=Q(recipients__status="failed")),
        )
        .order_by("-id")
    )
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "contacts/messages.html", {"page": page})


@writer_required
@require_http_methods(["GET", "POST"])
def message_new(request: HttpRequest) -> HttpResponse:
    """Compose, preview the recipients (refused numbers shown), then send."""
    M.may_send(request.user)
    gateways = [(c, GATEWAYS[c].label) for c in gateways_for(request.user)]
    rules = [(r.code, r.name) for r in DEFAULT_RULES]
    initial = {
        "gateway": default_gateway_for(request.user),
        "children": request.GET.get("children", ""),
    }
    initial |= {k: request.GET[k] for k in ("unit", "rule", "category") if request.GET.get(k)}
    form = MessageForm(
        request.POST or None,
        gateways=gateways,
        units=L.units_for(request.user),
        rules=rules,
        initial=initial,
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            selection = _selection(request, d, form.child_ids())
            children = M.select_children(user=request.user, **selection)
            if request.POST.get("send") == "1":
                message = M.create_message(
                    by=request.user,
                    text=d["text"],
                    gateway=d["gateway"],
                    children=children,
                    selection=M.describe_selection(**selection),
                )
                messages.success(request, "消息已进入发件箱，正在后台发送")
                return redirect("contacts:message", pk=message.pk)
            preview = _preview(children, d["gateway"])
        except CardInvalid as exc:
            for key, message_text in exc.errors.items():
                form.add_error(key if key in form.fields else None, message_text)
    return render(request, "contacts/message_new.html", {"form": form, "preview": preview})


def _selection(request: HttpRequest, data: dict, child_ids: list[int]) -> dict:
    selection: dict = {
        "children": child_ids or None,
        "category": data.get("category") or None,
        "rule": data.get("rule") or None,
    }
    if data.get("unit"):
        school, grade, klass = L.resolve_unit(request.user, data["unit"])
        selection["school"] = school.code
        if grade is not None:
            selection["grade"] = grade
        if klass is not None:
            selection["class_no"] = klass.class_no
    return selection


def _preview(children, gateway: str) -> dict:
    back_end = GATEWAYS[gateway]()
    rows = []
    for child in children.select_related("guardian", "school_class").order_by(
        "school_class__grade", "school_class__class_no", "name"
    )[: M.MAX_RECIPIENTS]:
        guardian = getattr(child, "guardian", None)
        phone = guardian.phone if guardian else ""
        rows.append(
            {
                "child": child,
                "guardian": guardian.name if guardian else "",
                "phone": phone,
                "refused": back_end.check_phone(phone),
            }
        )
    return {"rows": rows, "refused": sum(1 for r in rows if r["refused"])}


@login_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Per-recipient status (排队 / 已发送 / 失败 + reason); polls itself while sending."""
    message = get_object_or_404(
        Message.objects.visible_to(request.user).select_related("created_by", "job"), pk=pk
    )
    recipients = M.recipients_for(message, request.user)
    ctx = {
        "message": message,
        "recipients": recipients,
        "counts": M.counts(message),
        "job": message.job,
        "posts": M.wechat_posts(message, request.user) if message.gateway == "wechat" else [],
        "gateway_label": GATEWAYS.get(message.gateway, GATEWAYS["console"]).label,
        "can_retry": message.created_by_id == request.user.pk and not request.user.is_read_only,
        "retryable": sum(1 for r in recipients if r.status == "failed" and r.attempts),
    }
    template = "contacts/_message_status.html" if is_partial(request) else "contacts/message.html"
    return render(request, template, ctx)


@writer_required
@require_POST
def message_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Send again the rows that failed after an attempt; sent rows are never sent twice."""
    message = get_object_or_404(
        Message.objects.visible_to(request.user).filter(created_by=request.user), pk=pk
    )
    job = M.retry_failed(message=message, by=request.user)
    if job is None:
        messages.info(request, "没有可以重发的记录（号码无效的不会重发）")
    else:
        messages.success(request, "已重新排队发送失败的记录")
    return redirect("contacts:message", pk=message.pk)
