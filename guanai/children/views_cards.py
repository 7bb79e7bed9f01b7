"""A whole school's printable cards (一人一卡) as a background job: the page that starts it, the
job's page (progress class by class, then the download) and the download itself — for its
owner only, while the school is still hers to print, logged. A class prints in the request
(views.cards_print)."""

from urllib.parse import quote, urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from guanai.accounts import scope
from guanai.accounts.models import AccessAction
from guanai.accounts.permissions import writer_required
from guanai.accounts.services import log_access
from guanai.jobs.models import Job, JobStatus
from guanai.jobs.services import start_job
from guanai.lib import crypto
from guanai.org.models import School

from . import tasks  # noqa: F401 — registers the job's handler (also for the worker's checks)
from .cards_pdf import (
    CARDS_KEEP_HOURS,
    SCHOOL_CARDS_KIND,
    cards_path,
    kept_until,
    print_detail,
    school_classes,
    school_title,
)
from .models import Child

SCHOOL_ONLY = "全校档卡由校领导和镇管理员打印；班主任请按班打印"


def _printable_school(request: HttpRequest, code: str) -> School:
    """A school in the user's view (else 404) that she prints for as a whole (else 403)."""
    if not code.strip():
        raise Http404("请选择学校")
    school = get_object_or_404(scope.schools(request.user, "view"), code=code.strip())
    if not scope.holds(request.user, "print", town_id=school.town_id, school_id=school.pk):
        raise PermissionDenied(SCHOOL_ONLY)
    return school


@writer_required
@require_http_methods(["GET", "POST"])
def school_cards(request: HttpRequest) -> HttpResponse:
    """How many cards the school's PDF will hold, and the button that starts it; POST queues
    the job and shows its page."""
    school = _printable_school(request, request.GET.get("school", ""))
    visible = Child.objects.visible_to(request.user, action="view")
    classes = school_classes(visible, school)
    if not classes:
        messages.info(request, f"{school.name} 没有在读学生，没有可打印的档卡")
        return redirect("children:list")
    if request.method == "POST":
        job = start_job(
            kind=SCHOOL_CARDS_KIND, params={"school": school.pk}, by=request.user, school=school
        )
        return redirect("children:cards_job", pk=job.pk)
    recent = _jobs(request).filter(school=school).order_by("-id")[:3]
    ctx = {
        "school": school,
        "classes": len(classes),
        "cards": sum(n for _class, n in classes),
        "recent": recent,
        "keep_hours": CARDS_KEEP_HOURS,
    }
    return render(request, "children/cards_school.html", ctx)


def school_url(school: School) -> str:
    return f"{reverse('children:cards_school')}?{urlencode({'school': school.code})}"


def _jobs(request: HttpRequest):
    """The user's own school-card jobs (only the one who started a print sees it)."""
    return Job.objects.filter(kind=SCHOOL_CARDS_KIND, created_by=request.user).select_related(
        "school"
    )


def _own_job(request: HttpRequest, pk: int) -> Job:
    """The user's own job, of a school she still prints for: else 404."""
    job = get_object_or_404(_jobs(request), pk=pk)
    school = job.school
    if school is None or not scope.holds(
        request.user, "print", town_id=school.town_id, school_id=school.pk
    ):
        raise Http404("没有找到这项打印任务")
    return job


@writer_required
def cards_job(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's page: progress class by class, then the download button."""
    job = _own_job(request, pk)
    until = kept_until(job.finished_at) if job.status == JobStatus.SUCCEEDED else None
    ctx = {
        "job": job,
        "title": school_title(job.school),
        "kept_until": until,
        "expired": until is not None and until < timezone.now(),
        "keep_hours": CARDS_KEEP_HOURS,
    }
    return render(request, "children/cards_job.html", ctx)


@writer_required
def cards_job_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the school's PDF: personal data leaving the system, so the access log records
    it (as an inline print is)."""
    job = _own_job(request, pk)
    path = cards_path(job.pk)
    until = kept_until(job.finished_at)
    if job.status == JobStatus.FAILED:
        messages.warning(request, "这次生成没有成功，请重新生成")
        return redirect(school_url(job.school))
    if job.status != JobStatus.SUCCEEDED or not job.result:
        messages.info(request, "档卡还在生成，请稍候")
        return redirect("children:cards_job", pk=job.pk)
    if not path.exists() or (until is not None and until < timezone.now()):
        messages.warning(
            request, f"这份档卡已超过 {CARDS_KEEP_HOURS} 小时保留期并已删除，请重新生成"
        )
        return redirect(school_url(job.school))
    result = job.result
    log_access(
        request=request,
        user=request.user,
        action=AccessAction.EXPORT,
        school=job.school,
        detail=print_detail(result["pages"], result["title"], full=result["full_ids"]),
    )
    name = quote(f"{result['title']}.pdf")
    return HttpResponse(
        crypto.decrypt_bytes(path.read_bytes()),
        content_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )
