"""/api/v1/villages (mounted in guanai/api.py)."""

from ninja import Router

router = Router(tags=["villages"])
