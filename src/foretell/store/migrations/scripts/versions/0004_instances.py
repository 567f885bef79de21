"""Instances of models across the cluster: one row per running instance, held with a lease,
so that no more than a model's max_instances run on all workers together.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        'CREATE TABLE instances (holder text COLLATE "C" PRIMARY KEY, '
        'model text COLLATE "C" NOT NULL, expires_at timestamptz NOT NULL)'
    )
    op.execute("CREATE INDEX instances_by_model ON instances (model, expires_at)")


def downgrade() -> None:
    op.execute("DROP TABLE instances")
