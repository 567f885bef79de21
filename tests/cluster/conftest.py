"""Each cluster test gets its own PostgreSQL database and a flushed Redis database."""

from __future__ import annotations

from tests.cluster.cluster import cluster

__all__ = ["cluster"]
