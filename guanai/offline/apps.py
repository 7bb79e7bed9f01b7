from django.apps import AppConfig


class OfflineConfig(AppConfig):
    name = "guanai.offline"
    label = "offline"
    verbose_name = "离线使用"
