"""/api/v1/privacy (mounted in guanai/api.py)."""

from ninja import Router

router = Router(tags=["privacy"])
