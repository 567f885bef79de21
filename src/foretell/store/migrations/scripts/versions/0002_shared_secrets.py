"""Secrets every node of a cluster shares (the key that signs file URLs).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        'CREATE TABLE shared_secrets (name text COLLATE "C" PRIMARY KEY, value bytea NOT NULL)'
    )


def downgrade() -> None:
    op.execute("DROP TABLE shared_secrets")
