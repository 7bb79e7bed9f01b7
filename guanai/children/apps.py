from django.apps import AppConfig


class ChildrenConfig(AppConfig):
    name = "guanai.children"
    label = "children"
    verbose_name = "一人一卡"
