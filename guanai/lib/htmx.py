"""Whether a request asks for a fragment of a page (HTMX) rather than the whole page.

Every view that answers HTMX swaps with a partial template asks here, so the rule is one:
an HTMX request that is not a boosted navigation (a boosted link wants the whole page), and,
when the view serves several fragments, the one named by `?partial=`.
"""

from django.http import HttpRequest


def is_partial(request: HttpRequest, part: str | None = None) -> bool:
    """True when `request` came from HTMX for a fragment (and for fragment `part`, when given:
    the query string's `partial`)."""
    htmx = getattr(request, "htmx", None)
    if not htmx or htmx.boosted:
        return False
    return part is None or request.GET.get("partial") == part
