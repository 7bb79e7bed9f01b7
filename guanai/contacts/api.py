"""/api/v1/contacts and /api/v1/messages."""

from ninja import Router

router = Router(tags=["contacts"])  # mounted at /api/v1/contacts
messages_router = Router(tags=["messages"])  # mounted at /api/v1/messages
