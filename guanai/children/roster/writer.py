"""The bulk insert of new cards, their parents, guardian and history rows with
`cursor.executemany` (per-row ORM objects cost 3.5x the floor, STACK.md)."""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import connection, models

from guanai.lib import crypto
from guanai.lib.masking import mask_id_number
from guanai.org.models import School, SchoolClass

from ..models import Child, Enrolment, Guardian, Parent
from .columns import REASON_CREATED, WRITE_BATCH
from .matching import CHILD_OWN, _classify, _merge_notes, _orphan_tags, _pinyin, _split
from .reading import Row

# --- bulk insert of new cards ----------------------------------------------------------------


MAX_PARAMS = 32_000  # SQLite's limit on one statement's parameters is 32,766 (3.32+)


class _Table:
    """Column list, per-column defaults and the index of each column for one model."""

    def __init__(
        self,
        model: type[models.Model],
        now: dt.datetime,
        overrides: dict[str, Any],
        *,
        first: Iterable[str] = (),
    ):
        self.model = model
        self.table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields if f.column != "history_id"]
        leading = [c for c in first if any(f.column == c for f in fields)]
        fields.sort(key=lambda f: leading.index(f.column) if f.column in leading else len(leading))
        self.columns = [f.column for f in fields]
        self.index = {c: i for i, c in enumerate(self.columns)}
        template: list[Any] = []
        for f in fields:
            if f.column in overrides:
                value = overrides[f.column]
            elif isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
                value = now
            elif f.primary_key or f.column == "id":
                value = None
            else:
                value = f.get_default()
            template.append(f.get_db_prep_save(value, connection) if value is not None else None)
        self.template = template
        # history tables: the leading columns are copied from the base row, the rest constant
        self.copy: Callable[[list[Any]], tuple] | None = None
        self.tail: tuple = ()
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        self.sql = f"INSERT INTO {connection.ops.quote_name(self.table)} ({cols}) VALUES ({marks})"
        self.marks = f"({marks})"

    def insert(self, cursor, rows: list) -> None:
        """Insert the rows. On SQLite, as multi-row INSERTs of as many rows as its parameter
        limit allows: each statement on a table with triggers (the cards, parents and
        guardians: stats/live.py) opens a statement journal and a trigger frame, so one
        statement per row cost 60 µs more per card than one per few hundred rows
        (bench/import_roster.py). PostgreSQL: executemany (psycopg pipelines it)."""
        if connection.vendor != "sqlite" or len(rows) < 2:
            cursor.executemany(self.sql, rows)
            return
        per = max(1, min(len(rows), MAX_PARAMS // len(self.columns)))
        head = self.sql[: self.sql.rindex(" VALUES ")] + " VALUES "
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            sql = head + ", ".join([self.marks] * len(chunk))
            cursor.execute(sql, [v for row in chunk for v in row])

    def row(self, values: dict[str, Any]) -> list[Any]:
        out = self.template[:]
        index = self.index
        for key, value in values.items():
            out[index[key]] = value
        return out


def _history_table(model: type[models.Model], base: _Table, now, reason, user_id) -> _Table:
    hist = model.history.model  # type: ignore[attr-defined]
    overrides = {
        "history_date": now,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user_id,
    }
    table = _Table(hist, now, overrides, first=base.columns)
    shared = [c for c in table.columns if c in base.index]
    table.copy = itemgetter(*(base.index[c] for c in shared))
    table.tail = tuple(table.template[len(shared) :])
    return table


def _history_rows(hist: _Table, rows: Iterable[list[Any]]) -> list[tuple]:
    copy, tail = hist.copy, hist.tail
    assert copy is not None
    return [copy(base) + tail for base in rows]


def _reserve_ids(table: str, count: int) -> list[int]:
    """Primary keys for `count` rows about to be inserted, inside the write transaction."""
    if count == 0:
        return []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [r[0] for r in cursor.fetchall()]
        if connection.vendor == "sqlite":
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quoted}")
            top = cursor.fetchone()[0]
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")
            if cursor.fetchone():
                cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                seq = cursor.fetchone()
                top = max(top, seq[0] if seq else 0)
            return list(range(top + 1, top + 1 + count))
    raise NotImplementedError(f"roster import does not support {connection.vendor}")


@dataclass
class _NewCard:
    child: list[Any]  # a children_child row, id not yet set
    parents: list[list[Any]]
    guardian: list[Any] | None


class _Writer:
    """Builds the rows of new cards during the preview and inserts them in the write."""

    def __init__(self, *, school: School, by, now: dt.datetime, today: dt.date):
        user_id = getattr(by, "pk", None)
        ops = connection.ops
        self.date = ops.adapt_datefield_value
        self.today = today
        self.rules = (settings.GUANAI_AWAY_MONTHS, settings.GUANAI_CIVIL_AFFAIRS_AGE)
        self.child = _Table(
            Child,
            now,
            {
                "school_id": school.pk,
                "classified_on": ops.adapt_datefield_value(today),
                "enrolment": Enrolment.ENROLLED,
                "version": 1,
            },
        )
        self.parent = _Table(Parent, now, {"effective_from": ops.adapt_datefield_value(today)})
        self.guardian = _Table(Guardian, now, {"effective_from": ops.adapt_datefield_value(today)})
        self.h_child = _history_table(Child, self.child, now, REASON_CREATED, user_id)
        self.h_parent = _history_table(Parent, self.parent, now, REASON_CREATED, user_id)
        self.h_guardian = _history_table(Guardian, self.guardian, now, REASON_CREATED, user_id)
        self.cards: list[_NewCard] = []
        self.class_col = self.child.index["school_class_id"]
        self.pending_class: list[tuple[_NewCard, tuple[int, int]]] = []

    def add(self, row: Row, class_key: tuple[int, int]) -> None:
        own, nested = _split(row)
        values: dict[str, Any] = {k: own[k] for k in CHILD_OWN if k in own}
        if own.get("orphan"):  # a raw insert: the JSON column takes its database form
            tags = Child._meta.get_field("tags")
            values["tags"] = tags.get_db_prep_save(_orphan_tags([], True), connection)
        values["notes"] = _merge_notes(row.notes, row.extras)
        if "health" in values:  # encrypted at rest (lib/fields.EncryptedText): a raw write
            values["health"] = crypto.encrypt_text(values["health"])
        if "birth_date" in values:
            values["birth_date"] = self.date(values["birth_date"])
        number = row.id_number
        if number:
            values["id_number_enc"] = crypto.encrypt(number)
            values["id_number_hash"] = row.id_hash
            values["id_number_masked"] = mask_id_number(number)
            values["id_last4"] = number[-4:]
        if row.student_no:
            values["student_no_enc"] = crypto.encrypt(row.student_no)
            values["student_no_hash"] = row.student_hash
            values["student_no_masked"] = mask_id_number(row.student_no)
        values["name_pinyin"] = _pinyin(own.get("name", ""))
        result = _classify(
            father=nested["father"],
            mother=nested["mother"],
            child=own,
            on=self.today,
            rules=self.rules,
        )
        values["category"] = result.category
        values["category_reason"] = result.reason
        values["civil_affairs"] = result.civil_affairs
        values["civil_affairs_reason"] = result.civil_reason
        parents = []
        for relation in ("father", "mother"):
            if nested[relation]:
                facts = {"relation": relation, **nested[relation]}
                if "phone" in facts:
                    facts["phone"] = crypto.encrypt_text(facts["phone"])
                if row.person_ids and relation in row.person_ids:
                    facts["id_number_enc"] = crypto.encrypt(row.person_ids[relation])
                if facts.get("away_since"):
                    facts["away_since"] = self.date(facts["away_since"])
                parents.append(self.parent.row(facts))
        if nested["guardian"] and row.person_ids and "guardian" in row.person_ids:
            nested["guardian"]["id_number_enc"] = crypto.encrypt(row.person_ids["guardian"])
        for key in ("phone", "health"):
            if key in nested["guardian"]:
                nested["guardian"][key] = crypto.encrypt_text(nested["guardian"][key])
        guardian = self.guardian.row(nested["guardian"]) if nested["guardian"] else None
        card = _NewCard(self.child.row(values), parents, guardian)
        self.cards.append(card)
        self.pending_class.append((card, class_key))

    def write(self, classes: dict[tuple[int, int], SchoolClass]) -> None:
        for card, key in self.pending_class:
            card.child[self.class_col] = classes[key].pk
        cards = self.cards
        child_ids = _reserve_ids(self.child.table, len(cards))
        parent_ids = _reserve_ids(self.parent.table, sum(len(c.parents) for c in cards))
        guardian_ids = _reserve_ids(self.guardian.table, sum(c.guardian is not None for c in cards))
        pi = gi = 0
        cid_col = self.child.index["id"]
        pid_col, pchild_col = self.parent.index["id"], self.parent.index["child_id"]
        gid_col, gchild_col = self.guardian.index["id"], self.guardian.index["child_id"]
        with connection.cursor() as cursor:
            for start in range(0, len(cards), WRITE_BATCH):
                batch = cards[start : start + WRITE_BATCH]
                children, parents, guardians = [], [], []
                for offset, card in enumerate(batch):
                    cid = child_ids[start + offset]
                    card.child[cid_col] = cid
                    children.append(card.child)
                    for p in card.parents:
                        p[pid_col], p[pchild_col] = parent_ids[pi], cid
                        pi += 1
                        parents.append(p)
                    if card.guardian is not None:
                        g = card.guardian
                        g[gid_col], g[gchild_col] = guardian_ids[gi], cid
                        gi += 1
                        guardians.append(g)
                for table, hist, rows in (
                    (self.child, self.h_child, children),
                    (self.parent, self.h_parent, parents),
                    (self.guardian, self.h_guardian, guardians),
                ):
                    if rows:
                        table.insert(cursor, rows)
                        cursor.executemany(hist.sql, _history_rows(hist, rows))
                for card in batch:  # free memory as we go
                    card.child = card.parents = card.guardian = None  # type: ignore[assignment]
