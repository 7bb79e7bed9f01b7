"""The family rule behind one letter per family: who shares a guardian (pure, no database)."""

from guanai.contacts.families import FamilyFacts, family_key, group_families, stored_family_key


def facts(phone="", name="", address="", village="虎山村", group="1组") -> FamilyFacts:
    return FamilyFacts(
        phone=phone, guardian_name=name, village=village, group=group, address=address
    )


def names(families):
    return [members for _key, members in families]


def test_twins_in_one_class_share_a_letter_whatever_way_the_phone_was_typed():
    families = group_families(
        [
            ("张大", facts("13912345678", "张奶奶")),
            ("李四", facts("13800000001", "李爷爷")),
            ("张二", facts("+86 139-1234-5678", "奶奶")),
        ]
    )
    assert names(families) == [["张大", "张二"], ["李四"]]  # eldest first, families in order


def test_siblings_in_two_classes_are_one_family_keyed_by_phone_not_by_class():
    key = family_key(facts("139 1234 5678", "张奶奶", "虎山村1组8号"))
    assert key == family_key(facts("13912345678", "", "")) != ""


def test_without_a_phone_the_same_guardian_name_and_home_make_a_family():
    families = group_families(
        [
            ("王一", facts(name="王桂花", address="虎山村1组8号")),
            ("王二", facts(name="王 桂花", address="虎山村１组８号 ")),  # spaces, full width
        ]
    )
    assert names(families) == [["王一", "王二"]]


def test_same_guardian_name_at_another_address_is_another_family():
    families = group_families(
        [
            ("王一", facts(name="王桂花", address="虎山村1组8号")),
            ("王二", facts(name="王桂花", address="虎山村1组9号")),
            ("王三", facts(name="王桂花", address="1组8号", village="板桥村")),
        ]
    )
    assert names(families) == [["王一"], ["王二"], ["王三"]]


def test_a_child_with_no_phone_and_no_name_or_no_address_is_a_family_alone():
    families = group_families(
        [
            ("甲", facts()),
            ("乙", facts()),
            ("丙", facts(name="刘奶奶")),
            ("丁", facts(name="刘奶奶")),
        ]
    )
    assert names(families) == [["甲"], ["乙"], ["丙"], ["丁"]]
    assert {key for key, _members in families} == {""}


def test_a_phone_wins_over_name_and_home():
    # one card has the grandmother's phone, the other not: two letters rather than a guess
    families = group_families(
        [
            ("赵一", facts("13912345678", "赵奶奶", "虎山村1组8号")),
            ("赵二", facts("", "赵奶奶", "虎山村1组8号")),
        ]
    )
    assert names(families) == [["赵一"], ["赵二"]]


def test_a_mangled_phone_still_matches_on_its_digits():
    assert family_key(facts("0746-1234567 (家)")) == family_key(facts("07461234567家"))
    assert family_key(facts("无")) == ""


def test_the_stored_key_is_a_short_hash_not_the_phone(settings):
    settings.FIELD_KEY = "test-key"
    key = family_key(facts("13912345678"))
    stored = stored_family_key(key)
    assert len(stored) == 16 and "13912345678" not in stored
    assert stored == stored_family_key(family_key(facts("139-1234-5678")))
    assert stored_family_key("") == ""
