from django.apps import AppConfig


class ProtectionConfig(AppConfig):
    name = "guanai.protection"
    label = "protection"
    verbose_name = "儿童保护"
