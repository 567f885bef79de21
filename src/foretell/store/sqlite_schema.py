"""The embedded store's tables, and the columns added to them since the first release."""

from __future__ import annotations

import sqlite3

from foretell.store.sqlite_library import SCHEMA as LIBRARY_SCHEMA

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    username TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL,
    webhook_secret TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(username),
    label TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS predictions (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS predictions_by_account
    ON predictions (account, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS predictions_by_status ON predictions (status);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, created_at TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS files_by_account ON files (account, created_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id TEXT PRIMARY KEY, prediction_id TEXT NOT NULL, account TEXT NOT NULL,
    status TEXT NOT NULL, next_attempt_at TEXT NOT NULL, created_at TEXT NOT NULL,
    seq INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_pending ON webhook_deliveries (status, prediction_id, seq);
CREATE TABLE IF NOT EXISTS shared_secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS instances (
    holder TEXT PRIMARY KEY, model TEXT NOT NULL, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (
    full_name TEXT PRIMARY KEY, node TEXT NOT NULL, updated_at TEXT NOT NULL,
    data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS deployments (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, release INTEGER NOT NULL,
    created_at TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS deployments_by_owner ON deployments (owner, created_at DESC, id DESC);
"""

#: Columns added after the first release, and what they hold for older rows.
_ADDED_COLUMNS = {
    "predictions": {
        "completed_at": "TEXT",
        "data_removed": "INTEGER NOT NULL DEFAULT 0",
        # who runs it: the runner's id and until when its lease holds
        "owner": "TEXT",
        "lease_expires_at": "TEXT",
        # a cancel was asked for (durable: a runner that claims it later won't run it)
        "cancel_requested": "INTEGER NOT NULL DEFAULT 0",
        "cancel_reason": "TEXT",
        # Cancel-After / lifetime
        "deadline": "TEXT",
        # prediction or training (listed apart)
        "kind": "TEXT NOT NULL DEFAULT 'prediction'",
    },
    "files": {"expires_at": "TEXT"},
}
_INDEXES = """
CREATE INDEX IF NOT EXISTS predictions_to_clean ON predictions (completed_at)
    WHERE data_removed = 0 AND completed_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS files_by_expiry ON files (expires_at);
CREATE INDEX IF NOT EXISTS predictions_by_deadline ON predictions (deadline)
    WHERE deadline IS NOT NULL AND status IN ('starting', 'processing');
CREATE INDEX IF NOT EXISTS predictions_by_lease ON predictions (lease_expires_at)
    WHERE status = 'processing';
CREATE INDEX IF NOT EXISTS predictions_by_kind
    ON predictions (account, kind, created_at DESC, id DESC);
"""


def migrate(db: sqlite3.Connection) -> None:
    """Create what is missing; add the columns older data dirs lack."""
    db.executescript(SCHEMA)
    db.executescript(LIBRARY_SCHEMA)  # stored models and versions
    for table, columns in _ADDED_COLUMNS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, kind in columns.items():
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
    db.executescript(_INDEXES)
