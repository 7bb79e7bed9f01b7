from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "guanai.care"
    label = "care"
    verbose_name = "心理关爱"

    def ready(self) -> None:
        from guanai.api_common import ROUTE_LABELS

        ROUTE_LABELS["/psych"] = {
            "child": "学生",
            "obs_id": "心理观察编号",
            "level": "关注程度",
            "what": "看到的情况",
            "referral": "转介",
            "next_review_on": "下次回访日期",
            "notes": "辅导记录",
            "at": "时间",
            "instrument": "问卷",
            "answers": "作答",
        }
