"""A role's period on the user page is in order and plausible (lib.dates.range_errors)."""

import pytest
from django.urls import reverse

MISTYPED = {"valid_from": "3626-09-14", "valid_to": "2026-12-04"}


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (MISTYPED, "起始日期不能晚于 2028-11-29"),
        ({"valid_from": "1999-09-01"}, "起始日期不能早于 2000-01-01"),
        ({"valid_from": "2026-09-01", "valid_to": "2026-08-31"}, "截止日期不能早于起始日期"),
    ],
)
def test_a_role_with_a_bad_period_is_refused(client, cast, period, message):
    client.force_login(cast["users"]["town"])
    teacher = cast["users"]["zx_teacher31"]
    before = teacher.role_assignments.count()
    response = client.post(
        reverse("accounts:role_add", args=[teacher.pk]),
        {"role": "class_teacher", "school_class": cast["classes"]["c32"].pk, **period},
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert teacher.role_assignments.count() == before
