"""Persistence: the Store protocol. The engines (foretell.store.sqlite, foretell.store.postgres)
are imported by name where they are chosen (foretell.engines), never from here."""

from __future__ import annotations

from foretell.store.protocol import FileRecord, Page, Store, TokenRecord, WebhookDelivery

__all__ = [
    "FileRecord",
    "Page",
    "Store",
    "TokenRecord",
    "WebhookDelivery",
]
