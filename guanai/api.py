"""The REST API at /api/v1/: one NinjaAPI, one Router per app, Chinese error bodies."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from guanai.accounts.services import TokenRejected, authenticate_token
from guanai.children.services import StaleVersion
from guanai.children.validation import FIELD_LABELS, CardInvalid

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
# The API's own parameter names (card and contact fields are in FIELD_LABELS).
PARAM_LABELS = {
    "page": "页码",
    "page_size": "每页条数",
    "child_id": "儿童编号",
    "contact_id": "联系记录编号",
    "message_id": "消息编号",
    "round_id": "轮次编号",
    "campaign_id": "摸底排查编号",
    "job_id": "导入编号",
    "pair_id": "结对编号",
    "pairs": "结对",
    "buddy": "帮扶伙伴",
    "assignment_id": "指定编号",
    "proxy_id": "代理家长编号",
    "token_id": "令牌编号",
    "town": "镇",
    "valid_from": "起始日期",
    "valid_to": "截止日期",
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


api = NinjaAPI(
    title="关爱 Guanai API",
    version="1",
    description="留守儿童关爱管理系统 API。所有数据按用户范围返回；范围以外一律 404。",
    auth=[BearerAuth(), SessionAuth()],
    urls_namespace="api",
)


def _detail(loc: list[Any], message: str) -> dict[str, Any]:
    field = ".".join(str(p) for p in loc if p not in ("body", "query", "path", "payload"))
    field = field.removeprefix("data.")
    base = ".".join(p for p in field.split(".") if not p.isdigit())  # children.3 → children
    labels = [FIELD_LABELS.get(k) or PARAM_LABELS.get(k) for k in (field, base)]
    label = next((x for x in labels if x), field)
    return {"loc": loc, "field": field, "msg": f"{label}：{message}" if label else message}


@api.exception_handler(NinjaValidationError)
def on_validation_error(request: HttpRequest, exc: NinjaValidationError):
    details = []
    for err in exc.errors:
        message = PYDANTIC_MESSAGES.get(err.get("type", ""), "格式不对")
        if err.get("type") == "less_than_equal":
            message += f"，不能超过 {err['ctx']['le']}"
        if err.get("type") == "value_error" and err.get("ctx", {}).get("error"):
            message = str(err["ctx"]["error"])
        loc = [p for p in err.get("loc", []) if p != "payload"]
        details.append(_detail(list(loc), message))
    return api.create_response(request, {"detail": details}, status=422)


@api.exception_handler(CardInvalid)
def on_card_invalid(request: HttpRequest, exc: CardInvalid):
    details = []
    for k, v in exc.errors.items():
        label = FIELD_LABELS.get(k, k)  # a message that names its field is not named twice
        msg = v if v.startswith(label) else f"{label}：{v}"
        details.append({"loc": [exc.source, *k.split(".")], "field": k, "msg": msg})
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


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError):
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


# Routers are mounted after the handlers above exist (their modules import this one's helpers).
from guanai.accounts.api import router as accounts_router
from guanai.children.api import router as children_router
from guanai.contacts import api as contacts_api
from guanai.contacts import api_rounds as contacts_rounds_api
from guanai.pairing import api as pairing_api
from guanai.pairing.api import router as pairing_router
from guanai.screening import api as screening_api

api.add_router("/auth", accounts_router)
api.add_router("/children", children_router)
api.add_router("/contacts", contacts_api.router)
api.add_router("/messages", contacts_api.messages_router)
api.add_router("/visit-rounds", contacts_rounds_api.rounds_router)
api.add_router("/screenings", screening_api.screenings_router)
api.add_router("/verifications", screening_api.verifications_router)
api.add_router("/imports", screening_api.imports_router)
api.add_router("/pairs", pairing_router)
api.add_router("/responsibilities", pairing_api.responsibilities_router)
api.add_router("/proxy-parents", pairing_api.proxy_parents_router)
