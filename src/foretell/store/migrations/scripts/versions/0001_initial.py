"""Every table of the cluster store, and the indexes its queries use.

Revision ID: 0001
Revises:
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Ids and names compare byte-wise (COLLATE "C", as SQLite does): cursors order by id, and
# a locale's collation would order them differently and compare them more slowly.
# Documents are bytea: the engine-neutral codecs' JSON, written and read as it is (no
# jsonb parse and re-render on every write of the hot path; nothing queries inside them).
_TABLES = [
    """CREATE TABLE accounts (
        username text COLLATE "C" PRIMARY KEY,
        name text NOT NULL,
        type text NOT NULL,
        webhook_secret text NOT NULL,
        created_at timestamptz NOT NULL)""",
    """CREATE TABLE tokens (
        hash text COLLATE "C" PRIMARY KEY,
        account text COLLATE "C" NOT NULL,
        label text NOT NULL,
        created_at timestamptz NOT NULL)""",
    """CREATE TABLE predictions (
        id text COLLATE "C" PRIMARY KEY,
        account text COLLATE "C" NOT NULL,
        status text NOT NULL,
        created_at timestamptz NOT NULL,
        completed_at timestamptz,
        data_removed boolean NOT NULL DEFAULT false,
        owner text,
        lease_expires_at timestamptz,
        cancel_requested boolean NOT NULL DEFAULT false,
        cancel_reason text,
        deadline timestamptz,
        data bytea NOT NULL)""",
    """CREATE TABLE files (
        id text COLLATE "C" PRIMARY KEY,
        account text COLLATE "C" NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        data bytea NOT NULL)""",
    """CREATE TABLE webhook_deliveries (
        id text COLLATE "C" PRIMARY KEY,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        prediction_id text COLLATE "C" NOT NULL,
        account text COLLATE "C" NOT NULL,
        status text NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL,
        data bytea NOT NULL)""",
    """CREATE TABLE models (
        full_name text COLLATE "C" PRIMARY KEY,
        node text NOT NULL,
        updated_at timestamptz NOT NULL,
        data bytea NOT NULL)""",
]

_OPEN = "status IN ('starting', 'processing')"

_INDEXES = [
    # newest-first pages and their cursors: (created_at, id) < (cursor) per account
    "CREATE INDEX predictions_by_account ON predictions (account, created_at DESC, id DESC)",
    "CREATE INDEX files_by_account ON files (account, created_at DESC, id DESC)",
    # restart recovery, deadlines, runners that died, retention
    f"CREATE INDEX predictions_unfinished ON predictions (created_at, id) WHERE {_OPEN}",
    "CREATE INDEX predictions_by_deadline ON predictions (deadline) "
    f"WHERE deadline IS NOT NULL AND {_OPEN}",
    "CREATE INDEX predictions_by_lease ON predictions (lease_expires_at) "
    "WHERE status = 'processing'",
    "CREATE INDEX predictions_to_clean ON predictions (completed_at) "
    "WHERE NOT data_removed AND completed_at IS NOT NULL",
    "CREATE INDEX files_by_expiry ON files (expires_at)",
    # the outbox: due rows, and each prediction's oldest pending one
    "CREATE INDEX deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'",
    "CREATE INDEX deliveries_pending ON webhook_deliveries (prediction_id, seq) "
    "WHERE status = 'pending'",
    "CREATE INDEX deliveries_of_prediction ON webhook_deliveries (account, prediction_id, seq)",
]


def upgrade() -> None:
    for statement in (*_TABLES, *_INDEXES):
        op.execute(statement)


def downgrade() -> None:
    for table in ("models", "webhook_deliveries", "files", "predictions", "tokens", "accounts"):
        op.execute(f"DROP TABLE {table}")
