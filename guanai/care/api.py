"""/api/v1 routes of the 心理关爱与儿童保护 app (mounted in guanai/api.py)."""

from ninja import Router

router = Router(tags=["care"])
