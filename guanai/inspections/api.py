"""/api/v1 routes of the 督导检查 app (mounted in guanai/api.py)."""

from ninja import Router

router = Router(tags=["inspections"])
