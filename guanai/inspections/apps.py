from django.apps import AppConfig

LABELS = {
    "school": "学校",
    "planned_on": "计划日期",
    "sample_size": "抽样人数",
    "seed": "随机种子",
    "status": "状态",
    "child": "儿童",
    "visited": "是否入户走访",
    "met_whom": "见到的人",
    "notes": "备注",
    "checks": "核对项",
    "checks.field": "核对项目",
    "checks.correct": "是否正确",
    "checks.found": "实际情况",
    "accept": "是否采纳",
    "correction": "更正",
    "inspection": "督导检查",
    "inspection_id": "检查编号",
    "check_id": "核对项编号",
    "item_id": "整改事项编号",
    "title": "整改事项",
    "owner": "责任人",
    "due_on": "整改期限",
    "evidence": "整改情况",
    "finding": "走访结果",
    "previous": "上次检查",
    "checklist_item": "检查项目",
    "titles": "检查项目",
    "inspectors": "检查人员",
    "meeting_attendees": "座谈会参加人员",
    "meeting_points": "座谈会意见",
    "checklist_item_id": "检查项目编号",
    "attachment_id": "附件编号",
    "file_id": "附件编号",
    "files": "附件",
}


class InspectionsConfig(AppConfig):
    name = "guanai.inspections"
    label = "inspections"
    verbose_name = "督导检查"

    def ready(self) -> None:
        from guanai.api_common import ROUTE_LABELS

        ROUTE_LABELS["/inspections"] = LABELS
        ROUTE_LABELS["/rectifications"] = LABELS
