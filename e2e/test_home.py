"""Each role's home page answers "what do I do today" and fits a phone: its panels (follow-ups
and contacts due, 心理重点关注, child protection, inspections, statistics) without one
sideways scroll. Screenshots go to e2e/screenshots/ — look at them."""

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import assert_fits_phone, login

ROLES = ["town", "inspector", "zx_leader", "zx_teacher31", "zx_counselor", "proxy_wang"]


@pytest.mark.parametrize("role", ROLES)
def test_home_page_of_each_role(page: Page, live_server, cast, viewport, shoot, role):
    from guanai.care import services

    services.file_observation(
        child=cast["children"]["c31a"], by=cast["users"]["zx_teacher31"], level="high", what="x"
    )
    login(page, live_server.url, role)
    page.goto(f"{live_server.url}/")
    expect(page.locator("h1")).to_contain_text("您好")
    psych = page.locator("#psych-panel")
    if role in ("zx_leader", "zx_counselor"):
        expect(psych).to_contain_text("张三")  # 重点关注 children, for those who read psychology
    else:
        expect(psych).to_have_count(0)
    assert_fits_phone(page, viewport)
    shoot(page, role)
