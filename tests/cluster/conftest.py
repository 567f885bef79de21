"""Each cluster test gets its own PostgreSQL database and a flushed Redis database."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from tests.cluster.cluster import Cluster, create_database, drop_database, flush_redis


@pytest.fixture
def cluster(tmp_path: pathlib.Path) -> Iterator[Cluster]:
    flush_redis()
    database = create_database()
    made = Cluster(tmp_path, database)
    try:
        yield made
    finally:
        made.stop()
        drop_database(database)
        flush_redis()
