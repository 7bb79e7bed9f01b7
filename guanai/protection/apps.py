from django.apps import AppConfig

INCIDENT_LABELS = {
    "child": "儿童",
    "observed_at": "发现时间",
    "source": "怎么知道的",
    "harm_kind": "疑似侵害类型",
    "what": "看到或听到的情况",
    "told": "已报告部门",
    "told_at": "报告部门时间",
    "receipt_no": "回执编号",
    "outcome": "处理结果",
    "on": "日期",
    "note": "跟进情况",
    "open": "未结",
    "incident_id": "报告编号",
}
DROPOUT_LABELS = {
    "child": "儿童",
    "absent_since": "开始缺课日期",
    "absent_days": "缺课天数",
    "reason_asked": "了解到的原因",
    "on": "日期",
    "by": "劝返人员",
    "with_whom": "见到谁",
    "result": "劝返结果",
    "status": "结案方式",
    "note": "结案说明",
    "school": "学校",
    "case_id": "记录编号",
}
ALERT_LABELS = {"action": "采取的措施", "child_id": "儿童编号"}


class ProtectionConfig(AppConfig):
    name = "guanai.protection"
    label = "protection"
    verbose_name = "儿童保护"

    def ready(self) -> None:
        from guanai.api_common import ROUTE_LABELS

        ROUTE_LABELS["/incidents"] = INCIDENT_LABELS
        ROUTE_LABELS["/dropout-cases"] = DROPOUT_LABELS
        ROUTE_LABELS["/alerts"] = ALERT_LABELS
