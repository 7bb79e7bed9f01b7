from guanai.protection.alerts import open_alerts_for
from guanai.protection.demo import load_demo_protection
from guanai.protection.views import home_panel_context, open_incidents_for
from guanai.testing import make_child


def test_demo_fills_the_leaders_home_panel(cast, users):
    c31 = cast["classes"]["c31"]
    for name in ("甲", "乙", "丙"):
        make_child(c31, name=f"王{name}")
    counts = load_demo_protection()
    assert counts == {"incidents": 2, "cases": 1, "alerts": 1}
    assert open_incidents_for(users["zx_leader"]).count() == 1
    assert open_alerts_for(users["zx_leader"]).count() == 1
    panel = home_panel_context(users["zx_leader"])["protection_panel"]
    assert panel["incident_count"] == panel["case_count"] == panel["alert_count"] == 1


def test_demo_without_the_demo_users_does_nothing(db):
    assert load_demo_protection() == {"incidents": 0, "cases": 0, "alerts": 0}
