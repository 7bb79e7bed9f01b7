"""Background job handlers of the children app: a whole school's printable cards."""

from typing import Any

from guanai.jobs.models import Job
from guanai.jobs.services import Progress, every_hour_in_worker, register
from guanai.org.models import School

from .cards_pdf import SCHOOL_CARDS_KIND, build_school_cards, remove_old_cards

every_hour_in_worker(remove_old_cards)


# Rendering again only writes the same file again: a job whose worker died may be retried.
@register(SCHOOL_CARDS_KIND, retry=lambda job: None)
def run_school_cards(job: Job, progress: Progress) -> dict[str, Any]:
    """Print a school's cards class by class for the person who asked (her scope, her grants)."""
    school = School.objects.get(pk=job.params["school"])
    if job.created_by is None:
        raise PermissionError("发起人的账号已删除，不能生成档卡")
    return build_school_cards(school=school, user=job.created_by, job_id=job.pk, progress=progress)
