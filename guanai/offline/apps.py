from django.apps import AppConfig


class OfflineConfig(AppConfig):
    name = "guanai.offline"
    label = "offline"
    verbose_name = "离线使用"

    def ready(self) -> None:
        from guanai.children.validation import FIELD_LABELS

        # The photo route's field, named in Chinese by the API's shared 422 handler.
        FIELD_LABELS.setdefault("photo", "照片")
