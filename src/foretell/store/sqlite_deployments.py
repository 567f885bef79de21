"""Deployments in the embedded store: one row per `owner/name`, the document beside the
columns its queries need (owner, the current release's number, created_at)."""

from __future__ import annotations

import sqlite3

from foretell.core.deployments import Deployment
from foretell.store.deployments_codec import dump_deployment, load_deployment


def created_text(deployment: Deployment) -> str:
    """created_at as stored: fixed-width, so text order is time order (and cursors match)."""
    return deployment.created_at.isoformat(timespec="microseconds")


def insert(db: sqlite3.Connection, deployment: Deployment) -> bool:
    """Insert; False, with nothing written, if `owner/name` is taken."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO deployments (id, owner, release, created_at, data) "
        "VALUES (?, ?, ?, ?, ?)",
        (
            deployment.full_name, deployment.owner, deployment.current_release.number,
            created_text(deployment), dump_deployment(deployment),
        ),
    )  # fmt: skip
    return cursor.rowcount > 0


def select(db: sqlite3.Connection, owner: str, name: str) -> Deployment | None:
    """One deployment, or None."""
    row = db.execute("SELECT data FROM deployments WHERE id = ?", (f"{owner}/{name}",)).fetchone()
    return load_deployment(row[0]) if row else None


def update(db: sqlite3.Connection, deployment: Deployment) -> bool:
    """Write the deployment's new release iff the stored one is the release before it."""
    number = deployment.current_release.number
    cursor = db.execute(
        "UPDATE deployments SET release = ?, data = ? WHERE id = ? AND release = ?",
        (number, dump_deployment(deployment), deployment.full_name, number - 1),
    )
    return cursor.rowcount > 0


def delete(db: sqlite3.Connection, owner: str, name: str) -> bool:
    """Delete; False if there was none."""
    cursor = db.execute("DELETE FROM deployments WHERE id = ?", (f"{owner}/{name}",))
    return cursor.rowcount > 0
