"""Trainings are predictions of another kind: a `kind` column (prediction or training), so
GET /v1/predictions and GET /v1/trainings each page through their own, in index order.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE predictions ADD COLUMN kind text NOT NULL DEFAULT 'prediction'")
    op.execute(
        "CREATE INDEX predictions_by_kind ON predictions (account, kind, created_at DESC, id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX predictions_by_kind")
    op.execute("ALTER TABLE predictions DROP COLUMN kind")
