from django.apps import AppConfig


class PairingConfig(AppConfig):
    name = "guanai.pairing"
    label = "pairing"
    verbose_name = "结对帮扶"
