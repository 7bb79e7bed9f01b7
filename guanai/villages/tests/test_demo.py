"""The demo's village children's director and 儿童督导员."""

from guanai.accounts.models import User
from guanai.children.models import Child
from guanai.villages import demo
from guanai.villages.models import Entrustment


def test_demo_adds_the_director_and_the_supervisor_once(cast, users, kids):
    Child.objects.filter(pk=kids["c31a"].pk).update(village="枫树村")
    result = demo.load()
    assert result == {"users": 2, "visits": 1, "entrustments": 1}
    director = User.objects.get(username=demo.DIRECTOR)
    assert set(Child.objects.visible_to(director).values_list("name", flat=True)) == {"张三"}
    assert Entrustment.objects.get().child_id == kids["c31a"].pk
    assert demo.load()["users"] == 0
