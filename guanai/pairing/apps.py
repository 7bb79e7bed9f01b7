from django.apps import AppConfig


class PairingConfig(AppConfig):
    name = "guanai.pairing"
    label = "pairing"
    verbose_name = "结对帮扶"

    def ready(self) -> None:
        from guanai.children.signals import child_leaves_pairs

        from .services import end_pairs_on_signal

        child_leaves_pairs.connect(end_pairs_on_signal, dispatch_uid="pairing.end_pairs")
