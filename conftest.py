"""Shared pytest fixtures: the demo roles over a small cast (not the whole demo town)."""

import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright sync API + live_server


@pytest.fixture(autouse=True)
def _fast_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.AXES_ENABLED = True
    settings.MEDIA_ROOT = tmp_path / "uploads"


@pytest.fixture
def cast(db):
    from guanai.testing import make_cast

    return make_cast()


@pytest.fixture
def users(cast):
    return cast["users"]


@pytest.fixture
def kids(cast):
    return cast["children"]
