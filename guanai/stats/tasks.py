"""The worker's statistics housekeeping: yesterday's counts per class stored (daycounts)."""

import datetime as dt
import logging

from django.utils import timezone

from guanai.jobs.services import every_hour_in_worker

from . import daycounts

logger = logging.getLogger(__name__)

CATCH_UP_DAYS = 7  # a worker that was down a few days fills them as it comes back


@every_hour_in_worker
def store_yesterdays_counts() -> None:
    """Store the counts per class of the last finished days not yet stored: each hour a
    no-op but for the first run after midnight (one query per day to see it is done)."""
    today = timezone.localdate()
    for back in range(CATCH_UP_DAYS, 0, -1):
        day = today - dt.timedelta(days=back)
        done = daycounts.fill_day(day)
        logger.debug("day counts of %s: %s classes", day, done.classes)
