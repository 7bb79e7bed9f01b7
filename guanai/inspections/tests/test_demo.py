"""The demo inspection of 板桥小学, loaded over the cast (the demo loader calls the same)."""

from guanai.inspections import demo, findings, services
from guanai.inspections.models import Inspection, ItemStatus


def test_demo_adds_one_inspection_in_progress_with_findings_and_two_open_items(bq):
    assert demo.load()["inspections"] == 1
    insp = Inspection.objects.get()
    assert insp.school.code == "HS-BQ" and insp.status == "in_progress"
    assert insp.findings.count() == 3
    assert insp.rectifications.filter(status=ItemStatus.OPEN).count() == 2
    acc = findings.accuracy(insp)
    assert acc["checked"] == 18 and acc["wrong"] == 2
    assert services.reproduced(insp)
    assert {str(u) for u in insp.inspectors.all()} == {"督导员", "镇管理员"}
    assert insp.meeting_attendees and insp.meeting_points
    assert demo.load()["inspections"] == 0  # once
