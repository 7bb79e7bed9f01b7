"""Printable cards (一人一卡): one A4 page per child, a class or a whole school at a time, as PDF with the CJK
font embedded. The card shows what its printer may read: the full ID number only to those
who read it in full (the print is logged), health and psychology only to their readers
(children.access.hidden_sections), never to anyone else."""

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from guanai.lib.masking import mask_id_beside_birth_date

from .access import FULL, HEALTH_FIELDS, PSYCH_FIELDS, card_access, hidden_sections
from .models import Child


def _page(child: Child, user, *, full_ids: bool) -> dict:
    hidden = hidden_sections(user, child)
    if full_ids and child.id_number_enc:
        id_number = child.id_number
    else:
        id_number = mask_id_beside_birth_date(child.id_number_masked or "")
    return {
        "child": child,
        "id_number": id_number,
        "father": child.parent("father"),
        "mother": child.parent("mother"),
        "guardian": getattr(child, "guardian", None),
        "shows_health": not hidden & HEALTH_FIELDS,
        "shows_psych": not hidden & PSYCH_FIELDS,
    }


def school_cards(children: QuerySet, school) -> list[Child]:
    """A school's enrolled children of `children` (already in the printer's scope), grouped
    by class in order (grade, class number), by name within a class: the pages of the
    school's one PDF."""
    return list(
        children.filter(school=school, enrolment="enrolled")
        .select_related("school", "school_class", "guardian", "responsible_teacher")
        .prefetch_related("parents")
        .order_by("school_class__grade", "school_class__class_no", "name", "pk")
    )


def cards_pdf(children: list[Child], *, user, title: str) -> bytes:
    """The cards of `children` (a school, one class, or one child) as one PDF, in their
    order."""
    from weasyprint import HTML

    from guanai.lib.pdf import font_url

    full_ids = card_access(user) == FULL
    html = render_to_string(
        "children/cards_pdf.html",
        {
            "pages": [_page(c, user, full_ids=full_ids) for c in children],
            "title": title,
            "by": str(user),
            "now": timezone.localtime(),
            "font_url": font_url(),
        },
    )
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
