from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "guanai.stats"
    label = "stats"
    verbose_name = "统计报表"

    def ready(self) -> None:
        from guanai.api_common import ROUTE_LABELS

        from . import tasks  # noqa: F401 — registers the worker's nightly day counts

        ROUTE_LABELS["/stats"] = {
            "school": "学校",
            "grade": "年级",
            "class_no": "班级",
            "as_of": "统计日期",
            "term": "学期",
        }
