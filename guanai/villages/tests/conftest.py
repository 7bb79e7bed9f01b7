"""Villages for the cast: 枫树村 across two schools, a 古田村 child, and 枫树村 in another town."""

import datetime as dt
import io

import pytest
from PIL import Image

from guanai.accounts.models import Role
from guanai.children.models import Child
from guanai.testing import make_child, make_class, make_school, make_town, make_user


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(out, "PNG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def village(cast, users, kids):
    """c31a and c31b (中心小学) and bq31a (板桥小学) live in 枫树村 — spelled 枫树村, 枫树 and
    ' 枫树村 '; c41a (not left-behind) in 枫树 too; gt in 古田村; a 枫树村 child of another town."""
    homes = {
        "c31a": "枫树村",
        "c31b": "枫树",
        "bq31a": "枫树村委会",
        "c41a": "枫树村",
        "c32a": "古田村",
        "gt": "古田村",
    }
    for name, home in homes.items():
        child = Child.objects.get(pk=kids[name].pk)
        child.village = home
        child.save()  # through the history, as a card edit would
    other_town = make_town("黄泥镇")
    far_school = make_school("HN-ZX", "黄泥镇中心小学", town=other_town)
    far = make_child(make_class(far_school, 3, 1), name="远方", village="枫树村")
    director = make_user(
        "fengshu_director",
        Role.VILLAGE_DIRECTOR,
        town=cast["town_obj"],
        village="枫树村",
        display_name="枫树村儿童主任",
    )
    far_supervisor = make_user(
        "hn_supervisor", Role.CHILD_SUPERVISOR, town=other_town, display_name="黄泥督导"
    )
    return {
        "director": director,
        "supervisor": users["child_supervisor"],
        "far_supervisor": far_supervisor,
        "far": far,
        "kids": {k: Child.objects.get(pk=c.pk) for k, c in kids.items()},
        "today": dt.date(2026, 11, 29),
    }
