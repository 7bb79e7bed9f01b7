"""Reports, statistics and exports read from a PostgreSQL streaming replica; nothing else does.

Turned on by `GUANAI_DB_REPLICA_URL` (settings add the `replica` alias, this router and the
`replica_reads` middleware; docs/deploy.md). The rules:

* Writes always go to the primary (`default`); the replica is never migrated (a physical
  replica copies the primary's schema by itself).
* A read goes to the replica only inside a request whose path is a report, a statistic or an
  export (REPLICA_PATHS, `GUANAI_REPLICA_PATHS` to change them; any path with `/export` or
  ending in `.xlsx`), outside any transaction on the
  primary, and not within `GUANAI_REPLICA_PIN_SECONDS` (5) after the same browser wrote
  something: the pin cookie keeps read-your-writes (a teacher who just logged a visit sees it
  counted in the statistics) whichever web process answers.
* Everything else — cards, contacts, the due list a teacher works from, logins, background
  jobs, commands — reads the primary, as it does without a replica. So does the session and
  login bookkeeping within a report request (PRIMARY_APPS, PRIMARY_MODELS): a session row
  written moments ago may not have reached a lagging replica, and reading it there would log
  the user out.
* A replica that does not answer is left alone for DOWN_SECONDS (30): its report requests read
  the primary meanwhile (slower, never a failed page), and a warning is logged once.
"""

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
PRIMARY = "default"
PIN_COOKIE = "guanai_pin"
PIN_SECONDS = int(os.environ.get("GUANAI_REPLICA_PIN_SECONDS", "5"))
REPLICA_PATHS = tuple(
    p
    for p in os.environ.get(
        "GUANAI_REPLICA_PATHS",
        "/stats/,/api/v1/stats,/contacts/coverage/,/children/minzheng/",
    ).split(",")
    if p
)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Sessions, API tokens and login lockouts: written moments before they are read (a login, a
# token just issued, every request's session save): always the primary.
PRIMARY_APPS = {"sessions", "axes"}
PRIMARY_MODELS = {"accounts.apitoken"}
DOWN_SECONDS = 30
_down_until = 0.0

_replica_ok: ContextVar[bool] = ContextVar("guanai_replica_ok", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def reading_replica(on: bool = True) -> Iterator[None]:
    """Within this block, reads outside a transaction may go to the replica."""
    token = _replica_ok.set(on)
    try:
        yield
    finally:
        _replica_ok.reset(token)


def wants_replica(path: str) -> bool:
    """A report, a statistic, an export (a path with /export, a sheet downloaded as .xlsx such
    as a village's 登记表, the 民政 登记表 and 汇总表)."""
    return path.startswith(REPLICA_PATHS) or "/export" in path or path.endswith(".xlsx")


class ReplicaRouter:
    """DATABASE_ROUTERS entry (settings: only when the replica is configured)."""

    def db_for_read(self, model, **hints) -> str | None:
        if not _replica_ok.get() or not replica_configured():
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY  # a transaction reads what it writes
        if model._meta.app_label in PRIMARY_APPS or model._meta.label_lower in PRIMARY_MODELS:
            return PRIMARY
        return REPLICA

    def db_for_write(self, model, **hints) -> str:
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        if {obj1._state.db, obj2._state.db} <= {PRIMARY, REPLICA, None}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        return False if db == REPLICA else None


def replica_answers() -> bool:
    """Whether the replica can be read now: connects if need be (its OPTIONS' connect_timeout
    bounds the wait); one that failed is not tried again for DOWN_SECONDS."""
    global _down_until
    if time.monotonic() < _down_until:
        return False
    replica = connections[REPLICA]
    try:
        if replica.connection is None:  # ensure_connection(), which tests may not call
            with replica.wrap_database_errors:
                replica.connect()
    except DatabaseError as exc:
        _down_until = time.monotonic() + DOWN_SECONDS
        logger.warning("read replica unreachable, reports read the primary: %s", exc)
        return False
    return True


def replica_reads(get_response: Callable) -> Callable:
    """Middleware: mark report/statistics/export requests as replica readers, and pin a
    browser to the primary for PIN_SECONDS after it wrote (a cookie, so any web process
    honours it)."""

    def middleware(request):
        pinned_until = request.COOKIES.get(PIN_COOKIE, "")
        pinned = pinned_until.isdigit() and int(pinned_until) > time.time()
        on = (
            request.method not in WRITE_METHODS
            and not pinned
            and wants_replica(request.path_info)
            and replica_configured()
            and not connections[PRIMARY].in_atomic_block  # the router would read the primary
            and replica_answers()
        )
        with reading_replica(on):
            response = get_response(request)
        if request.method in WRITE_METHODS and response.status_code < 400:
            response.set_cookie(
                PIN_COOKIE,
                str(int(time.time()) + PIN_SECONDS),
                max_age=PIN_SECONDS,
                httponly=True,
                samesite="Lax",
            )
        return response

    return middleware
