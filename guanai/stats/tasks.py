"""The worker's statistics housekeeping: yesterday's counts per class stored (daycounts), today's
counted again after midnight (live), and so are the coverage panels' lines (covstore), old
trend points forgotten (termstore)."""

import datetime as dt

from django.utils import timezone

from guanai.jobs.services import every_hour_in_worker

from . import covstore, daycounts, live
from .models import CountedDay, TermPoint

CATCH_UP_DAYS = 7  # a worker that was down a few days fills them as it comes back
KEEP_POINTS_DAYS = 90  # a stored trend point older than this is counted again when asked


@every_hour_in_worker
def store_yesterdays_counts() -> None:
    """Store the counts per class of the latest finished day not yet stored among the last
    CATCH_UP_DAYS: yesterday after midnight, then one older day an hour. One day a round: a
    day of a county takes seconds, and this runs in the worker's heartbeat thread, which must
    beat again well within `jobs.services.STALE_SECONDS`."""
    today = timezone.localdate()
    days = [today - dt.timedelta(days=back) for back in range(1, CATCH_UP_DAYS + 1)]
    done = set(CountedDay.objects.filter(day__in=days).values_list("day", flat=True))
    missing = [day for day in days if day not in done]
    if missing:
        daycounts.fill_day(missing[0])


@every_hour_in_worker
def refresh_live_counts() -> None:
    """Count again every class whose today's counts (live.py) were counted on another day:
    after midnight the whole county, so the first leader of the morning reads stored rows;
    later in the day, nothing (writes clear their class, and the next reader counts it)."""
    live.refresh()


@every_hour_in_worker
def refresh_coverage_lines() -> None:
    """Count every class whose coverage line (covstore.py) is out of date under a leader's
    rules: after midnight the whole county, so that the first town dashboard of the morning
    sums stored lines; later in the day, the classes written since."""
    covstore.refresh()


@every_hour_in_worker
def forget_old_term_points() -> None:
    """Delete the trend points stored more than KEEP_POINTS_DAYS ago (termstore.py): one is
    stored per user, filters and past date looked at, so they would pile up; a forgotten one
    is counted again by the next request that wants it."""
    since = timezone.now() - dt.timedelta(days=KEEP_POINTS_DAYS)
    TermPoint.objects.filter(created_at__lt=since).delete()
