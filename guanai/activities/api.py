"""/api/v1/activities, /api/v1/donations, /api/v1/homes (留守儿童之家); mounted in guanai/api.py."""

from ninja import Router

activities_router = Router(tags=["activities"])
donations_router = Router(tags=["donations"])
homes_router = Router(tags=["homes"])
