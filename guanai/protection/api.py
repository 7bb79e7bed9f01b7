"""/api/v1/incidents (强制报告), /api/v1/dropout-cases (控辍保学), /api/v1/alerts (独居 / 脱离监护);
mounted in guanai/api.py."""

from ninja import Router

incidents_router = Router(tags=["incidents"])
dropout_router = Router(tags=["dropout-cases"])
alerts_router = Router(tags=["alerts"])
