"""/api/v1/screenings, /api/v1/verifications and /api/v1/imports."""

from ninja import Router

screenings_router = Router(tags=["screenings"])  # mounted at /api/v1/screenings
verifications_router = Router(tags=["verifications"])  # mounted at /api/v1/verifications
imports_router = Router(tags=["imports"])  # mounted at /api/v1/imports
