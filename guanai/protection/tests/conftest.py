"""The cast of the shared conftest plus a subject teacher of HS-ZX, and small builders."""

import datetime as dt

import pytest
from django.test import Client

from guanai.accounts.models import Role
from guanai.protection.models import Incident
from guanai.testing import make_user

NOW = dt.datetime(2026, 11, 28, 16, 30)  # the day before the suite's clock


@pytest.fixture
def staff(cast):
    """Every role of the matrix: the eight of the cast and a subject teacher."""
    people = dict(cast["users"])
    people["zx_subject"] = make_user(
        "zx_subject", Role.SUBJECT_TEACHER, school=cast["schools"]["zx"], display_name="李老师"
    )
    return people


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_incident(child, by, **extra) -> Incident:
    from django.utils import timezone

    data = {
        "observed_at": timezone.make_aware(NOW),
        "source": "seen",
        "harm_kind": "physical",
        "what": "手臂上有多处淤青，说是被叔叔打的",
    }
    data.update(extra)
    return Incident.objects.create(child=child, filed_by=by, **data)
