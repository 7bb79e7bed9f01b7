"""/api/v1 routes of the 统计报表 app (mounted in guanai/api.py)."""

from ninja import Router

router = Router(tags=["stats"])
