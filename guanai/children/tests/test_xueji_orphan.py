"""The 学籍 sheet's 是否孤儿 and 是否独生子女 (issue #17): coded 1/0 or written 是/否, blank leaves
the card alone; 孤儿 is the card's 孤儿 tag and never touches the parents' 状况."""

import datetime as dt
import io
import json

from django.core.management import call_command
from django.urls import reverse

from guanai.children.models import Child
from guanai.lib import crypto
from guanai.testing import make_child, make_class

from .xueji_sheets import ident, member, student, write_sheet

BIRTH = dt.date(2017, 9, 1)


def run(path) -> dict:
    out = io.StringIO()
    try:
        call_command("import_roster", str(path), "--school", "HS-BQ", "--json", stdout=out)
    except SystemExit:
        pass
    return json.loads(out.getvalue())


def card(number: str) -> Child:
    return Child.objects.get(id_number_hash=crypto.lookup_hash(number))


def test_new_cards_read_orphan_and_only_child_coded_or_in_words(cast, tmp_path):
    n = [ident(BIRTH, s) for s in (41, 42, 43, 44, 45)]
    rows = [
        student("孤一", n[0], 是否孤儿="1", 是否独生子女="1"),
        student("孤二", n[1], 是否孤儿="是", 是否独生子女="否"),
        student("孤三", n[2], 是否孤儿=0, 是否独生子女=1),  # numeric cells
        student("孤四", n[3], 是否孤儿="否"),
        student("孤五", n[4]),
    ]
    result = run(write_sheet(tmp_path / "xj.xlsx", rows))
    assert (result["created"], result["rejected"]) == (5, 0), result
    got = [(("orphan" in card(x).tags), card(x).only_child) for x in n]
    assert got == [(True, True), (True, False), (False, True), (False, None), (False, None)]
    for x in n:
        assert all(p.status == "" for p in card(x).parents.all())  # never guessed
        assert card(x).category == "unknown"


def test_known_card_takes_the_sheets_answer_and_blank_never_clears(cast, tmp_path):
    cls = make_class(cast["schools"]["bq"], 3, 1)
    number = ident(BIRTH, 46)
    child = make_child(
        cls, name="孤六", birth=BIRTH, id_number=number, gender="female", tags="贫困"
    )
    father_status = child.parent("father").status
    rows = [
        student(
            "孤六",
            number,
            是否孤儿="是",
            是否独生子女="是",
            **member(1, name="孤父", relation="父亲"),
        )
    ]
    result = run(write_sheet(tmp_path / "a.xlsx", rows))
    assert result["updated"] == 1, result
    child = card(number)
    assert child.tags == ["poverty", "orphan"] and child.only_child is True
    assert child.parent("father").status == father_status  # 孤儿 says nothing of 状况
    result = run(write_sheet(tmp_path / "b.xlsx", [student("孤六", number)]))
    assert result["unchanged"] == 1  # blank cells leave both alone
    result = run(write_sheet(tmp_path / "c.xlsx", [student("孤六", number, 是否孤儿="0")]))
    assert result["updated"] == 1
    assert card(number).tags == ["poverty"]
    history = [c["field"] for e in child_history(card(number)) for c in e["changes"]]
    assert "tags" in history and "only_child" in history


def test_a_bad_answer_is_rejected_naming_the_column(cast, tmp_path):
    rows = [student("孤七", ident(BIRTH, 47), 是否独生子女="也许")]
    result = run(write_sheet(tmp_path / "xj.xlsx", rows))
    assert result["rejected"] == 1
    assert "是否独生子女" in json.dumps(result, ensure_ascii=False)


def test_the_card_says_it_in_plain_chinese(client, cast, tmp_path):
    number = ident(BIRTH, 48)
    run(
        write_sheet(tmp_path / "xj.xlsx", [student("孤八", number, 是否孤儿="1", 是否独生子女="1")])
    )
    client.force_login(cast["users"]["bq_leader"])
    page = client.get(reverse("children:detail", args=[card(number).pk])).content.decode()
    assert '<dd id="only-child">是</dd>' in page and '<dd id="orphan">是</dd>' in page


def child_history(child):
    from guanai.children.services import child_history as history

    return history(child)
