"""guanai.db_router against a real PostgreSQL streaming replica (issue #19).

Not collected by the suite (the name does not start with test_): `.ci/run` selects it
explicitly after `bin/replica` started a throw-away primary and its hot standby:

    eval "$(bin/replica | grep ^GUANAI_REPLICA_)"
    DATABASE_URL=${GUANAI_REPLICA_PRIMARY%/postgres}/guanai_replica \\
    GUANAI_TEST_REPLICA_URL=$GUANAI_REPLICA_STANDBY \\
        .venv/bin/pytest -q guanai/lib/tests/real_replica.py

The test database is created on the primary and reaches the standby by streaming; the
`replica` alias here is the primary's settings with the standby's host and port (the same
database name). The tests commit (transactional_db), so what the primary wrote reaches the
standby only once replayed: `replayed()` waits for `pg_last_wal_replay_lsn()` on the standby to
pass the primary's `pg_current_wal_lsn()`. Without GUANAI_TEST_REPLICA_URL the module fails
loudly; the suite's own router tests (test_db_router.py, a second alias on the same
database) run everywhere.
"""

import os
import socket
import time

import dj_database_url
import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from guanai import db_router
from guanai.db_router import PIN_COOKIE, PRIMARY, REPLICA
from guanai.testing import login, make_child

STANDBY_URL = os.environ.get("GUANAI_TEST_REPLICA_URL", "")
if not STANDBY_URL:
    pytest.fail(
        "real_replica.py needs GUANAI_TEST_REPLICA_URL (the hot standby bin/replica started) "
        "and DATABASE_URL on its primary; .ci/run sets both",
        pytrace=False,
    )
if "replica" in settings.DATABASES:
    pytest.fail("run real_replica.py without GUANAI_DB_REPLICA_URL", pytrace=False)

ROUTED = override_settings(
    DATABASE_ROUTERS=["guanai.db_router.ReplicaRouter"],
    MIDDLEWARE=[*settings.MIDDLEWARE, "guanai.db_router.replica_reads"],
)
# The pages the router sends to the replica (db_router.REPLICA_PATHS and any "/export").
REPLICA_PAGES = [
    "/stats/",
    "/stats/report/",
    "/stats/report/edit/",
    "/api/v1/stats/summary",
    "/api/v1/stats/summary?school=HS-ZX&grade=3",
    "/contacts/coverage/",
    "/children/xueji/export/",
]
WRITES = ("INSERT", "UPDATE", "DELETE", "SELECT ... FOR UPDATE")


def admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, connect_timeout=5)


def replayed(timeout: float = 20.0) -> float:
    """Wait until the standby replayed everything the primary wrote so far; the seconds waited."""
    primary = connections[PRIMARY].settings_dict
    primary_url = f"postgres://{primary['USER']}@{primary['HOST']}:{primary['PORT']}/postgres"
    with admin(primary_url) as p:
        target = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    start = time.monotonic()
    with admin(STANDBY_URL) as s:
        while True:
            done = s.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [str(target)]
            ).fetchone()[0]
            if done:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise AssertionError(f"the standby did not replay up to {target} in {timeout} s")
            time.sleep(0.02)


@pytest.fixture
def standby(transactional_db, cast):
    """The `replica` alias on the standby's copy of the test database (added after the test
    database is set up, so the test case's guards do not cover it)."""
    url = dj_database_url.parse(STANDBY_URL)
    replayed()  # the test database and the cast have reached the standby
    connections.settings[REPLICA] = {
        **connections[PRIMARY].settings_dict,
        "HOST": url["HOST"],
        "PORT": url["PORT"],
        "USER": url["USER"] or connections[PRIMARY].settings_dict["USER"],
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"connect_timeout": 3},
    }
    db_router._down_until = 0.0
    try:
        connections[REPLICA].connect()
        yield connections[REPLICA]
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
        db_router._down_until = 0.0


@pytest.fixture
def paused(standby):
    """The standby stops replaying (it still receives WAL): a replica lagging for as long as
    the test wants."""
    with admin(STANDBY_URL) as s:
        s.execute("SELECT pg_wal_replay_pause()")
        try:
            yield
        finally:
            s.execute("SELECT pg_wal_replay_resume()")


def counts(client) -> dict:
    response = client.get("/api/v1/stats/summary")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_standby_is_a_read_only_copy(standby):
    with standby.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone()[0] is True
        with pytest.raises(DatabaseError, match="read-only transaction"):
            cursor.execute("UPDATE children_child SET name = name")


@ROUTED
def test_a_write_on_the_primary_reaches_the_statistics_once_replayed(standby, cast):
    client = Client()
    login(client, cast["users"]["town"])
    before = counts(client)["children"]
    make_child(cast["classes"]["c31"], name="新同学")  # committed on the primary
    replayed()
    with (
        CaptureQueriesContext(standby) as on_replica,
        CaptureQueriesContext(connections[PRIMARY]) as on_primary,
    ):
        after = counts(client)
        page = client.get("/stats/")
    assert after["children"] == before + 1
    assert page.status_code == 200
    # the page's reads of the cards (its coverage panels) go to the replica; today's counts
    # per class are kept, counted and read on the primary (stats/live.py), never from a
    # replica that may lag
    assert any("children_child" in q["sql"] for q in on_replica.captured_queries)
    assert any("stats_livecount" in q["sql"] for q in on_primary.captured_queries)
    assert not any("stats_livecount" in q["sql"] for q in on_replica.captured_queries)


@ROUTED
def test_the_writer_reads_its_write_while_the_replica_lags(standby, paused, cast):
    writer, other = Client(), Client()
    login(writer, cast["users"]["town"])
    login(other, cast["users"]["town"])
    child = cast["children"]["c31a"]  # both parents away: 双留守
    double = counts(other)["by_category"]["double"]

    response = writer.patch(
        f"/api/v1/children/{child.pk}",
        {"version": child.version, "father": {"status": "home"}},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert PIN_COOKIE in response.cookies

    with CaptureQueriesContext(standby) as on_replica:
        assert counts(writer)["by_category"]["double"] == double - 1  # pinned: the primary
    assert on_replica.captured_queries == []
    # Another browser's report request reads the replica, which has not replayed the change
    # yet; today's counts per class come from the primary all the same (stats/live.py).
    with CaptureQueriesContext(standby) as on_replica:
        assert counts(other)["by_category"]["double"] == double - 1
    assert on_replica.captured_queries

    # Logged in after the replica stopped: the session is read from the primary, so a report
    # request does not log this user out while the replica lags.
    late = Client()
    login(late, cast["users"]["zx_leader"])
    assert counts(late)["children"] == 4

    with admin(STANDBY_URL) as s:
        s.execute("SELECT pg_wal_replay_resume()")
    replayed()
    assert counts(other)["by_category"]["double"] == double - 1


@ROUTED
@pytest.mark.parametrize("role", ["town", "inspector", "zx_leader", "zx_teacher31", "bq_leader"])
def test_no_page_the_router_sends_to_the_replica_writes_there(standby, cast, role):
    """A write on the standby fails ("cannot execute … in a read-only transaction"): every
    report, statistics and export page answers as it does on the primary alone."""
    client = Client()
    login(client, cast["users"][role])
    with CaptureQueriesContext(standby) as on_replica:
        for page in REPLICA_PAGES:
            response = client.get(page)
            assert response.status_code in (200, 403, 404), (page, response.status_code)
    assert on_replica.captured_queries
    assert not [q for q in on_replica.captured_queries if q["sql"].lstrip().startswith(WRITES)]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@ROUTED
def test_a_replica_that_does_not_answer_leaves_reports_on_the_primary(standby, cast, caplog):
    standby.close()
    standby.settings_dict["PORT"] = closed_port()
    client = Client()
    login(client, cast["users"]["town"])
    assert counts(client)["children"] == 6
    assert client.get("/stats/").status_code == 200
    assert "read replica unreachable" in caplog.text
    # not tried again on every request meanwhile
    assert caplog.text.count("read replica unreachable") == 1
    assert standby.connection is None
