"""The demo data of activities, donations and the children's home, loaded over the cast."""

from decimal import Decimal

from guanai.activities import demo, donations, services
from guanai.activities.models import (
    Activity,
    Donation,
    HomeDuty,
    HomeVisit,
    Participant,
    PublicityItem,
)
from guanai.contacts.models import Contact


def test_demo_adds_a_camp_a_proxy_afternoon_a_donation_and_a_home_once(cast):
    out = demo.load()
    assert out["activities"] == 2 and out["homes"] == 1
    camp = Activity.objects.get(title=demo.CAMP)
    assert camp.kind == "summer_camp" and camp.summary
    first, last = services.term_range()
    assert first <= camp.starts_on <= last
    assert Participant.objects.filter(activity=camp, present__isnull=False).count() == 3
    proxy = Activity.objects.get(title=demo.PROXY)
    marked = Participant.objects.filter(activity=proxy, present=True)
    assert {p.marked_by.username for p in marked} == {"proxy_wang"}
    assert marked.count() == 2
    d = Donation.objects.get()
    assert Decimal(0) < d.balance() < d.amount
    assert HomeVisit.objects.filter(home__school__code="HS-BQ").count() == out["visits"] > 0
    assert Contact.objects.filter(kind="family_call").count() == out["calls"]
    assert d.stories and donations.story_problems(d, d.stories) == ""
    assert PublicityItem.objects.filter(activity=camp, channel="wechat").count() == 1
    assert HomeDuty.objects.filter(home__school__code="HS-BQ").exists()
    visit = HomeVisit.objects.filter(home__school__code="HS-BQ").first()
    assert visit.on_duty is not None  # every weekday of the month had someone on duty
    assert demo.load()["activities"] == 0
    assert Activity.objects.count() == 2
