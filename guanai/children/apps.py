from django.apps import AppConfig


class ChildrenConfig(AppConfig):
    name = "guanai.children"
    label = "children"
    verbose_name = "一人一卡"

    def ready(self) -> None:
        from . import tasks  # noqa: F401 — registers the school cards job with the worker
