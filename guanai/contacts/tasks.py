"""Background job handlers of the contacts app (imported by ContactsConfig.ready)."""

from typing import Any

from guanai.jobs.models import Job
from guanai.jobs.services import Progress, register, warm_up_at_start

from .letters_pdf import build_batch_pdf, warm_up
from .messaging import send_pending
from .models import LetterBatch, Message

warm_up_at_start(warm_up)


@register("letters_pdf")
def run_letters_pdf(job: Job, progress: Progress) -> dict[str, Any]:
    """Render a batch of letters class by class and join them into one PDF."""
    batch = LetterBatch.objects.get(pk=job.params["batch"])
    path = build_batch_pdf(batch, progress)
    return {
        "batch": batch.pk,
        "file": path.name,
        "letters": batch.letters.count(),
        "link": f"/contacts/letters/batches/{batch.pk}/",
        "link_label": "下载 PDF 并登记回执",
    }


@register("send_message")
def run_send_message(job: Job, progress: Progress) -> dict[str, Any]:
    """Send a message's queued outbox rows through its gateway."""
    message = Message.objects.select_related("created_by").get(pk=job.params["message"])
    return send_pending(message, progress)
