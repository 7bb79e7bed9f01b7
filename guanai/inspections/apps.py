from django.apps import AppConfig


class InspectionsConfig(AppConfig):
    name = "guanai.inspections"
    label = "inspections"
    verbose_name = "督导检查"
