"""The cluster tests' fixture (a fresh PostgreSQL database and a flushed Redis database)."""

from tests.cluster.conftest import cluster

__all__ = ["cluster"]
