"""The village units in the scope table: a children's director sees her village's children
across her town's schools (however the village is spelled), the town 儿童督导员 the town's
left-behind children; both read and contact, never change."""

import pytest

from guanai.accounts import scope
from guanai.children.access import MASKED, card_access
from guanai.children.models import Child
from guanai.lib.villages import normalize_village, village_key, village_label, village_names


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("枫树村", "枫树"),
        ("枫树", "枫树"),
        (" 枫树 村 ", "枫树"),
        ("枫树村委会", "枫树"),
        ("村", "村"),
        ("", ""),
    ],
)
def test_village_key_is_the_same_however_typed(typed, key):
    assert village_key(typed) == key


def test_village_names_and_label():
    assert village_names("枫树村") == ["枫树", "枫树村", "枫树村委会", "枫树村民委员会"]
    assert village_names("") == []
    assert village_label("枫树") == "枫树村"
    assert normalize_village(" 枫树村 ") == "枫树村"


def test_director_sees_her_village_across_schools_and_nothing_else(village):
    k = village["kids"]
    mine = {k["c31a"].pk, k["c31b"].pk, k["bq31a"].pk, k["c41a"].pk}
    director = village["director"]
    assert ids(Child.objects.visible_to(director)) == mine
    assert ids(Child.objects.visible_to(director, "contact")) == mine
    assert ids(Child.objects.visible_to(director, "change")) == set()
    assert village["far"].pk not in ids(Child.objects.visible_to(director))  # another town
    assert ids(Child.objects.filter(scope.my_children_q(director))) == mine
    assert scope.holds_child(director, "contact", k["bq31a"])
    assert not scope.holds_child(director, "contact", k["gt"])
    assert not scope.holds_child(director, "health", k["c31a"])


def test_supervisor_sees_the_towns_left_behind_children_only(village):
    k = village["kids"]
    left_behind = {k[n].pk for n in ("c31a", "c31b", "c32a", "bq31a", "gt")}
    sup = village["supervisor"]
    assert ids(Child.objects.visible_to(sup)) == left_behind
    assert k["c41a"].pk not in ids(Child.objects.visible_to(sup))  # parents at home
    assert ids(Child.objects.visible_to(sup, "change")) == set()
    assert ids(Child.objects.visible_to(village["far_supervisor"])) == {village["far"].pk}


def test_both_read_masked_id_numbers_and_join_the_alerts(village):
    for user in (village["director"], village["supervisor"]):
        assert card_access(user) == MASKED
        assert scope.acts_as(user, "alerts")
        assert scope.acts_as(user, "entrust")
        for action in ("change", "manage", "health", "psych", "notes", "incidents", "full_id"):
            assert not scope.acts_as(user, action), action
    assert scope.schools(village["director"]).count() == 0  # a village unit holds no school


def test_alert_children_follow_the_village(village):
    from guanai.protection.alerts import children_in_scope

    k = village["kids"]
    assert ids(children_in_scope(village["director"])) == {
        k["c31a"].pk,
        k["c31b"].pk,
        k["bq31a"].pk,
        k["c41a"].pk,
    }


def test_stats_count_the_directors_children(village):
    from guanai.stats.services import summary

    result = summary(village["director"])
    assert result["children"] == 4


def test_offline_packet_and_due_list_hold_her_village(village):
    from guanai.contacts.rules import due_items
    from guanai.offline.packet import packet_children

    k = village["kids"]
    director = village["director"]
    mine = {k["c31a"].pk, k["c31b"].pk, k["bq31a"].pk, k["c41a"].pk}
    assert ids(packet_children(director)) == mine
    due = due_items(Child.objects.visible_to(director, "contact"), as_of=village["today"])
    assert {d.child for d in due} <= mine and due


@pytest.mark.parametrize("role", ["village_director", "child_supervisor"])
def test_cast_village_roles_match_the_matrix(cast, role):
    from guanai.testing import VILLAGE_VISIBLE

    user, kids = cast["users"][role], cast["children"]
    assert ids(Child.objects.visible_to(user)) == {kids[k].pk for k in VILLAGE_VISIBLE[role]}
    assert ids(Child.objects.visible_to(user, "contact")) == ids(Child.objects.visible_to(user))
    assert ids(Child.objects.visible_to(user, "change")) == set()
