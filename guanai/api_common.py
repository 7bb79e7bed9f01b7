"""What every router of the API shares for bad input: the 422 schema and the one registry of
the Chinese names of fields and parameters (issue #11: one API convention).

A bad body, query or path answers 422 `{"detail": [{"loc", "field", "msg"}, …]}` (SPEC §6.3):
one item per field, its message in Chinese starting with the field's name. Services and views
raise lib.errors.Invalid ({field: message}); guanai/api.py turns it, and ninja's own validation
errors, into that body with `detail_item`. Kept apart from guanai/api.py, which imports every
router, so that the routers can import this without a cycle.
"""

from typing import Any

from ninja import Schema

from guanai.children.validation import FIELD_LABELS


class ErrorItem(Schema):
    loc: list[str | int]
    field: str
    msg: str


class ErrorsOut(Schema):
    """The 422 body: each bad field named, in Chinese."""

    detail: list[ErrorItem]


# --- the names of fields --------------------------------------------------------------------
# Looked up in this order: the words of the routes the request went to (ROUTE_LABELS, by the
# mount prefix: a round has a 名称 where a person has a 姓名), the card's and the contacts'
# fields (children.validation.FIELD_LABELS, which contacts' AppConfig extends), then PARAMS.

PARAMS = {
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
PAIRING = {
    "teacher": "跟踪教师",
    "kind": "类型",
    "user": "人员",
    "school": "学校",
    "grade": "年级",
    "class_no": "班级",
    "school_class": "班级",
    "term": "学期",
    "valid_from": "起始日期",
    "valid_to": "截止日期",
    "assignment": "指定",
    "responsible_teacher": "责任教师",
    "name": "姓名",
    "phone": "电话",
    "village": "居住村",
    "address": "住址",
    "notes": "备注",
    "username": "登录名",
    "password": "初始密码",
    "declared": "声明",
    "declared_on": "声明日期",
    "child": "儿童",
    "proxy": "代理家长",
    "reason": "原因",
}
SCREENING = {
    "term": "学期",
    "vacation": "假期",
    "deadline": "截止日期",
    "reason": "原因",
    "file": "文件",
    "school": "学校",
    "child": "学生",
    "campaign": "摸底排查",
    "round": "核实",
    "grade": "年级",
    "groups": "信息组",
    "job": "导入",
    "destination": "假期去向",
    "place": "去向地点",
    "with_whom": "看护人",
    "contact_phone": "看护人电话",
    "activities": "活动安排",
    "pledge_returned": "责任书交回",
    "pledge_returned_on": "交回日期",
    "pledge_items": "责任书条目",
}
VISIT_ROUNDS = {
    "name": "名称",
    "since": "开始日期",
    "until": "结束日期",
    "notes": "说明",
    "school": "学校",
    "town": "镇",
}
ACCESS_REQUESTS = {
    "kind": "查看内容",
    "reason": "理由",
    "hours": "时长",
    "note": "审批意见",
    "approve": "是否批准",
    "child_id": "学生",
    "request_id": "申请",
}
ROUTE_LABELS: dict[str, dict[str, str]] = {
    "/auth": ACCESS_REQUESTS,
    "/pairs": PAIRING,
    "/responsibilities": PAIRING,
    "/proxy-parents": PAIRING,
    "/screenings": SCREENING,
    "/verifications": SCREENING,
    "/imports": SCREENING,
    "/visit-rounds": VISIT_ROUNDS,
}


def label(key: str, *, route: str = "") -> str | None:
    """The Chinese name of a field (`since`, `father.status`, `children.3` as `children`) on
    the routes mounted at `route` ("/pairs"); None when it has none."""
    words = ROUTE_LABELS.get(route, {})
    base = ".".join(p for p in key.split(".") if not p.isdigit())  # children.3 → children
    for k in dict.fromkeys((key, base)):
        found = words.get(k) or FIELD_LABELS.get(k) or PARAMS.get(k)
        if found:
            return found
    return None


def detail_item(loc: list[Any], key: str, message: str, *, route: str = "") -> dict[str, Any]:
    """One item of a 422 `detail`: the message starts with the field's name, once (a message
    that already names it is left as it is)."""
    name = label(key, route=route) or key
    if not name or message.startswith(name):
        return {"loc": loc, "field": key, "msg": message}
    return {"loc": loc, "field": key, "msg": f"{name}：{message}"}
