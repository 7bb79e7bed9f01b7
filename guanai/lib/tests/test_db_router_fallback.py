"""guanai.db_router: what stays on the primary within a report request, and a replica that
does not answer (issue #19). Runs on SQLite and PostgreSQL alike; the same behaviour against a
real streaming replica: real_replica.py."""

import logging

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from guanai import db_router
from guanai.accounts.models import ApiToken
from guanai.children.models import Child
from guanai.db_router import PRIMARY, REPLICA, ReplicaRouter, reading_replica
from guanai.testing import login, replica_alias

ROUTED = override_settings(
    DATABASE_ROUTERS=["guanai.db_router.ReplicaRouter"],
    MIDDLEWARE=[*settings.MIDDLEWARE, "guanai.db_router.replica_reads"],
)


@pytest.fixture
def unreachable(transactional_db, cast, tmp_path):
    """A `replica` alias whose database cannot be opened (as a stopped standby)."""
    broken = {**connections[PRIMARY].settings_dict}
    if broken["ENGINE"].endswith("sqlite3"):
        broken["NAME"] = str(tmp_path / "no such dir" / "replica.sqlite3")
    else:
        broken.update(HOST="127.0.0.1", PORT="1", OPTIONS={"connect_timeout": 3})
    db_router._down_until = 0.0
    with replica_alias(broken):
        yield
    db_router._down_until = 0.0


@pytest.fixture
def mirror(transactional_db):
    with replica_alias({**connections[PRIMARY].settings_dict}):
        yield


def test_sessions_and_tokens_are_read_from_the_primary_in_a_report_request(mirror):
    """A session or a token written a moment ago may not have reached a lagging replica:
    reading it there would log the user out of the statistics page."""
    router = ReplicaRouter()
    with reading_replica():
        assert router.db_for_read(Session) == PRIMARY
        assert router.db_for_read(ApiToken) == PRIMARY
        assert router.db_for_read(Child) == REPLICA


@ROUTED
def test_statistics_read_the_primary_while_the_replica_does_not_answer(
    unreachable, cast, client, caplog
):
    login(client, cast["users"]["town"])
    caplog.set_level(logging.WARNING, logger="guanai.db_router")
    with CaptureQueriesContext(connections[PRIMARY]) as on_primary:
        first = client.get("/api/v1/stats/summary")
        again = client.get("/stats/")
    assert first.status_code == 200
    assert first.json()["children"] == 6
    assert again.status_code == 200
    assert any("children_child" in q["sql"] for q in on_primary.captured_queries)
    # one warning, then the replica is left alone for a while instead of tried per request
    assert caplog.text.count("read replica unreachable") == 1
