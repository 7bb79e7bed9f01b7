"""The demo town's village children's director (儿童主任 of 枫树村) and the town's 儿童督导员, with
two home visits and a signed 委托监护确认书. Called once by the demo loader after the children,
users and contacts exist: `guanai.villages.demo.load(progress=progress)`. A second call adds
nothing."""

import datetime as dt
import io
from collections.abc import Callable

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from guanai.accounts.models import Role, User
from guanai.children.models import Child
from guanai.contacts.models import Contact
from guanai.lib.villages import village_names
from guanai.org.models import Town
from guanai.testing import make_user

from .models import Entrustment

VILLAGE = "枫树村"
DIRECTOR, SUPERVISOR = "fengshu_director", "town_supervisor"
# For the demo logins (guanai/org/demo.py DEMO_LOGINS).
LOGINS = [
    (DIRECTOR, "枫树村儿童主任：本村儿童，跨学校"),
    (SUPERVISOR, "乡镇儿童督导员：全镇留守儿童"),
]


def _scan() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(img)
    for y in range(120, 700, 40):
        draw.line((60, y, 540, y), fill="#999999", width=2)
    draw.rectangle((360, 640, 520, 720), outline="#cc0000", width=4)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


@transaction.atomic
def load(*, progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Add the two logins, two home visits by the director and one confirmation (once)."""
    town = Town.objects.filter(name="虎山镇").first()
    if town is None or User.objects.filter(username=DIRECTOR).exists():
        return {"users": 0, "visits": 0, "entrustments": 0}
    if progress:
        progress("村儿童主任和乡镇儿童督导员")
    director = make_user(
        DIRECTOR, Role.VILLAGE_DIRECTOR, town=town, village=VILLAGE, display_name="杨主任"
    )
    make_user(SUPERVISOR, Role.CHILD_SUPERVISOR, town=town, display_name="儿童督导员 彭老师")
    kids = list(
        Child.objects.active()
        .left_behind()
        .filter(school__town=town, village__in=village_names(VILLAGE))
        .select_related("guardian")
        .order_by("pk")[:3]
    )
    now = timezone.now()
    for i, child in enumerate(kids[:2]):
        Contact.objects.create(
            child=child,
            by=director,
            kind="home_visit",
            at=now - dt.timedelta(days=3 + 5 * i),
            with_whom="祖母",
            notes="到家看望，孩子按时上学，奶奶身体尚可；提醒注意用电和防溺水。",
            life_level="good",
        )
    signed = 0
    if kids:
        child = kids[0]
        guardian = getattr(child, "guardian", None)
        Entrustment.objects.create(
            child=child,
            guardian_name=(guardian.name if guardian and guardian.name else "监护人"),
            guardian_relation=(guardian.relation if guardian and guardian.relation else "祖母"),
            signed_on=timezone.localdate() - dt.timedelta(days=20),
            scan=ContentFile(_scan(), name="demo.jpg"),
            recorded_by=director,
        )
        signed = 1
    return {"users": 2, "visits": min(2, len(kids)), "entrustments": signed}
