"""Bounds for integers that come from outside: ids, versions and page numbers in paths, query
strings and bodies.

SQLite and PostgreSQL store ids as signed 64-bit integers. Django turns an equality lookup
beyond that range into "no rows", but Python's sqlite3 cannot bind such a number anywhere else
(an `IN` list, an offset, an insert: OverflowError, a 500) while PostgreSQL compares it as a
numeric. Bounding every integer of the API before any query gives one answer on both databases:
a 422 that names the field. (Pages' `<int:pk>` paths only reach equality lookups: 404.)
"""

from collections.abc import Callable
from typing import Annotated, Any

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

MAX_ID = 2**63 - 1  # the largest id SQLite and PostgreSQL (bigint) store
MAX_INT = 2**31 - 1  # PositiveIntegerField on PostgreSQL
MAX_PAGE = 1_000_000  # 5·10⁸ rows at the largest page size: beyond any town

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Natural = Annotated[int, Field(ge=0, le=MAX_INT)]  # a card's version, an age
Grade = Annotated[int, Field(ge=0, le=12)]
ClassNo = Annotated[int, Field(ge=1, le=99)]
Page = Annotated[int, Field(ge=1, le=MAX_PAGE)]
PageSize = Annotated[int, Field(ge=1, le=MAX_PAGE)]


class Pages(PageNumberPagination):
    """ninja's page-number pagination with `page` and `page_size` bounded: every list of the API
    uses it, so page=10²⁰ is a 422, not an offset the database cannot take."""

    class Input(Schema):
        page: Page = 1
        page_size: PageSize | None = None


class LazyOut:
    """A queryset seen through a function, for a list that `Pages` paginates: the paginator
    slices and counts it in SQL, and only the page's rows are converted — one at a time by
    `convert`, or all at once by `convert_page` (rows → items), which can count something for
    the whole page in one query.

    With `fetch` (ids → {id: row}), a page is read in two steps: the page's ids in the list's
    order, then their rows. Sorting ids is cheap; sorting every joined row of a large scope to
    keep fifty of them is not."""

    def __init__(
        self,
        qs: Any,
        convert: Callable[[Any], Any] | None = None,
        *,
        convert_page: Callable[[list[Any]], list[Any]] | None = None,
        fetch: Callable[[list[Any]], dict[Any, Any]] | None = None,
    ) -> None:
        if (convert is None) == (convert_page is None):
            raise TypeError("LazyOut takes one of convert and convert_page")
        self.qs, self.fetch = qs, fetch
        if convert_page is None:
            assert convert is not None
            one = convert
            convert_page = lambda rows: [one(row) for row in rows]
        self.convert_page = convert_page

    def __len__(self) -> int:
        return self.qs.count()

    def count(self) -> int:
        return self.qs.count()

    def __getitem__(self, item: int | slice) -> Any:
        if not isinstance(item, slice):
            return self.convert_page([self.qs[item]])[0]
        if self.fetch is None:
            return self.convert_page(list(self.qs[item]))
        ids = list(self.qs.values_list("pk", flat=True)[item])
        rows = self.fetch(ids)
        return self.convert_page([rows[pk] for pk in ids if pk in rows])
