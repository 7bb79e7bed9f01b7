"""The REST API at /api/v1/: one NinjaAPI, one Router per app, one convention for errors.

401 without a login or token, 404 for anything outside the user's scope, 403 for an action the
role may not take, 409 for a stale version, and 422 for bad input: `{"detail": [{"loc", "field",
"msg"}, …]}` naming each field in Chinese (guanai/api_common.py), whether ninja's validation
found it or a service raised lib.errors.Invalid. Scope comes before the body: see
`_scope_before_body`.
"""

import logging
from functools import partial
from typing import Any

import pydantic
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from guanai.accounts.services import TokenRejected, authenticate_token
from guanai.api_common import detail_item
from guanai.children.services import StaleVersion
from guanai.lib.errors import Invalid

logger = logging.getLogger(__name__)

PYDANTIC_MESSAGES = {
    "missing": "必填",
    "extra_forbidden": "不是可以提交的字段",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "date_from_datetime_parsing": "日期格式不对，应为 2015-03-02",
    "date_parsing": "日期格式不对，应为 2015-03-02",
    "date_from_datetime_inexact": "日期格式不对，应为 2015-03-02",
    "datetime_parsing": "时间格式不对，应为 ISO 8601，如 2026-11-29T10:00:00",
    "datetime_from_date_parsing": "时间格式不对，应为 ISO 8601，如 2026-11-29T10:00:00",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字",
    "string_too_long": "太长了",
    "list_type": "应为列表",
    "model_attributes_type": "应为对象",
    "dict_type": "应为对象",
    "json_invalid": "请求体不是合法的 JSON",
    "greater_than_equal": "数值太小",
    "less_than_equal": "数值太大",
}


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>`; the token's SHA-256 is looked up (guanai.accounts)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        try:
            user = authenticate_token(key=token)
        except TokenRejected as exc:  # expired or revoked: say so, in Chinese
            raise HttpError(401, str(exc)) from exc
        if user is not None:
            request.user = user
        return user


class GuanaiAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        """`guanai_<app>_api_<function>`, whichever of the app's `api*.py` modules holds the
        route: an operation id does not change when a module is split by topic."""
        app = operation.view_func.__module__.split(".")[1]
        return f"guanai_{app}_api_{operation.view_func.__name__}"


api = GuanaiAPI(
    title="关爱 Guanai API",
    version="1",
    description="留守儿童关爱管理系统 API。所有数据按用户范围返回；范围以外一律 404。",
    auth=[BearerAuth(), SessionAuth()],
    urls_namespace="api",
)


def _route(request: HttpRequest) -> str:
    """The mount prefix of the routes a request went to ("/pairs"): which words name its
    fields (api_common.ROUTE_LABELS)."""
    rest = request.path.removeprefix(reverse("api:api-root"))
    return "/" + rest.split("/", 1)[0]


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError):
    route, details = _route(request), []
    for err in exc.errors:
        message = PYDANTIC_MESSAGES.get(err.get("type", ""), "格式不对")
        if err.get("type") == "less_than_equal":
            message += f"，不能超过 {err['ctx']['le']}"
        if err.get("type") == "value_error" and err.get("ctx", {}).get("error"):
            message = str(err["ctx"]["error"])
        loc = [p for p in err.get("loc", []) if p != "payload"]  # the body parameter's name
        field = ".".join(str(p) for p in loc[1:]).removeprefix("data.")  # after body, query …
        details.append(detail_item(loc, field, message, route=route))
    return api.create_response(request, {"detail": details}, status=422)


@api.exception_handler(Invalid)
def on_invalid(request: HttpRequest, exc: Invalid):
    """A service's or a view's field errors (CardInvalid and pairing's Invalid are this)."""
    route = _route(request)
    details = [
        detail_item([exc.source, *key.split(".")], key, message, route=route)
        for key, message in exc.errors.items()
    ]
    return api.create_response(request, {"detail": details}, status=422)


@api.exception_handler(StaleVersion)
def on_stale(request: HttpRequest, exc: StaleVersion):
    detail = str(exc) or "此档卡已被他人修改，请重新读取后再保存（version 已过期）"
    return api.create_response(request, {"detail": detail}, status=409)


@api.exception_handler(OverflowError)
def on_overflow(request: HttpRequest, exc: OverflowError):
    """The safety net under guanai.lib.bounds: a number SQLite cannot bind (a route that forgot
    its bounded type) is the client's error, not a 500."""
    logger.warning(
        "Integer beyond 64 bits reached the database: %s %s", request.method, request.path
    )
    return api.create_response(request, {"detail": "数值超出范围"}, status=422)


@api.exception_handler(Http404)
def on_404(request: HttpRequest, exc: Http404):
    return api.create_response(request, {"detail": "未找到"}, status=404)


@api.exception_handler(PermissionDenied)
def on_403(request: HttpRequest, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or "没有权限"}, status=403)


@api.exception_handler(AuthenticationError)
def on_401(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(request, {"detail": "请先登录或提供有效的令牌"}, status=401)


# django-ninja's own words for a session request without a valid CSRF token, and ours. The
# offline app (static/offline/app.js) keeps such a record to send again: it was not refused.
NINJA_CSRF_FAILED = "CSRF check Failed"
CSRF_FAILED = "安全校验未通过（CSRF 令牌缺失或已过期）：请刷新页面后再试"


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError):
    detail = str(exc)
    if exc.status_code == 403 and detail == NINJA_CSRF_FAILED:
        detail = CSRF_FAILED
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


# --- scope before the body -------------------------------------------------------------------
# ninja validates every parameter, the body included, before the view runs, so a bad body would
# answer 422 where the route must answer 404 (an id outside the user's scope) or 403 (a read-only
# role, whatever she sends): scope comes first (docs/architecture.md, SPEC §6.3). Every write
# view looks up its target through scope and checks the role before it reads its body. So when
# only the body is bad, the view still runs, given a stand-in for the body that raises the
# validation error the first time it is touched: a 404 or 403 raised before that is the answer,
# else the 422. What the view did before touching the body is rolled back, and a view that
# never touches it answers the 422 too. Path and query parameters are validated first as before
# (a malformed id names nothing in scope). This is the simplest robust place: ninja has no
# dependencies to check scope in, body schemas stay the documented contract, and no route needs
# a second copy of its scope rules. It wraps ninja's Operation._get_values; an upgrade that
# renames it fails guanai/tests/test_scope_before_body.py.

BODY_SOURCES = frozenset({"body", "form", "file"})


class _UnreadBody:
    """A body (or a form field) that failed validation: reading it raises the error."""

    __slots__ = ("_error",)

    def __init__(self, error: Exception) -> None:
        object.__setattr__(self, "_error", error)

    def _raise(self, *args: Any, **kwargs: Any) -> Any:
        raise object.__getattribute__(self, "_error")

    __getattr__ = __setattr__ = __getitem__ = __iter__ = __len__ = __contains__ = _raise
    __bool__ = __str__ = __eq__ = __hash__ = __int__ = __lt__ = __gt__ = _raise


class _Unread(Exception):
    """A view ran to its end without reading its bad body."""


def _scope_answer(exc: Exception) -> bool:
    """Whether a view's exception is a scope or role answer that comes before the body."""
    if isinstance(exc, Http404 | PermissionDenied):
        return True
    return isinstance(exc, HttpError) and exc.status_code in (403, 404)


def _values_after_scope(operation: Any, get_values: Any, request, path_params, response):
    """ninja's parameter values, or — when only the body is bad — the view's scope answer."""
    try:
        return get_values(request, path_params, response)
    except (NinjaValidationError, HttpError) as exc:
        if isinstance(exc, HttpError):
            body_only = exc.status_code == 400  # a body that is not JSON at all
        else:
            body_only = all(e["loc"][0] in BODY_SOURCES for e in exc.errors)
        if not body_only:
            raise
        values: dict[str, Any] = {}
        try:
            for model in operation.models:
                if model.__ninja_param_source__ in BODY_SOURCES:
                    values |= dict.fromkeys(model.model_fields, _UnreadBody(exc))
                else:
                    values.update(model.resolve(request, operation.api, path_params))
        except pydantic.ValidationError:
            raise exc from None
        if operation.signature.response_arg:
            values[operation.signature.response_arg] = response
        try:
            with transaction.atomic():
                operation.view_func(request, **values)
                raise _Unread  # it never read the body: undo what it did, the 422 stands
        except Exception as answer:
            if _scope_answer(answer):
                raise answer from None
        raise


def _scope_before_body(run: Any) -> Any:
    """Installed on every operation (api.add_decorator hands over each bound `run`): the
    operation finds its parameter values through `_values_after_scope`."""
    operation = run.__self__
    operation._get_values = partial(_values_after_scope, operation, operation._get_values)
    return run


api.add_decorator(_scope_before_body, mode="view")


# Routers are mounted after the handlers above exist (their modules import this one's helpers).
from guanai.accounts.api import router as accounts_router
from guanai.activities import api as activities_api
from guanai.activities.api_donations import donations_router
from guanai.activities.api_homes import homes_router
from guanai.care import api as care_api
from guanai.children.api import router as children_router
from guanai.contacts import api as contacts_api
from guanai.contacts import api_rounds as contacts_rounds_api
from guanai.inspections.api import router as inspections_router
from guanai.inspections.api_rectifications import rectifications_router
from guanai.offline.api import router as offline_router
from guanai.pairing import api as pairing_api
from guanai.pairing.api import router as pairing_router
from guanai.privacy.api import router as privacy_router
from guanai.protection import api as protection_api
from guanai.screening import api as screening_api
from guanai.screening import api_imports as screening_imports_api
from guanai.screening import api_verify as screening_verify_api
from guanai.stats.api import router as stats_router
from guanai.villages.api import router as villages_router

api.add_router("/auth", accounts_router)
api.add_router("/children", children_router)
api.add_router("/contacts", contacts_api.router)
api.add_router("/messages", contacts_api.messages_router)
api.add_router("/visit-rounds", contacts_rounds_api.rounds_router)
api.add_router("/screenings", screening_api.screenings_router)
api.add_router("/verifications", screening_verify_api.verifications_router)
api.add_router("/imports", screening_imports_api.imports_router)
api.add_router("/pairs", pairing_router)
api.add_router("/responsibilities", pairing_api.responsibilities_router)
api.add_router("/proxy-parents", pairing_api.proxy_parents_router)
api.add_router("/inspections", inspections_router)
api.add_router("/rectifications", rectifications_router)
api.add_router("/stats", stats_router)
api.add_router("/psych", care_api.router)
api.add_router("/activities", activities_api.activities_router)
api.add_router("/donations", donations_router)
api.add_router("/homes", homes_router)
api.add_router("/offline", offline_router)
api.add_router("/incidents", protection_api.incidents_router)
api.add_router("/dropout-cases", protection_api.dropout_router)
api.add_router("/alerts", protection_api.alerts_router)
api.add_router("/villages", villages_router)
api.add_router("/privacy", privacy_router)
