from django.apps import AppConfig

LABELS = {
    "school": "学校",
    "kind": "类型",
    "title": "活动名称",
    "goal": "活动目标",
    "starts_on": "开始日期",
    "ends_on": "结束日期",
    "place": "地点",
    "organiser": "组织者",
    "partners": "合作单位",
    "budget": "预算",
    "summary": "活动总结",
    "children": "儿童",
    "child": "儿童",
    "present": "是否到场",
    "term": "学期",
    "activity_id": "活动编号",
    "donation_id": "捐赠编号",
    "home_id": "儿童之家编号",
    "donor": "捐赠方",
    "donor_kind": "捐赠方类型",
    "donor_contact": "联系方式",
    "item": "物品",
    "amount": "数量",
    "received_on": "接收日期",
    "notes": "备注",
    "what": "发放内容",
    "handed_on": "发放日期",
    "handed_by": "经手人",
    "receipt_code": "签收单号",
    "reason": "说明",
    "name": "名称",
    "opening_hours": "开放时间",
    "equipment": "设施",
    "action": "操作",
    "with_whom": "通话的家长",
    "month": "月份",
    "stories": "匿名故事",
    "photo": "照片",
    "photos": "照片",
    "photo_id": "照片编号",
    "channel": "发布渠道",
    "issued_on": "发布日期",
    "on": "值班日期",
    "starts_at": "开始时间",
    "ends_at": "结束时间",
    "staff": "值班人员",
    "days": "天数",
    "list": "名单",
}


class ActivitiesConfig(AppConfig):
    name = "guanai.activities"
    label = "activities"
    verbose_name = "关爱活动"

    def ready(self) -> None:
        from guanai.api_common import ROUTE_LABELS

        for prefix in ("/activities", "/donations", "/homes"):
            ROUTE_LABELS[prefix] = LABELS
