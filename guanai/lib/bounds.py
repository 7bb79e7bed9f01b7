"""Bounds for integers that come from outside: ids, versions and page numbers in paths, query
strings and bodies.

SQLite and PostgreSQL store ids as signed 64-bit integers. Django turns an equality lookup
beyond that range into "no rows", but Python's sqlite3 cannot bind such a number anywhere else
(an `IN` list, an offset, an insert: OverflowError, a 500) while PostgreSQL compares it as a
numeric. Bounding every integer of the API before any query gives one answer on both databases:
a 422 that names the field. (Pages' `<int:pk>` paths only reach equality lookups: 404.)
"""

from typing import Annotated

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
