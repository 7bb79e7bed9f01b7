"""/api/v1/offline: the offline packet for the phone app (mounted in guanai/api.py)."""

from ninja import Router

router = Router(tags=["offline"])
