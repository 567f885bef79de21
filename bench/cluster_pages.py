"""get and list through the HTTP API with many predictions in PostgreSQL (bench/cluster.py):
the rows are written straight into the store's table with COPY, in the store's own format."""

from __future__ import annotations

import asyncio
import datetime
import http.client
import random
import time
import urllib.parse
from dataclasses import dataclass

import httpx
import psycopg
from cluster_procs import NOOP_MODEL, ApiNode

from foretell.core.ids import prediction_id
from foretell.core.prediction import Prediction
from foretell.core.status import Status
from foretell.store.codec import dump_prediction
from foretell.store.postgres import PostgresStore

ACCOUNT = "local"  # the account of the token `foretell serve` prints first
VERSION = "5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa"
#: one row a millisecond back from the first: 1M rows span 17 minutes (all newest-first)
STEP = datetime.timedelta(milliseconds=1)


async def migrate(url: str) -> None:
    """The store's schema in a fresh database (PostgresStore migrates on open)."""
    store = PostgresStore(url)
    await store.open()
    await store.close()


@dataclass
class Filled:
    """What fill() wrote and how long it took."""

    ids: list[str]
    newest: datetime.datetime
    copy_s: float
    analyze_s: float


def _row(
    index: int, newest: datetime.datetime
) -> tuple[str, datetime.datetime, datetime.datetime, bytes]:
    created = newest - index * STEP
    completed = created + datetime.timedelta(milliseconds=100)
    prediction = Prediction(
        id=prediction_id(), account=ACCOUNT, model=NOOP_MODEL, version=VERSION,
        input={"text": f"hello {index}"}, created_at=created, status=Status.SUCCEEDED,
        output=f"hello {index}", started_at=created, completed_at=completed,
        metrics={"predict_time": 0.1},
    )  # fmt: skip
    return prediction.id, created, completed, dump_prediction(prediction)


def fill(url: str, filled: Filled | None, total: int) -> Filled:
    """Grow the predictions of ACCOUNT to `total` rows (older ones than those there), one
    COPY, then ANALYZE (as autovacuum would soon after such a load)."""
    newest = filled.newest if filled else datetime.datetime.now(datetime.UTC)
    ids = list(filled.ids) if filled else []
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        with conn.cursor() as cursor:
            copy_sql = (
                "COPY predictions (id, account, status, created_at, completed_at, data) FROM STDIN"
            )
            with cursor.copy(copy_sql) as copy:
                for index in range(len(ids), total):
                    pid, created, completed, data = _row(index, newest)
                    copy.write_row((pid, ACCOUNT, "succeeded", created, completed, data))
                    ids.append(pid)
        conn.commit()
        copied = time.perf_counter()
        conn.autocommit = True
        conn.execute("ANALYZE predictions")
    return Filled(ids, newest, copied - started, time.perf_counter() - copied)


@dataclass
class Latency:
    p50_ms: float
    p99_ms: float
    n: int


def _timed(node: ApiNode, paths: list[str]) -> Latency:
    """GET each path in turn on one keep-alive connection (after 20 untimed); each must be 200."""
    base = urllib.parse.urlsplit(node.base)
    conn = http.client.HTTPConnection(base.hostname or "127.0.0.1", base.port, timeout=30)
    samples = []
    for i, path in enumerate(paths[:20] + paths):
        start = time.perf_counter()
        conn.request("GET", path, headers=node.headers())
        response = conn.getresponse()
        body = response.read()
        took = time.perf_counter() - start
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
        if i >= 20:
            samples.append(took)
    conn.close()
    samples.sort()

    def at(q: float) -> float:
        return samples[min(len(samples) - 1, int(q * len(samples)))] * 1e3

    return Latency(at(0.5), at(0.99), len(samples))


def _deep_page(node: ApiNode, filled: Filled) -> str:
    """The path of a page half-way down, as a client reaches it: the `next` cursor of the
    page created_before the middle row."""
    middle = filled.newest - (len(filled.ids) // 2) * STEP
    query = urllib.parse.urlencode({"created_before": middle.isoformat()})
    page = httpx.get(f"{node.base}/v1/predictions?{query}", headers=node.headers(), timeout=30)
    page.raise_for_status()
    following = page.json()["next"]
    if not following:
        raise RuntimeError(f"no next page below the middle row: {page.text[:300]}")
    parts = urllib.parse.urlsplit(following)
    return f"{parts.path}?{parts.query}"


def latencies(node: ApiNode, filled: Filled, n: int) -> dict[str, Latency]:
    """p50/p99 of get (random ids), the first page and a deep page, n requests each."""
    chosen = random.Random(len(filled.ids)).choices(filled.ids, k=n)
    deep = _deep_page(node, filled)
    return {
        "get": _timed(node, [f"/v1/predictions/{pid}" for pid in chosen]),
        "list": _timed(node, ["/v1/predictions"] * n),
        "deep": _timed(node, [deep] * n),
    }


def count(url: str) -> int:
    with psycopg.connect(url) as conn:
        found = conn.execute("SELECT count(*) FROM predictions WHERE account = %s", (ACCOUNT,))
        row = found.fetchone()
    return int(row[0]) if row else 0


def empty(url: str) -> None:
    """What the throughput part left (predictions, their webhook rows) is removed first."""
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE predictions, webhook_deliveries")


def prepare(url: str) -> None:
    asyncio.run(migrate(url))
