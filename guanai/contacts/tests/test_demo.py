"""The demo's term of contacts."""

from django.utils import timezone

from guanai.children.models import Child
from guanai.contacts.demo import load_demo_contacts
from guanai.contacts.models import Contact
from guanai.contacts.services import follow_ups_for


def test_demo_contacts_give_a_term_of_work_and_follow_ups_for_the_class_teacher(cast):
    teacher = cast["users"]["zx_teacher31"]
    Child.objects.filter(school_class=cast["classes"]["c31"]).update(responsible_teacher=teacher)
    n = load_demo_contacts(seed=1)
    assert n == Contact.objects.count() > 0
    kinds = set(Contact.objects.values_list("kind", flat=True))
    assert {"home_visit", "family_call"} <= kinds
    assert not Contact.objects.filter(at__date__gt=timezone.localdate()).exists()
    assert follow_ups_for(teacher).exists()
    # cards are dated to the start of the term, so never-contacted children are overdue
    assert not Child.objects.filter(created_at__date=timezone.localdate()).exists()


def test_demo_proxy_parent_has_met_one_child_this_week_and_is_late_for_the_other(cast, users):
    import datetime as dt

    from guanai.children.models import ChildAssignment
    from guanai.contacts.rules import due_items

    start = timezone.localdate() - dt.timedelta(days=60)
    ChildAssignment.objects.filter(kind="proxy_parent").update(valid_from=start)
    load_demo_contacts(seed=1)
    proxy = users["proxy_wang"]
    assert Contact.objects.filter(by=proxy).count() > 10  # weekly since the assignment began
    items = due_items(
        Child.objects.visible_to(proxy), as_of=timezone.localdate(), rule_codes=["proxy_contact"]
    )
    assert [(i.proxy_user_id, i.days_overdue) for i in items] == [(proxy.pk, 5)]


def test_every_demo_contact_passes_the_checks_of_a_logged_one(cast, users):
    """Calls and visits say whom they reached and what was found or said; nothing is later
    than now; a proxy parent's are of his kinds (services.clean_contact)."""
    from guanai.contacts.corrections import contact_input
    from guanai.contacts.services import clean_contact

    load_demo_contacts(seed=1)
    for contact in Contact.objects.select_related("by"):
        clean_contact(**contact_input(contact), by=contact.by)
