"""`guanai worker`: django-tasks' database worker, with a heartbeat.

The same options as `db_worker`. As it starts it marks failed the jobs that a dead worker left
running (jobs.services.reap_dead_jobs), starts its heartbeat thread (a file in the data
directory that /healthz reads, the running job's `heartbeat_at`, hourly housekeeping such as
removing old uploads) and runs the warm-ups registered with `warm_up_at_start` (the letters'
PDF fonts) in the background, so the first job after a restart does not wait for them.
`guanai serve` and `guanai demo` restart it when it dies (jobs.supervisor).
"""

import logging
import os

from django.db import DatabaseError, connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DbWorker

from guanai.jobs.services import Heartbeat, reap_dead_jobs, start_warm_ups, worker_name

logger = logging.getLogger(__name__)


class Command(DbWorker):
    help = "后台任务进程：处理导入、打印家长信、发送消息等任务（启动时在后台预热 PDF 字体）。"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        # "host:pid" unless given, so a worker that starts later can tell this one died.
        parser.set_defaults(worker_id=None)

    def handle(self, *args, **options) -> None:
        options["worker_id"] = options.get("worker_id") or worker_name()
        # With --reload the first process only watches files; its child does the work.
        if options.get("reload") and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            super().handle(*args, **options)
            return
        try:
            reap_dead_jobs()  # before taking new jobs; the heartbeat thread does it again later
        except DatabaseError as exc:
            # No database at all: one Chinese sentence from the console script
            # (lib/db_errors.py), not a traceback per thread.
            if not _reachable():
                raise
            logger.warning("could not mark the jobs of dead workers failed", exc_info=exc)
        except Exception:  # a locked database must not keep the worker from starting
            logger.warning("could not mark the jobs of dead workers failed", exc_info=True)
        heartbeat = Heartbeat().start()
        start_warm_ups()
        try:
            super().handle(*args, **options)
        finally:
            heartbeat.stop()


def _reachable() -> bool:
    """Whether the database answers at all (a locked one does; a stopped one does not)."""
    try:
        connection.ensure_connection()
    except DatabaseError:
        return False
    return True
