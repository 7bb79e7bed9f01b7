"""Shared pytest fixtures: one clock for the suite, and the demo roles over a small cast (not the
whole demo town)."""

import datetime as dt
import os
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine

from guanai.testing import SUITE_NOW

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright sync API + live_server

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Every test runs at SUITE_NOW unless it says otherwise with @pytest.mark.clock("…"). The clock
# ticks from there (timeouts, lockouts and the live server still see time pass) and every thread
# sees it, so the browser journeys' server runs on the same day as the test that built its data.
# Module-level dates in tests use guanai.testing.SUITE_TODAY, never the real date.


def _instant(value: str | dt.date | dt.datetime) -> dt.datetime:
    """A marker's argument as an aware instant: a date is 10:00 Shanghai that day, a naive
    datetime or ISO text without a zone is Shanghai time."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(10, 0))
    return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "clock(when): run the test at this instant (date, or ISO datetime, Shanghai unless it "
        "carries a zone) instead of the suite's fixed one",
    )


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[time_machine.Traveller]:
    """The suite's one clock. No test reads the real date: each starts at SUITE_NOW, or at the
    instant of its `clock` marker; `clock.move_to(...)` / `clock.shift(...)` move it mid-test."""
    marker = request.node.get_closest_marker("clock")
    when = _instant(marker.args[0]) if marker else SUITE_NOW
    with time_machine.travel(when, tick=True) as traveller:
        yield traveller


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
