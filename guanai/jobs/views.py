"""A job's progress: a page that polls itself with HTMX until the job is finished."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from guanai.lib.htmx import is_partial

from .models import Job


def jobs_visible_to(user):
    """Only the person who started a job sees it (its result may hold children's data)."""
    if user.is_superuser:
        return Job.objects.all()
    return Job.objects.filter(created_by=user)


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
    template = "jobs/_progress.html" if is_partial(request) else "jobs/detail.html"
    return render(request, template, {"job": job})
