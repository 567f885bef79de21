"""Persistence: the Store protocol and its engines (SQLite embedded; PostgreSQL to come)."""

from __future__ import annotations

import pathlib

from foretell.store.protocol import FileRecord, Page, Store, TokenRecord, WebhookDelivery
from foretell.store.sqlite import SQLiteStore


def open_store(url: str) -> Store:
    """Open a store by URL: `sqlite:///path/to/foretell.db`."""
    if url.startswith("sqlite:///"):
        return SQLiteStore(pathlib.Path(url.removeprefix("sqlite:///")))
    raise ValueError(f"unsupported store URL {url!r}: use sqlite:///PATH")


__all__ = [
    "FileRecord",
    "Page",
    "SQLiteStore",
    "Store",
    "TokenRecord",
    "WebhookDelivery",
    "open_store",
]
