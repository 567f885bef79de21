"""Stored models (POST /v1/models) and their versions (pushed, or made by trainings): one row
each, the document beside the columns its queries need. Not `models`: that table is the
runners' registry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """CREATE TABLE stored_models (
            full_name text COLLATE "C" PRIMARY KEY,
            owner text COLLATE "C" NOT NULL,
            created_at timestamptz NOT NULL,
            data bytea NOT NULL)"""
    )
    # a model's versions list newest first; `model` is its `owner/name`
    op.execute(
        """CREATE TABLE model_versions (
            id text COLLATE "C" PRIMARY KEY,
            model text COLLATE "C" NOT NULL,
            status text NOT NULL,
            created_at timestamptz NOT NULL,
            data bytea NOT NULL)"""
    )
    op.execute(
        "CREATE INDEX model_versions_by_model ON model_versions (model, created_at DESC, id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE model_versions")
    op.execute("DROP TABLE stored_models")
