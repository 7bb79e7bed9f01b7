from django.apps import AppConfig

# Chinese names of the contact fields, for the 422 messages of the shared API handlers.
FIELD_LABELS = {
    "child": "儿童",
    "kind": "联系方式",
    "at": "联系时间",
    "with_whom": "联系对象",
    "follow_up_by": "跟进截止日期",
    "note": "跟进结果",
    "findings": "发现的情况",
    "photos": "照片",
    "since": "起始时间",
    "until": "截止时间",
    "by": "联系人",
    "rule": "频次规则",
    "on": "日期",
    "mine": "我的学生",
    "teacher": "责任教师",
    "text": "消息内容",
    "gateway": "发送通道",
    "children": "儿童",
    "kinds": "联系方式",
    "period": "频次",
    "days": "天数",
    "categories": "儿童类别",
    "code": "规则",
    "title": "标题",
    "body": "正文",
    "template": "模板",
    "receipt_text": "回执内容",
}
for _area, _label in (("study", "学习"), ("life", "生活"), ("psych", "心理"), ("safety", "安全")):
    FIELD_LABELS[f"findings.{_area}"] = f"{_label}情况"
    FIELD_LABELS[f"findings.{_area}.level"] = f"{_label}情况等级"
    FIELD_LABELS[f"findings.{_area}.text"] = f"{_label}情况说明"


class ContactsConfig(AppConfig):
    name = "guanai.contacts"
    label = "contacts"
    verbose_name = "家校联系"

    def ready(self) -> None:
        from guanai.children.validation import FIELD_LABELS as SHARED_LABELS

        # Add (never replace) labels, so the API's shared 422 handler names our fields in
        # Chinese too.
        for key, label in FIELD_LABELS.items():
            SHARED_LABELS.setdefault(key, label)
        from . import tasks  # noqa: F401 — registers the job handlers with the worker
