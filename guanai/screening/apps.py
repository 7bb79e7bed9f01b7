from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "guanai.screening"
    label = "screening"
    verbose_name = "摸底排查与核实"

    def ready(self) -> None:
        from . import tasks  # noqa: F401 — registers the job handlers
