"""`is_partial`: one rule for "answer with a fragment"."""

from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from guanai.lib.htmx import is_partial


def _request(query: str = "", **headers: str):
    request = RequestFactory().get("/x/" + query, **headers)
    request.htmx = HtmxDetails(request)
    return request


def test_plain_request_gets_the_whole_page():
    assert is_partial(_request()) is False


def test_htmx_request_gets_a_fragment():
    assert is_partial(_request(HTTP_HX_REQUEST="true")) is True


def test_boosted_navigation_gets_the_whole_page():
    assert is_partial(_request(HTTP_HX_REQUEST="true", HTTP_HX_BOOSTED="true")) is False


def test_named_fragment_only_when_asked_for():
    assert is_partial(_request("?partial=table", HTTP_HX_REQUEST="true"), "table") is True
    assert is_partial(_request("?partial=found", HTTP_HX_REQUEST="true"), "table") is False
    assert is_partial(_request("?partial=table"), "table") is False


def test_request_without_the_middleware_is_whole_page():
    assert is_partial(RequestFactory().get("/x/")) is False
