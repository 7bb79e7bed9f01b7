"""guanai.db_router: reports, statistics and exports read from the replica, nothing writes to
it. The replica here is a second alias on the same test database (committed data: each test
is transactional), so a query's alias shows where the router sent it."""

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from guanai import db_router
from guanai.children.models import Child
from guanai.db_router import PIN_COOKIE, PRIMARY, REPLICA, ReplicaRouter, reading_replica
from guanai.testing import login, replica_alias

ROUTED = override_settings(
    DATABASE_ROUTERS=["guanai.db_router.ReplicaRouter"],
    MIDDLEWARE=[*settings.MIDDLEWARE, "guanai.db_router.replica_reads"],
)


@pytest.fixture
def replica(transactional_db, cast):
    """Added after the test database is set up, so the test case's guards do not cover it; a
    configured replica (GUANAI_DB_REPLICA_URL) comes back afterwards (`replica_alias`)."""
    with replica_alias({**connections[PRIMARY].settings_dict}):
        connections[REPLICA].connect()  # opened here: the test case allows only its own aliases
        yield connections[REPLICA]


def test_without_a_replica_everything_reads_the_primary(db):
    router = ReplicaRouter()
    with reading_replica():
        assert router.db_for_read(Child) == PRIMARY
    assert router.db_for_write(Child) == PRIMARY


def test_router_sends_only_marked_reads_outside_transactions_to_the_replica(replica):
    router = ReplicaRouter()
    assert router.db_for_read(Child) == PRIMARY  # not a report: the primary
    with reading_replica():
        assert router.db_for_read(Child) == REPLICA
        assert router.db_for_write(Child) == PRIMARY
        with transaction.atomic():
            assert router.db_for_read(Child) == PRIMARY  # a transaction reads what it writes
    assert router.allow_migrate(REPLICA, "children") is False
    assert router.allow_migrate(PRIMARY, "children") is None


@ROUTED
def test_statistics_page_reads_the_replica_and_writes_nothing_there(replica, cast, client):
    login(client, cast["users"]["town"])
    with (
        CaptureQueriesContext(replica) as on_replica,
        CaptureQueriesContext(connections[PRIMARY]) as on_primary,
    ):
        response = client.get("/stats/")
    assert response.status_code == 200
    assert on_replica.captured_queries
    writes = ("INSERT", "UPDATE", "DELETE")
    assert not [q for q in on_replica.captured_queries if q["sql"].lstrip().startswith(writes)]
    # the session (a write on every request) stays on the primary
    assert any("django_session" in q["sql"] for q in on_primary.captured_queries)


@ROUTED
def test_card_pages_and_the_due_list_read_the_primary(replica, cast, client):
    login(client, cast["users"]["zx_teacher31"])
    with CaptureQueriesContext(replica) as on_replica:
        assert client.get("/children/").status_code == 200
        assert client.get("/api/v1/contacts/due").status_code == 200
    assert on_replica.captured_queries == []


@ROUTED
def test_a_browser_that_just_wrote_reads_its_writes_from_the_primary(replica, cast, client):
    login(client, cast["users"]["town"])
    client.cookies[PIN_COOKIE] = str(10**11)  # as set by a write moments ago
    with CaptureQueriesContext(replica) as on_replica:
        assert client.get("/stats/").status_code == 200
    assert on_replica.captured_queries == []


def test_a_write_sets_the_pin(rf, monkeypatch):
    # no database here: with a replica configured (CI's replica stage) the GET would try it
    monkeypatch.setattr(db_router, "replica_answers", lambda: False)

    def view(request):
        from django.http import HttpResponse

        return HttpResponse("ok")

    response = db_router.replica_reads(view)(rf.post("/contacts/new/"))
    assert response.cookies[PIN_COOKIE]["max-age"] == db_router.PIN_SECONDS
    assert PIN_COOKIE not in db_router.replica_reads(view)(rf.get("/stats/")).cookies


@pytest.mark.parametrize(
    "path, replica",
    [
        ("/stats/", True),
        ("/api/v1/stats/summary", True),
        ("/contacts/coverage/", True),
        ("/children/minzheng/", True),  # the 民政 登记表 and 汇总表
        ("/villages/v/abc/register.xlsx", True),  # a village's 登记表
        ("/children/export/", True),
        ("/children/", False),  # the card list a teacher works from
        ("/contacts/due/", False),
        ("/children/12/minzheng.pdf", False),
        ("/villages/v/abc/", False),
    ],
)
def test_which_requests_read_the_replica(path, replica):
    assert db_router.wants_replica(path) is replica
