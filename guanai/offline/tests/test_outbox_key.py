"""GET /api/v1/offline/outbox-key (issue #18): each user's own key for the phone's outbox —
the same for every login (unsent visits outlive a logout), never another user's, stored
encrypted; 403 for a read-only role, 401 without a login."""

import base64

import pytest

from guanai.offline.models import OutboxKey

URL = "/api/v1/offline/outbox-key"


def key_of(client, who, **params):
    client.force_login(who)
    response = client.get(URL, params)
    assert response.status_code == 200
    return response.json()


def test_each_user_gets_only_her_own_key(client, cast):
    users = cast["users"]
    teacher = key_of(client, users["zx_teacher31"])
    assert teacher["user"] == "zx_teacher31"
    assert len(base64.b64decode(teacher["key"])) == 32  # AES-256
    proxy = key_of(client, users["proxy_wang"])
    assert proxy["user"] == "proxy_wang" and proxy["key"] != teacher["key"]
    # Naming another user changes nothing: the route answers the signed-in user's key.
    again = key_of(client, users["proxy_wang"], user="zx_teacher31")
    assert again == proxy


def test_the_key_outlives_logout_and_is_stored_encrypted(client, cast):
    teacher = cast["users"]["zx_teacher31"]
    first = key_of(client, teacher)["key"]
    client.logout()
    assert key_of(client, teacher)["key"] == first  # the outbox stays readable after a login
    row = OutboxKey.objects.get(user=teacher)
    assert first not in row.key_encrypted
    assert OutboxKey.objects.count() == 1


@pytest.mark.parametrize("who", ["zx_teacher31", "proxy_wang", "zx_leader", "zx_counselor"])
def test_every_role_that_logs_contacts_gets_a_key(client, cast, who):
    assert key_of(client, cast["users"][who])["user"] == who


def test_read_only_role_is_refused(client, cast):
    client.force_login(cast["users"]["inspector"])
    response = client.get(URL)
    assert response.status_code == 403
    assert "只读" in response.json()["detail"]
    assert not OutboxKey.objects.exists()


def test_no_login_is_401(client, cast):
    response = client.get(URL)
    assert response.status_code == 401
    assert not OutboxKey.objects.exists()
