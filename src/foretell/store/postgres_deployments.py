"""Deployments in the cluster store: one row per `owner/name`, the document beside the
columns its queries need (owner, the current release's number, created_at)."""

from __future__ import annotations

from foretell.core.deployments import Deployment
from foretell.store.deployments_codec import dump_deployment, load_deployment
from foretell.store.postgres_pool import Conn


async def insert(conn: Conn, deployment: Deployment) -> bool:
    """Insert; False, with nothing written, if `owner/name` is taken."""
    cursor = await conn.execute(
        "INSERT INTO deployments (id, owner, release, created_at, data) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
        (
            deployment.full_name, deployment.owner, deployment.current_release.number,
            deployment.created_at, dump_deployment(deployment),
        ),
    )  # fmt: skip
    return cursor.rowcount > 0


async def select(conn: Conn, owner: str, name: str) -> Deployment | None:
    """One deployment, or None."""
    cursor = await conn.execute("SELECT data FROM deployments WHERE id = %s", (f"{owner}/{name}",))
    found = await cursor.fetchone()
    return load_deployment(found[0]) if found else None


async def update(conn: Conn, deployment: Deployment) -> bool:
    """Write the deployment's new release iff the stored one is the release before it."""
    number = deployment.current_release.number
    cursor = await conn.execute(
        "UPDATE deployments SET release = %s, data = %s WHERE id = %s AND release = %s",
        (number, dump_deployment(deployment), deployment.full_name, number - 1),
    )
    return cursor.rowcount > 0


async def delete(conn: Conn, owner: str, name: str) -> bool:
    """Delete; False if there was none."""
    cursor = await conn.execute("DELETE FROM deployments WHERE id = %s", (f"{owner}/{name}",))
    return cursor.rowcount > 0
