from django.apps import AppConfig

# The Chinese names of the fields of /api/v1/privacy, for its 422 answers (guanai/api_common.py).
FIELD_LABELS = {
    "child": "儿童",
    "kind": "请求类型",
    "received_on": "收到日期",
    "requester": "提出人姓名",
    "relation": "与儿童的关系",
    "asked": "请求内容",
    "status": "状态",
    "reply": "答复与处理情况",
    "replied_on": "答复日期",
    "overdue": "是否超期",
    "request_id": "请求编号",
}


class PrivacyConfig(AppConfig):
    name = "guanai.privacy"
    label = "privacy"
    verbose_name = "个人信息保护"

    def ready(self) -> None:
        from guanai.api_common import ROUTE_LABELS

        ROUTE_LABELS.setdefault("/privacy", {}).update(FIELD_LABELS)
