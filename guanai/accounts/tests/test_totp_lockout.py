"""Wrong TOTP codes are counted per user and address: five within 15 minutes lock the second
factor for 15 minutes, on the login page and the token endpoint alike (security issue #10)."""

import datetime as dt
import time

import pyotp
import pytest
from django.urls import reverse

from guanai.accounts.services import confirm_totp, start_totp_enrolment
from guanai.testing import DEMO_PASSWORD

LOCKED = "锁定"


@pytest.fixture
def totp(cast) -> pyotp.TOTP:
    secret, _uri = start_totp_enrolment(user=cast["users"]["town"])
    code = pyotp.TOTP(secret)
    assert confirm_totp(user=cast["users"]["town"], code=code.at(time.time() - 30))
    return code


def token(client, otp=None, ip="10.0.0.1", username="town"):
    body = {"username": username, "password": DEMO_PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/auth/token", body, content_type="application/json", REMOTE_ADDR=ip)


def page_login(client, ip="10.0.0.1"):
    response = client.post(
        reverse("accounts:login"),
        {"username": "town", "password": DEMO_PASSWORD},
        REMOTE_ADDR=ip,
    )
    assert response["Location"] == reverse("accounts:otp")


def page_code(client, code, ip="10.0.0.1"):
    return client.post(reverse("accounts:otp"), {"code": code}, REMOTE_ADDR=ip)


def test_api_refuses_even_the_right_code_after_five_wrong_ones(client, totp, clock):
    for _ in range(5):
        assert token(client, "000000").status_code == 401
    for _ in range(25):  # the 30 guesses: no more are even checked
        assert token(client, "000000").status_code == 429
    locked = token(client, totp.now())
    assert locked.status_code == 429 and LOCKED in locked.json()["detail"]
    clock.shift(dt.timedelta(minutes=14))
    assert token(client, totp.now()).status_code == 429
    clock.shift(dt.timedelta(minutes=1, seconds=1))
    assert token(client, totp.now()).status_code == 200


def test_lock_is_per_user_and_address(client, totp, cast):
    for _ in range(5):
        token(client, "000000", ip="10.0.0.9")
    assert token(client, totp.now(), ip="10.0.0.9").status_code == 429
    # the same administrator from another address, and a colleague behind the same router
    assert token(client, totp.now(), ip="10.0.0.7").status_code == 200
    assert token(client, username="zx_leader", ip="10.0.0.9").status_code == 200


def test_wrong_codes_spread_over_more_than_15_minutes_do_not_lock(client, totp, clock):
    for _ in range(4):
        token(client, "000000")
    clock.shift(dt.timedelta(minutes=16))
    assert token(client, "000000").status_code == 401
    assert token(client, totp.now()).status_code == 200


def test_right_code_clears_the_count(client, totp, clock):
    for _ in range(4):
        token(client, "000000")
    assert token(client, totp.now()).status_code == 200
    clock.shift(dt.timedelta(seconds=30))
    for _ in range(4):
        assert token(client, "000000").status_code == 401
    assert token(client, totp.now()).status_code == 200


def test_a_missing_code_is_not_a_guess(client, totp):
    for _ in range(6):
        missing = token(client)
        assert missing.status_code == 401 and "otp" in missing.json()["detail"]
    assert token(client, totp.now()).status_code == 200


def test_page_locks_after_five_wrong_codes_even_after_logging_in_again(client, totp, clock):
    page_login(client)
    for _ in range(4):
        assert page_code(client, "000000").status_code == 200
    fifth = page_code(client, "000000")
    assert fifth["Location"] == reverse("accounts:login")
    page_login(client)  # the password is still right: only the second factor is locked
    locked = page_code(client, totp.now())
    assert locked.status_code == 429 and LOCKED in locked.content.decode()
    assert client.get(reverse("home")).status_code == 302
    clock.shift(dt.timedelta(minutes=15, seconds=1))
    assert page_code(client, totp.now()).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_page_and_api_share_one_count(client, totp):
    page_login(client)
    for _ in range(3):
        page_code(client, "000000")
    for _ in range(2):
        token(client, "000000")
    assert token(client, totp.now()).status_code == 429
    assert page_code(client, totp.now()).status_code == 429
