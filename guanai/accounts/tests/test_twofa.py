"""TOTP second factor: enrolment, login step, token requests carry `otp`."""

import time

import pyotp
from django.urls import reverse

from guanai.accounts.models import TOTPDevice
from guanai.accounts.services import confirm_totp, start_totp_enrolment
from guanai.testing import DEMO_PASSWORD


def enrol(user) -> pyotp.TOTP:
    secret, uri = start_totp_enrolment(user=user)
    assert uri.startswith("otpauth://totp/")
    totp = pyotp.TOTP(secret)
    assert confirm_totp(user=user, code=totp.at(time.time() - 30))
    return totp


def test_secret_is_encrypted_at_rest(cast):
    secret, _uri = start_totp_enrolment(user=cast["users"]["town"])
    assert secret not in TOTPDevice.objects.get().secret_enc


def test_enrolment_page_flow(client, cast):
    client.force_login(cast["users"]["zx_leader"])
    response = client.post(reverse("accounts:twofa"), {"action": "start"})
    secret = response.context["secret"]
    bad = client.post(reverse("accounts:twofa"), {"action": "confirm", "code": "000000"})
    assert "不正确" in bad.content.decode()
    good = client.post(
        reverse("accounts:twofa"), {"action": "confirm", "code": pyotp.TOTP(secret).now()}
    )
    assert good.status_code == 302
    assert TOTPDevice.objects.get(user=cast["users"]["zx_leader"]).confirmed_at


def test_login_asks_for_code_once_enrolled(client, cast):
    totp = enrol(cast["users"]["town"])
    response = client.post(
        reverse("accounts:login"), {"username": "town", "password": DEMO_PASSWORD}
    )
    assert response["Location"] == reverse("accounts:otp")
    assert client.get(reverse("home")).status_code == 302  # not logged in yet
    wrong = client.post(reverse("accounts:otp"), {"code": "123456"})
    assert "不正确" in wrong.content.decode()
    ok = client.post(reverse("accounts:otp"), {"code": totp.now()})
    assert ok.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_code_cannot_be_replayed(client, cast):
    totp = enrol(cast["users"]["town"])
    code = totp.now()
    client.post(reverse("accounts:login"), {"username": "town", "password": DEMO_PASSWORD})
    assert client.post(reverse("accounts:otp"), {"code": code}).status_code == 302
    client.logout()
    client.post(reverse("accounts:login"), {"username": "town", "password": DEMO_PASSWORD})
    assert client.post(reverse("accounts:otp"), {"code": code}).status_code == 200


def test_five_wrong_codes_restart_login(client, cast):
    enrol(cast["users"]["town"])
    client.post(reverse("accounts:login"), {"username": "town", "password": DEMO_PASSWORD})
    for _ in range(4):
        client.post(reverse("accounts:otp"), {"code": "000000"})
    response = client.post(reverse("accounts:otp"), {"code": "000000"})
    assert response["Location"] == reverse("accounts:login")


def test_token_request_needs_otp_once_enrolled(client, cast):
    totp = enrol(cast["users"]["town"])
    body = {"username": "town", "password": DEMO_PASSWORD}
    missing = client.post("/api/v1/auth/token", body, content_type="application/json")
    assert missing.status_code == 401 and "otp" in missing.json()["detail"]
    ok = client.post(
        "/api/v1/auth/token", {**body, "otp": totp.now()}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["token"]


def test_demo_logins_have_no_second_factor(client, cast):
    response = client.post(
        "/api/v1/auth/token",
        {"username": "zx_leader", "password": DEMO_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
