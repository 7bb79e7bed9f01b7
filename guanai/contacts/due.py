"""The due list (应联系/已逾期) computed by the database: one SQL statement decides, per child and
rule, the day the child became due and whether it is due on `as_of`, then counts, groups, orders
and pages. What "due" means is in the docstring of `contacts.rules` and does not change here.

The last counting contact per child and rule comes from `ContactSummary` (one row per child with
the latest contact and day of each kind, kept by triggers; a covering index holds the days) when
no contact is dated after `as_of` (today's list, next week's): one lookup by primary key per
child, each rule's days overdue computed once per child. Looking back in time (a contact exists
after `as_of`) it comes from the contacts themselves, `at < end of as_of`. Proxy-parent rules
always read the contacts: they count only the contacts made by the child's current proxy
parents, found through the index (child, by, at) from the child's current assignments, one
join and one grouping (`_proxy_combo`). The page's counts, its page of children and a short list's ids
come from one statement over one pass (`prepare_page`: the database groups and orders the due
children, Python reads a few hundred rows); the API's page orders and cuts the items before
joining the cards. A town's list (stats/covstore.py `use_due_counts`) takes its counts per class
from the statistics' lines instead (`use_counts`): its count and summary are sums, the API's
page is the ordered cut alone, and the page's children are read off the first items in the
API's order (`_first_children`) — no grouping or counting of every due child. Its pages
need not even the cut: the lines keep each class's first children and items
(`prepare_page(firsts=)`, `item_keys`), merged into the town's first children and items
(`use_first_children`): the items of a page's children alone are read, on any page.

Dates become day numbers (days since 1970-01-01, local dates in Asia/Shanghai) so the same
arithmetic runs on SQLite and PostgreSQL; only three small expressions differ per engine.

    due = DueList(children, as_of=day, rule_codes=None)
    due.count(), due.children_count(), due.counts("school_id"), due.page(0, 50),
    due.child_page(0, 50), due.items(), due.child_ids(), due.prepare_page(0, 50)
"""

import datetime as dt
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from functools import cached_property

from django.db import connections
from django.db.models import QuerySet

from guanai.children.models import AssignmentKind, Child, ChildAssignment, Enrolment
from guanai.lib.dates import term_start
from guanai.org.models import School

from .contact_summary import KINDS
from .models import Contact, ContactSummary
from .rules import (
    CHINA,
    RULE_ORDER,
    DueItem,
    Rule,
    RulePeriod,
    _parse_utc,
    _proxies_on,
    local_midnight,
    rules_for_schools,
)

EPOCH = dt.date(1970, 1, 1)
NO_KEY = -(10**15)  # below every sort key (days overdue * 1000 - rank)

# Local day number of a stored UTC timestamp, of a stored date, and the larger of two values.
ENGINE_SQL = {
    "sqlite": (
        "((CAST(strftime('%%s', {}) AS INTEGER) + 28800) / 86400)",
        "(CAST(strftime('%%s', {}) AS INTEGER) / 86400)",
        "MAX({}, {})",
    ),
    "postgresql": (
        "(CAST({} AT TIME ZONE 'Asia/Shanghai' AS date) - DATE '1970-01-01')",
        "({} - DATE '1970-01-01')",
        "GREATEST({}, {})",
    ),
}


FULL_JOIN_PROXIES = 50  # up to this many children with a proxy parent: merged by a FULL JOIN
PROXY_IDS_INLINE = 5_000  # children with a proxy parent named in the statement (_proxy_combo)


def _per_class(rows: list[tuple], kind: int) -> dict[int | None, list[tuple[int, int]]]:
    """{class id: [(sort key, child id), …]} of `prepare_page`'s rows of `kind`, in the list's
    order (sort key descending, then child)."""
    per: dict[int | None, list[tuple[int, int]]] = defaultdict(list)
    for r in sorted((r for r in rows if r[0] == kind), key=lambda r: (-r[3], r[1])):
        per[r[2]].append((r[3], r[1]))
    return dict(per)


def _items_per_class(
    rows: Iterable[tuple], firsts: dict[int | None, list[tuple[int, int]]], due: Counter
) -> dict[int | None, list[tuple[int, int]]]:
    """{class id: [(item's sort key, child id), …]}: the items of each class's first children
    (`prepare_page`'s rows of them, their item keys after the child's sort key), in the API's
    order. Of a class with more children due than kept, only those up to its last kept
    child's most overdue item: a child not kept can have an item after it, never before
    (its items' keys are at most its own sort key, which comes after)."""
    per: dict[int | None, list[tuple[int, int]]] = defaultdict(list)
    for r in rows:
        per[r[2]].extend((key, r[1]) for key in r[4:] if key is not None)
    out = {}
    for klass, items in per.items():
        items.sort(key=lambda item: (-item[0], item[1]))
        kept = firsts[klass]
        if len(kept) < due[klass]:
            last = kept[-1]
            items = [i for i in items if (-i[0], i[1]) <= (-last[0], last[1])]
        out[klass] = items
    return out


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


class DueList:
    """The children due under their school's rules on `as_of` (`children` already scoped), as
    one SQL statement the methods wrap: nothing is computed before a method asks."""

    def __init__(
        self,
        children: QuerySet[Child],
        *,
        as_of: dt.date,
        rule_codes: Iterable[str] | None = None,
        item_keys: bool = False,
    ) -> None:
        """`item_keys`: each due child's row also carries, per rule, its item's sort key
        (`k0`…: NULL when not due), so that `prepare_page(firsts=)` gives each class's first
        items with its first children (ranking the items themselves per class cost as much
        again as the pass: 0.6 → 1.3 s at bench/stats.py's town on SQLite)."""
        self.as_of = as_of
        self.item_keys = item_keys
        self.db = children.db
        self._total: int | None = None
        # what `prepare_page` read: counts per class, pages of children, a short list's ids
        self._groups: list[tuple] | None = None
        # the counts per class known beforehand (`use_counts`): (school id, class id, children,
        # {rule code: items}); the pass then only orders and pages
        self._known: list[tuple] | None = None
        self._pages: dict[tuple[int, int], list[int]] = {}
        self._ids: set[int] | None = None
        # the first children per class (`prepare_page(firsts=)`), and the first children of
        # the whole list known beforehand (`use_first_children`)
        self._firsts: dict[int | None, list[tuple[int, int]]] | None = None
        self._first_of: Callable[[int], list[int] | None] | None = None
        self._first_items_up_to = 0
        # the first items per class (`prepare_page(firsts=)` with `item_keys`), and the first
        # items of the whole list known beforehand (`use_first_children(items=)`)
        self._first_item_keys: dict[int | None, list[tuple[int, int]]] | None = None
        self._items_of: Callable[[int], list[tuple[int, int]] | None] | None = None
        self._proxy_count = 0  # children with a proxy parent in the largest proxy combo
        self.rule_codes = list(rule_codes) if rule_codes is not None else None
        wanted = set(self.rule_codes) if self.rule_codes else None
        children = children.filter(enrolment=Enrolment.ENROLLED)
        # Every school's rules, not only the schools of these children: finding those would
        # cost a pass over the cards, and a school without children adds no row.
        groups: dict[Rule, list[int]] = defaultdict(list)
        for school_id, rules in rules_for_schools(None).items():
            for rule in rules:
                if rule.usable and (wanted is None or rule.code in wanted):
                    groups[rule].append(school_id)
        # Rules over the same children (same categories and schools: the usual case) share one
        # pass over the children with one "last contact" column per rule.
        combos: dict[tuple, list[Rule]] = defaultdict(list)
        for rule, school_list in groups.items():
            concerned = () if rule.for_proxies else rule.categories
            combos[(rule.for_proxies, concerned, tuple(sorted(school_list)))].append(rule)
        self.combos = combos
        self.rules: list[Rule] = list(groups)
        ranks = sorted({(RULE_ORDER.get(r.code, 99), r.code) for r in self.rules})
        self.rank = {r: ranks.index((RULE_ORDER.get(r.code, 99), r.code)) for r in self.rules}
        self.end = local_midnight(as_of + dt.timedelta(days=1))
        self.ops = ENGINE_SQL["sqlite" if self._vendor == "sqlite" else "postgresql"]
        # Today's list (nothing dated after as_of): the summary table holds the last contacts.
        # (A rule naming a kind the summary has no column for reads the contacts.)
        self.from_summary = (
            all(k in KINDS for r in self.rules for k in r.kinds)
            and not Contact.objects.using(self.db).filter(at__gte=self.end).exists()
        )
        self._children = children  # the statement is built when first asked (`_built`)

    @cached_property
    def _built(self) -> tuple[str, list, str, list[tuple]]:
        """The statement over these children (`_statement`): not built for a page read off
        the first children (`use_first_children`), which reads only theirs — building it
        lists the children with a proxy parent (27 ms at a town on PostgreSQL)."""
        return self._statement(self._children)

    @property
    def sql(self) -> str:
        return self._built[0]

    @property
    def params(self) -> list:
        return self._built[1]

    @property
    def child_sql(self) -> str:
        return self._built[2]

    @property
    def _child_parts(self) -> list[tuple]:
        return self._built[3]

    @property
    def proxy_children(self) -> int:
        """Children with a proxy parent in the statement's largest proxy combo (counted
        while the statement is built)."""
        self._built  # noqa: B018 (builds it, once)
        return self._proxy_count

    def _statement(self, children: QuerySet[Child]) -> tuple[str, list, str, list[tuple]]:
        """The items' statement, its parameters, the same list one row per child and combo
        (same parameters), and that statement's parts: (for proxies, SQL, parameters) per
        combo (`_merged`)."""
        parts, child_parts, params, pieces = [], [], [], []
        for (for_proxies, categories, school_list), rules in self.combos.items():
            base = children.filter(school_id__in=school_list, created_at__lt=self.end)
            if for_proxies:
                (sql, child_sql), p = self._proxy_combo(base, rules)
            else:
                (sql, child_sql), p = self._combo(base.filter(category__in=categories), rules)
            parts.append(sql)
            child_parts.append(child_sql)
            params += p
            pieces.append((for_proxies, child_sql, p))
        return self._due_sql(parts), params, " UNION ALL ".join(child_parts), pieces

    @property
    def _vendor(self) -> str:
        return connections[self.db].vendor

    # --- building the statement -----------------------------------------------------------

    def _adapt(self, moment: dt.datetime):
        return connections[self.db].ops.adapt_datetimefield_value(moment)

    def _combo(self, base: QuerySet, rules: list[Rule]) -> tuple[tuple[str, str], list]:
        """One row per child: its card's creation and, per rule, its last counting contact
        (`l0`…) and that contact's local day (`d0`…)."""
        base_sql, base_params = (
            base.order_by().values("id", "created_at", "school_id", "school_class_id")
        ).query.sql_with_params()
        head = (
            "SELECT c.id AS id, c.created_at AS created_at, c.school_id AS school_id,"
            " c.school_class_id AS school_class_id, CAST(NULL AS date) AS proxy_from,"
            " CAST(NULL AS integer) AS proxy_user"
        )
        if self.from_summary:
            # The child's summary row holds the latest contact and day of every kind: one
            # lookup by primary key, the rule's latest is the greatest of its kinds' columns.
            # Days only (the summary's covering index answers); the time of the last contact
            # is read for the items shown (`_last_at`).
            lasts = ", ".join(
                f"CAST(NULL AS timestamp) AS l{i},"
                f" {self._greatest([f's.{k}_day' for k in r.kinds], -1)} AS d{i}"
                for i, r in enumerate(rules)
            )
            sql = (
                f"{head}, {lasts} FROM ({base_sql}) c"
                f" LEFT JOIN {ContactSummary._meta.db_table} s ON s.child_id = c.id"
            )
            return self._expand(sql, rules, days=True), list(base_params)
        lasts, params = self._grouped_lasts(rules)
        sql = (
            f"{head}, {lasts} FROM ({base_sql}) c"
            f" LEFT JOIN {Contact._meta.db_table} l ON l.child_id = c.id AND l.at < %s"
            f" GROUP BY c.id, c.created_at, c.school_id, c.school_class_id"
        )
        return (
            self._expand(sql, rules, days=True),
            params + list(base_params) + [self._adapt(self.end)],
        )

    def _grouped_lasts(self, rules: list[Rule]) -> tuple[str, list]:
        """Per rule, the last contact `l` of its kinds (`l0`…) and its local day (`d0`…), as
        aggregates over the contacts joined as `l`, and their parameters."""
        day = self.ops[0]
        lasts, params = [], []
        for i, rule in enumerate(rules):
            marks = ", ".join(["%s"] * len(rule.kinds))
            last = f"MAX(CASE WHEN l.kind IN ({marks}) THEN l.at END)"
            lasts.append(f"{last} AS l{i}, {day.format(last)} AS d{i}")
            params += list(rule.kinds) * 2
        return ", ".join(lasts), params

    def _last_at(self) -> str:
        """The item's last counting contact: read from the child's summary row (`t`) for the
        rules the summary answers, else the statement's `last_at` (proxy rules, days looked
        back on)."""
        if not self.from_summary:
            return "d.last_at"
        whens = " ".join(
            f"WHEN {key} THEN {self._greatest([f't.{k}_at' for k in r.kinds], '')}"
            for key, r in enumerate(self.rules)
            if not r.for_proxies
        )
        return f"CASE d.rule_key {whens} ELSE d.last_at END" if whens else "d.last_at"

    def _greatest(self, columns: list[str], none: str | int) -> str:
        """The greatest non-NULL of `columns` (NULL when all are): PostgreSQL's GREATEST skips
        NULLs, SQLite's MAX(a, b) does not (`none` stands for NULL, below every value)."""
        if len(columns) == 1:
            return columns[0]
        if self._vendor != "sqlite":
            return f"GREATEST({', '.join(columns)})"
        mark = f"'{none}'" if isinstance(none, str) else str(none)
        spread = ", ".join(f"COALESCE({c}, {mark})" for c in columns)
        return f"NULLIF(MAX({spread}), {mark})"

    def _proxy_combo(self, base: QuerySet, rules: list[Rule]) -> tuple[tuple[str, str], list]:
        """The children with a proxy parent on as_of: the assignment's start and proxy parent
        (the earliest assignment valid that day), and per rule the last contact by one of their
        current proxy parents (`l0`…) and its local day (`d0`…).

        One join and one grouping, not a scalar subquery per value: SQLite and PostgreSQL
        flatten the combo into the statement around it, which names each value several times
        (the days overdue, the sort key, the rules due), and each name ran its subquery again
        (a town with 13,000 children with a proxy parent: a probe of their contacts five times
        over, 0.9 s of the due list's 1.1 s)."""
        proxies = _proxies_on(self.as_of)
        # The few children with a proxy parent are listed first, so that the database works
        # out their last contacts for them only: with the list as a subquery PostgreSQL
        # computed them for every card of a school before its semi-join (105 of a school's
        # 180 ms). A county's many are left to the subquery.
        ids = list(
            base.filter(pk__in=proxies.values("child_id")).values_list("pk", flat=True)[
                : PROXY_IDS_INLINE + 1
            ]
        )
        self._proxy_count = max(self._proxy_count, len(ids))
        if len(ids) > PROXY_IDS_INLINE:
            chosen = base.filter(pk__in=proxies.values("child_id"))
        elif ids:  # they are of `base` already: its conditions again only mislead the planner
            # (a page's 2,000 children: PostgreSQL estimated 4 rows and scanned every card)
            chosen = base.model._base_manager.using(base.db).filter(pk__in=ids)
        else:
            chosen = base.filter(pk=None)
        base_sql, base_params = (
            chosen.order_by().values("id", "created_at", "school_id", "school_class_id")
        ).query.sql_with_params()
        assignments = ChildAssignment._meta.db_table
        on = connections[self.db].ops.adapt_datefield_value(self.as_of)

        def valid(alias: str) -> tuple[str, list]:
            condition = (
                f"{alias}.kind = %s AND {alias}.valid_from <= %s"
                f" AND ({alias}.valid_to IS NULL OR {alias}.valid_to >= %s)"
            )
            return condition, [AssignmentKind.PROXY_PARENT, on, on]

        first, first_params = valid("u")
        mine, mine_params = valid("v")
        kinds = sorted({k for r in rules for k in r.kinds})
        lasts, last_params = self._grouped_lasts(rules)
        sql = (
            "SELECT c.id AS id, c.created_at AS created_at, c.school_id AS school_id,"
            " c.school_class_id AS school_class_id, a.valid_from AS proxy_from,"
            f" a.user_id AS proxy_user, {lasts} FROM ({base_sql}) c"
            f" JOIN {assignments} a ON a.id = (SELECT u.id FROM {assignments} u"
            f" WHERE u.child_id = c.id AND {first} ORDER BY u.valid_from, u.id LIMIT 1)"
            f" LEFT JOIN {assignments} v ON v.child_id = c.id AND {mine}"
            f" LEFT JOIN {Contact._meta.db_table} l ON l.by_id = v.user_id AND l.child_id = c.id"
            f" AND l.at < %s AND l.kind IN ({', '.join(['%s'] * len(kinds))})"
            " GROUP BY c.id, c.created_at, c.school_id, c.school_class_id, a.valid_from, a.user_id"
        )
        params = [
            *last_params,
            *base_params,
            *first_params,
            *mine_params,
            self._adapt(self.end),
            *kinds,
        ]
        return self._expand(sql, rules, days=True), params

    def _expand(self, combo_sql: str, rules: list[Rule], *, days: bool) -> tuple[str, str]:
        """One row per child and rule due: each rule's days overdue are computed once per child
        (`o0`…, NULL when not due), then the rows are spread over the combo's rules (a cross
        join) and the NULLs dropped. `days`: the combo has each last contact's local day
        (`d0`…); else it is read from the timestamp."""
        day, date, greater = self.ops
        start = term_start(self.as_of)
        today, term = day_number(self.as_of), day_number(start)
        term_moment, term_date = self._literals(start)
        created = day.format("b.created_at")
        # The card's creation (or the proxy assignment's start) is read only where it decides:
        # a term rule's child created (or assigned) after the term began, a child never
        # contacted under a `days` rule.
        began = (
            f"CASE WHEN b.proxy_from IS NULL THEN {created}"
            f" ELSE {greater.format(created, date.format('b.proxy_from'))} END"
        )
        overdue = []
        for i, r in enumerate(rules):
            last = f"b.d{i}" if days else day.format(f"b.l{i}")
            if r.period == RulePeriod.TERM:
                since = (
                    f"CASE WHEN b.created_at < {term_moment}"
                    f" AND (b.proxy_from IS NULL OR b.proxy_from <= {term_date}) THEN {term}"
                    f" ELSE {greater.format(term, began)} END"
                )
                overdue.append(
                    f"CASE WHEN {last} IS NULL OR {last} < {term}"
                    f" THEN {today} - ({since}) END AS o{i}"
                )
            else:
                n = int(r.days)
                overdue.append(
                    f"CASE WHEN {last} IS NULL THEN {today} - ({began})"
                    f" WHEN {last} + {n} <= {today} THEN {today} - ({last} + {n}) END AS o{i}"
                )
        table = " UNION ALL ".join(
            f"SELECT {i} AS idx, {self.rules.index(r)} AS rule_key, {self.rank[r]} AS rank"
            for i, r in enumerate(rules)
        )
        pick = " ".join(f"WHEN {i} THEN o.o{i}" for i in range(len(rules)))
        last_at = " ".join(f"WHEN {i} THEN o.l{i}" for i in range(len(rules)))
        lasts = ", ".join(f"b.l{i}" for i in range(len(rules)))
        per_child = (
            f"SELECT b.id, b.school_id, b.school_class_id, b.proxy_user, {lasts},"
            f" {', '.join(overdue)} FROM ({combo_sql}) b"
        )
        items = (
            f"SELECT o.id AS child_id, r.rule_key, r.rank, CASE r.idx {last_at} END AS last_at,"
            f" o.proxy_user, o.school_id, o.school_class_id,"
            f" CASE r.idx {pick} END AS days_overdue"
            f" FROM ({per_child}) o CROSS JOIN ({table}) r"
            f" WHERE CASE r.idx {pick} END IS NOT NULL"
        )
        # One row per child due under one of these rules: its sort key (most overdue item,
        # then rule order) and the rules due as a bitmask of rule keys (`_children`).
        keys = [f"o.o{i} * 1000 - {self.rank[r]}" for i, r in enumerate(rules)]
        bits = " + ".join(
            f"CASE WHEN o.o{i} IS NULL THEN 0 ELSE {1 << self.rules.index(r)} END"
            for i, r in enumerate(rules)
        )
        item_keys = "".join(
            f", {keys[rules.index(r)] if r in rules else 'CAST(NULL AS bigint)'} AS k{j}"
            for j, r in enumerate(self.rules)
            if self.item_keys
        )
        children = (
            f"SELECT o.id, o.school_id, o.school_class_id,"
            f" {self._greatest(keys, NO_KEY)} AS sort_key, {bits} AS rule_bits{item_keys}"
            f" FROM ({per_child}) o"
            f" WHERE {' OR '.join(f'o.o{i} IS NOT NULL' for i in range(len(rules)))}"
        )
        return items, children

    def _literals(self, day: dt.date) -> tuple[str, str]:
        """SQL literals of local midnight starting `day` (a stored timestamp) and of `day`."""
        moment = local_midnight(day).astimezone(dt.UTC)
        if self._vendor == "sqlite":  # as Django stores them: naive UTC text
            return f"'{moment.replace(tzinfo=None).isoformat(sep=' ')}'", f"'{day.isoformat()}'"
        return f"TIMESTAMPTZ '{moment.isoformat()}'", f"DATE '{day.isoformat()}'"

    def _due_sql(self, parts: list[str]) -> str:
        """Due items: child_id, rule_key, rank, last_at, proxy_user, school_id,
        school_class_id, days_overdue."""
        if not parts:  # no rule concerns these children: a statement with no row
            parts = [
                (
                    "SELECT 0 AS child_id, 0 AS rule_key, 0 AS rank,"
                    " CAST(NULL AS timestamp) AS last_at, CAST(NULL AS integer) AS proxy_user,"
                    " 0 AS school_id, 0 AS school_class_id, 0 AS days_overdue"
                    " FROM (SELECT 1 AS one) z WHERE 1 = 0"
                )
            ]
        return (
            "SELECT e.child_id, e.rule_key, e.rank, e.last_at, e.proxy_user, e.school_id,"
            f" e.school_class_id, e.days_overdue FROM ({' UNION ALL '.join(parts)}) e"
        )

    def _fetch(self, sql: str, params: list | tuple = (), base: list | None = None) -> list[tuple]:
        """Run `sql` (which holds the due statement first) with the statement's parameters
        (`base`: another statement's) and then `params`."""
        with connections[self.db].cursor() as cursor:
            cursor.execute(sql, [*(self.params if base is None else base), *params])
            return cursor.fetchall()

    # --- what callers ask -----------------------------------------------------------------

    def use_counts(self, per_class: list[tuple]) -> None:
        """Take the counts per class from elsewhere — (school id, class id, children due,
        {rule code: items due}) for each class of these children, as `counts_per_class` gives
        them for the same children, day and rules (stats/covstore.py keeps them per class):
        the summary, the totals and the API's count are then sums, and a page is one ordered
        cut of the list, not a grouping of it."""
        self._known = per_class
        self._total = sum(n for *_unit, counts in per_class for n in counts.values())

    def use_first_children(
        self,
        first: Callable[[int], list[int] | None],
        *,
        items_up_to: int,
        items: Callable[[int], list[tuple[int, int]] | None] | None = None,
    ) -> None:
        """Take the first children of the list from elsewhere: `first(n)` gives the ids of the
        first `n` children due in the page's order (most overdue item first, then rule order,
        then child id), or None when it cannot say; `items(n)` the first `n` items in the API's
        order as (sort key, child id), or None. stats/covstore.py keeps each class's first
        children and items (`firsts_per_class`, `first_items_per_class`) and merges them. A
        page of children is then read off those children alone, and a page of the API's items
        off the items of its own few children (else, up to the `items_up_to`-th item, off the
        items of the first children): no pass over the list."""
        self._first_of = first
        self._first_items_up_to = items_up_to
        self._items_of = items

    def _first(self, n: int) -> list[int] | None:
        return self._first_of(n) if self._first_of is not None and n > 0 else None

    def firsts_per_class(self) -> dict[int | None, list[tuple[int, int]]] | None:
        """{class id: [(sort key, child id), …]}: each class's first children due in the
        page's order, as many as `prepare_page(firsts=)` asked (None: not asked, or too many
        rules for the children's pass)."""
        return self._firsts

    def first_items_per_class(self) -> dict[int | None, list[tuple[int, int]]] | None:
        """{class id: [(sort key, child id), …]}: each class's first items due in the API's
        order (most overdue first, then rule order, then child): the items of its first
        children (`prepare_page(firsts=)`), all of them when those are all its children due,
        else up to the last one's most overdue item (None: not asked, no `item_keys`, or too
        many rules). An item's sort key is its days overdue × 1,000 less its rule's rank, as
        a child's is its most overdue item's: (key, child) names the item, and its rule
        (`rule_of_key`)."""
        return self._first_item_keys

    def rule_of_key(self, key: int) -> tuple[str | None, int]:
        """(rule code, days overdue) of an item's sort key (code None: no rule of the list has
        that rank)."""
        rank = -key % 1000
        return self._code_of_rank.get(rank), (key + rank) // 1000

    @cached_property
    def _code_of_rank(self) -> dict[int, str]:
        return {self.rank[r]: r.code for r in self.rules}

    def counts_per_class(self) -> list[tuple]:
        """(school id, class id, children due, {rule code: items due}) per class."""
        self.prepare_page(0, 0)
        if self._groups is None:
            return [(sid, cid, n, counts) for sid, _c, _n, cid, _g, _k, n, counts in self.summary()]
        out = []
        for school_id, class_id, n, per_key in self._groups:
            counts: dict[str, int] = defaultdict(int)
            for key, items in per_key.items():
                counts[self.rules[key].code] += items
            out.append((school_id, class_id, n, dict(counts)))
        return out

    def count(self) -> int:
        """How many items (child and rule) are due."""
        if self._total is None:
            self._total = self._fetch(f"SELECT COUNT(*) FROM ({self.sql}) d")[0][0]
        return self._total

    # At most this many rules (bits of a 64-bit sum) for the children's pass below.
    MASK_RULES = 62

    def _merged(self) -> tuple[str, list]:
        """One row per due child (id, school_id, school_class_id, sort_key, rule_bits, and with
        `item_keys` k0…) and the statement's parameters: a child in two combos (a category's
        rules and the proxy rule) has one row, its larger sort key and the rules of both (each
        rule is in one combo: the bits do not overlap, their sum is their union; of a rule's
        item key one combo has a value, the other NULL)."""
        if len(self._child_parts) == 1:
            return self.child_sql, self.params
        others = [(sql, p) for proxy, sql, p in self._child_parts if not proxy]
        proxies = [(sql, p) for proxy, sql, p in self._child_parts if proxy]
        combos = [k for k in self.combos if not k[0]]
        apart = all(
            not set(a[1]) & set(b[1]) or not set(a[2]) & set(b[2])
            for i, a in enumerate(combos)
            for b in combos[i + 1 :]
        )
        few = self.proxy_children <= FULL_JOIN_PROXIES
        if len(proxies) == 1 and others and apart and few and self._full_join:
            # The usual case: categories' combos without a common child, and the proxy rule's
            # few children joined to them (cheaper than grouping every row by child). Not for
            # many: SQLite joins the two subqueries by a loop over one for each row of the
            # other (a town with 10,000 children with a proxy parent: 31 s).
            main = " UNION ALL ".join(sql for sql, _p in others)
            sql = (
                "SELECT COALESCE(m.id, p.id) AS id, COALESCE(m.school_id, p.school_id) AS"
                " school_id, COALESCE(m.school_class_id, p.school_class_id) AS school_class_id,"
                " CASE WHEN p.id IS NULL OR m.sort_key >= p.sort_key THEN m.sort_key"
                " ELSE p.sort_key END AS sort_key,"
                " COALESCE(m.rule_bits, 0) + COALESCE(p.rule_bits, 0) AS rule_bits"
                f"{self._item_key_columns('COALESCE(m.k{0}, p.k{0})')}"
                f" FROM ({main}) m FULL JOIN ({proxies[0][0]}) p ON p.id = m.id"
            )
            return sql, [x for _sql, p in others for x in p] + list(proxies[0][1])
        sql = (
            "SELECT u.id, u.school_id, u.school_class_id, MAX(u.sort_key) AS sort_key,"
            f" SUM(u.rule_bits) AS rule_bits{self._item_key_columns('MAX(u.k{0})')}"
            f" FROM ({self.child_sql}) u"
            " GROUP BY u.id, u.school_id, u.school_class_id"
        )
        return sql, self.params

    def _item_key_columns(self, pattern: str) -> str:
        """`, <pattern> AS k0, …` for each rule's item key, when the rows carry them."""
        if not self.item_keys:
            return ""
        return "".join(f", {pattern.format(j)} AS k{j}" for j in range(len(self.rules)))

    @property
    def _full_join(self) -> bool:
        """FULL JOIN and `AS MATERIALIZED` (SQLite 3.39 and 3.35; PostgreSQL has both)."""
        return self._vendor != "sqlite" or sqlite3.sqlite_version_info >= (3, 39)

    def prepare_page(
        self,
        offset: int,
        limit: int,
        *,
        ids_up_to: int = 0,
        firsts: int = 0,
    ) -> None:
        """What the due page asks, from one pass over the list: the counts per class
        (`summary`, `children_count`, `children_per`), the children of one page
        (`child_page(offset, limit)`), when at most `ids_up_to` children are due their ids
        (`child_ids`), and the first `firsts` children of each class (`firsts_per_class`;
        with `item_keys`, their items too: `first_items_per_class`). The pass's rows (one per
        due child) stay in the database: it groups and orders them (nothing when the rules
        are too many for a bitmask: each method asks SQL)."""
        if self._groups is not None or self._known is not None:
            return
        if len(self.rules) > self.MASK_RULES:
            return
        if not self.rules:
            self._groups, self._ids = [], set()
            self._pages[(offset, limit)] = []
            self._firsts = {} if firsts > 0 else None
            self._first_item_keys = {} if firsts > 0 and self.item_keys else None
            return
        keys = range(len(self.rules))
        sums = ", ".join(
            f"SUM(CASE WHEN (d.rule_bits & {1 << k}) = 0 THEN 0 ELSE 1 END)" for k in keys
        )
        zeros = ", ".join("0" for _ in keys)
        # a short list's ids: every row, when there are few (the count is of the pass's rows)
        few = (
            f" UNION ALL SELECT 2, d.id, 0, 0, {zeros} FROM d"
            f" WHERE (SELECT COUNT(*) FROM d) <= {int(ids_up_to)}"
            if ids_up_to > 0
            else ""
        )
        # each class's first children: ranked within the class, in the page's order; with
        # `item_keys`, each with its rules' item keys (in the columns the counts use above)
        carried = ", ".join(f"f.k{k}" for k in keys) if self.item_keys else zeros
        item_keys = "".join(f", d.k{k}" for k in keys) if self.item_keys else ""
        first = (
            f" UNION ALL SELECT 3, f.id, f.school_class_id, f.sort_key, {carried} FROM ("
            f"SELECT d.id, d.school_class_id, d.sort_key{item_keys}, ROW_NUMBER() OVER ("
            "PARTITION BY d.school_class_id ORDER BY d.sort_key DESC, d.id) AS n FROM d) f"
            f" WHERE f.n <= {int(firsts)}"
            if firsts > 0
            else ""
        )
        merged, params = self._merged()
        # computed once, read three times (older SQLite: a hint it does not know)
        hint = "MATERIALIZED " if self._full_join else ""
        rows = self._fetch(
            f"WITH d AS {hint}({merged})"
            f" SELECT 0, d.school_id, d.school_class_id, COUNT(*), {sums} FROM d"
            " GROUP BY d.school_id, d.school_class_id"
            f" UNION ALL SELECT * FROM (SELECT 1, d.id, 0, d.sort_key, {zeros} FROM d"
            " ORDER BY d.sort_key DESC, d.id LIMIT %s OFFSET %s) p"
            f"{few}{first}",
            [limit, offset],
            base=params,
        )
        self._groups = [
            (r[1], r[2], r[3], {k: n for k, n in zip(keys, r[4:], strict=True) if n})
            for r in rows
            if r[0] == 0
        ]
        # the union keeps no order: the page's rows are sorted again (50 of them)
        page = sorted((r for r in rows if r[0] == 1), key=lambda r: (-r[3], r[1]))
        self._pages[(offset, limit)] = [r[1] for r in page]
        if sum(g[2] for g in self._groups) <= ids_up_to:
            self._ids = {r[1] for r in rows if r[0] == 2}
        if firsts > 0:
            self._firsts = _per_class(rows, 3)
        if firsts > 0 and self.item_keys:
            due: Counter = Counter()
            for _school, klass, n, _keys in self._groups:
                due[klass] += n
            self._first_item_keys = _items_per_class(
                (r for r in rows if r[0] == 3), self._firsts, due
            )

    def children_count(self) -> int:
        if self._known is not None:
            return sum(g[2] for g in self._known)
        if self._groups is not None:
            return sum(g[2] for g in self._groups)
        return self._fetch(f"SELECT COUNT(DISTINCT d.child_id) FROM ({self.sql}) d")[0][0]

    def summary(self) -> list[tuple]:
        """Per class: (school id, school code, school name, class id, grade, class number,
        children due, {rule code: items due}) — the counts at the top of the due page and its
        totals."""
        from guanai.org.models import SchoolClass

        self.prepare_page(0, 0)
        if self._groups is None and self._known is None:
            return self._summary_sql()
        units = {
            (school_id, class_id): (n, counts)
            for school_id, class_id, n, counts in (self._known or self.counts_per_class())
            if n
        }
        schools = {
            pk: (code, name)
            for pk, code, name in School.objects.using(self.db)
            .filter(pk__in={u[0] for u in units})
            .values_list("pk", "code", "name")
        }
        classes = {
            pk: (grade, class_no)
            for pk, grade, class_no in SchoolClass.objects.using(self.db)
            .filter(school_id__in={u[0] for u in units})  # a short list, not every class id
            .values_list("pk", "grade", "class_no")
        }
        others = {u[1] for u in units if u[1] is not None} - classes.keys()
        if others:  # a card whose class belongs to another school
            classes.update(
                (pk, (grade, class_no))
                for pk, grade, class_no in SchoolClass.objects.using(self.db)
                .filter(pk__in=others)
                .values_list("pk", "grade", "class_no")
            )
        return [
            (sid, *schools[sid], cid, *classes.get(cid, (None, None)), n, dict(counts))
            for (sid, cid), (n, counts) in units.items()
        ]

    def _summary_sql(self) -> list[tuple]:
        from guanai.org.models import SchoolClass

        keys = list(range(len(self.rules)))
        sums = "".join(f", SUM(CASE WHEN d.rule_key = {k} THEN 1 ELSE 0 END) AS r{k}" for k in keys)
        # grouped first (the items carry their card's school and class), named after
        rows = self._fetch(
            f"SELECT g.school_id, s.code, s.name, g.school_class_id, k.grade, k.class_no,"
            f" g.children{''.join(f', g.r{k}' for k in keys)} FROM ("
            f"SELECT d.school_id, d.school_class_id, COUNT(DISTINCT d.child_id) AS children{sums}"
            f" FROM ({self.sql}) d GROUP BY d.school_id, d.school_class_id) g"
            f" JOIN {School._meta.db_table} s ON s.id = g.school_id"
            f" LEFT JOIN {SchoolClass._meta.db_table} k ON k.id = g.school_class_id"
        )
        out = []
        for row in rows:
            unit, children, per_rule = row[:6], row[6], row[7:]
            counts: dict[str, int] = defaultdict(int)
            for key, n in zip(keys, per_rule, strict=True):
                if n:
                    counts[self.rules[key].code] += n
            out.append((*unit, children, dict(counts)))
        return out

    def children_per(self, unit: str) -> dict[int, int]:
        """Children due (under any rule) per unit: {unit id: n}, `unit` a column of the card
        ("school_id", "school_class_id")."""
        assert unit in ("school_id", "school_class_id")
        groups = self._known if self._known is not None else self._groups
        if groups is not None:
            per: Counter = Counter()
            for school_id, class_id, n, _keys in groups:
                per[school_id if unit == "school_id" else class_id] += n
            return dict(per)
        if not self.rules:
            return {}
        # one row per child and combo (a child may be in two): no spreading over the rules
        return dict(
            self._fetch(
                f"SELECT d.{unit}, COUNT(DISTINCT d.id) FROM ({self.child_sql}) d GROUP BY d.{unit}"
            )
        )

    def child_ids(self) -> set[int]:
        if self._ids is not None:
            return self._ids
        return {r[0] for r in self._fetch(f"SELECT DISTINCT d.child_id FROM ({self.sql}) d")}

    def child_page(self, offset: int, limit: int) -> list[int]:
        """Children in the order of their most overdue item (then rule order, child id)."""
        for (start, size), ids in self._pages.items():
            if start == offset and limit <= size:  # the paginator cuts the last page short
                return ids[:limit]
        if not self.rules:
            return []
        first = self._first(offset + limit)
        if first is not None:
            return first[offset : offset + limit]
        if self._known is not None and offset + limit <= self.FIRST_ITEMS:
            return self._first_children(offset, limit)
        if len(self.rules) <= self.MASK_RULES:
            merged, params = self._merged()
            sql = f"SELECT d.id FROM ({merged}) d ORDER BY d.sort_key DESC, d.id LIMIT %s OFFSET %s"
            return [r[0] for r in self._fetch(sql, [limit, offset], base=params)]
        sql = (
            f"SELECT d.child_id, MAX(d.days_overdue * 1000 - d.rank) AS k FROM ({self.sql}) d"
            " GROUP BY d.child_id ORDER BY k DESC, d.child_id LIMIT %s OFFSET %s"
        )
        return [r[0] for r in self._fetch(sql, [limit, offset])]

    # Up to this many children from the top, a page of children is read off the ordered items
    FIRST_ITEMS = 1_000

    def _first_children(self, offset: int, limit: int) -> list[int]:
        """child_page from the items in the API's order (most overdue first, then rule order,
        then child): a child first appears at its most overdue item, so the children in order
        of first appearance are the children in the page's order. The first `offset + limit`
        children appear within that many items times the number of rules (a child has at
        most one item per rule): one ordered cut, no grouping of every due child."""
        cut = (offset + limit) * len(self.rules)
        rows = self._fetch(
            f"SELECT d.child_id FROM ({self.sql}) d"
            " ORDER BY d.days_overdue DESC, d.rank, d.child_id LIMIT %s",
            [cut],
        )
        seen = list(dict.fromkeys(r[0] for r in rows))
        return seen[offset : offset + limit]

    def page(self, offset: int, limit: int) -> list[DueItem]:
        """One page of items, most overdue first (then by rule and child id). The same
        statement counts the whole list (`count()` then asks nothing more). With the list's
        first items known (`use_first_children(items=)`), the page's own items, read among the
        items of their few children; else, with its first children known, up to the
        `items_up_to`-th item the items of the first `offset + limit` children: a child first
        appears at its most overdue item, so the first n items are all items of the first n
        children."""
        end = offset + limit
        if self._total is not None and self._items_of is not None and end > 0:
            keys = self._items_of(end)
            if keys is not None:
                got = self._items_at(keys[offset:end])
                if got is not None:
                    return got
        first = None
        if self._total is not None and end <= self._first_items_up_to:
            first = self._first(end)
        if first is not None:
            return self.items(first, cut=(offset, limit))
        return self._items(" LIMIT %s OFFSET %s", [limit, offset], total=self._total is None)

    def _items_at(self, keys: list[tuple[int, int]]) -> list[DueItem] | None:
        """The items (sort key, child id) in that order, read among their children's items;
        None when one of them is not due now (a write since the lines were read: the list's
        own cut then says what is)."""
        wanted = [(child, *self.rule_of_key(key)) for key, child in keys]
        mine = {(i.child, i.rule, i.days_overdue): i for i in self.items({c for c, *_ in wanted})}
        if not all(w in mine for w in wanted):
            return None
        return [mine[w] for w in wanted]

    # A list the API's paginator slices and counts (`Pages`, through `LazyOut`).
    def all(self) -> "DueList":
        return self

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[DueItem]:
        start = item.start or 0
        return self.page(start, item.stop - start)

    def items(
        self, child_ids: Iterable[int] | None = None, *, cut: tuple[int, int] | None = None
    ) -> list[DueItem]:
        """Every item (of `child_ids` only, if given: a page's children), most overdue first;
        with `cut` (offset, limit) only those of them."""
        if child_ids is None:
            return self._items()
        ids = [int(i) for i in child_ids]
        if not ids:
            return []
        # A child's items depend on the child alone (its school's rules, its contacts): the
        # same statement over these few cards, not a pass over the whole list.
        few = Child.objects.using(self.db).filter(pk__in=ids, enrolment=Enrolment.ENROLLED)
        sql, params, _children, _parts = self._statement(few)
        if cut is not None:
            return self._items(" LIMIT %s OFFSET %s", [cut[1], cut[0]], sql=sql, params=params)
        return self._items(sql=sql, params=params)

    def _items(
        self,
        tail: str = "",
        tail_params: list | None = None,
        *,
        total: bool = False,
        sql: str | None = None,
        params: list | None = None,
    ) -> list[DueItem]:
        from guanai.org.models import SchoolClass

        order = "ORDER BY d.days_overdue DESC, d.rank, d.child_id"
        # a page: ordered and cut first, the page's cards joined after
        rows = self._fetch(
            f"SELECT d.child_id, d.rule_key, {self._last_at()}, d.days_overdue, d.proxy_user,"
            f" c.name,"
            f" s.code, k.grade, k.class_no, c.school_class_id, c.responsible_teacher_id, d.total"
            f" FROM (SELECT d.*, {'COUNT(*) OVER ()' if total else '0'} AS total"
            f" FROM ({sql or self.sql}) d{f' {order}{tail}' if tail else ''}) d"
            f" JOIN {Child._meta.db_table} c ON c.id = d.child_id"
            f" JOIN {School._meta.db_table} s ON s.id = c.school_id"
            f" LEFT JOIN {SchoolClass._meta.db_table} k ON k.id = c.school_class_id"
            f" LEFT JOIN {ContactSummary._meta.db_table} t ON t.child_id = d.child_id"
            f" {order}",
            tail_params or [],
            base=params,
        )
        if total and rows:
            self._total = rows[0][-1]
        out = []
        for (
            child,
            key,
            last_s,
            days,
            proxy,
            name,
            school,
            grade,
            class_no,
            cid,
            teacher,
            _n,
        ) in rows:
            rule = self.rules[key]
            out.append(
                DueItem(
                    child=child,
                    child_name=name,
                    school=school,
                    grade=grade,
                    class_no=class_no,
                    class_id=cid,
                    rule=rule.code,
                    rule_name=rule.name,
                    last_at=_parse_utc(last_s).astimezone(CHINA) if last_s else None,
                    due_since=self.as_of - dt.timedelta(days=days),
                    days_overdue=days,
                    responsible_teacher_id=teacher,
                    proxy_user_id=proxy,
                )
            )
        return out
