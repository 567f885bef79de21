"""Deployments (Replicate's Deployments API): one row per owner/name, its current release in
the document.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # id is `owner/name`: pages order by (created_at, id) as the other lists do; `release`
    # is the current release's number, the compare-and-set of an update
    op.execute(
        """CREATE TABLE deployments (
            id text COLLATE "C" PRIMARY KEY,
            owner text COLLATE "C" NOT NULL,
            release integer NOT NULL,
            created_at timestamptz NOT NULL,
            data bytea NOT NULL)"""
    )
    op.execute("CREATE INDEX deployments_by_owner ON deployments (owner, created_at DESC, id DESC)")


def downgrade() -> None:
    op.execute("DROP TABLE deployments")
