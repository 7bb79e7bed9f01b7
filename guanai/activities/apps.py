from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "guanai.activities"
    label = "activities"
    verbose_name = "关爱活动"
