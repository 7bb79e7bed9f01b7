"""The auditor of the cast's town (审计员: reads the town's access log and nothing else)."""

import pytest
from django.conf import settings as django_settings

from guanai.accounts.models import Role
from guanai.testing import make_user
from guanai.tests.conftest import records  # noqa: F401 — one record of each kind, for paths

MIDDLEWARE = "guanai.accounts.middleware.AuditorOnlyMiddleware"


@pytest.fixture
def auditor(cast):
    return make_user("auditor", Role.AUDITOR, town=cast["town_obj"], display_name="孙审计")


@pytest.fixture
def auditor_lock(settings):
    """The auditor-only middleware, in place as in settings.MIDDLEWARE (after authentication)."""
    if MIDDLEWARE not in django_settings.MIDDLEWARE:
        stack = list(settings.MIDDLEWARE)
        stack.insert(
            stack.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1, MIDDLEWARE
        )
        settings.MIDDLEWARE = stack
