from django.apps import AppConfig


class VillagesConfig(AppConfig):
    name = "guanai.villages"
    label = "villages"
    verbose_name = "村儿童主任"
