"""Retention: a finished prediction's output files and expired uploads leave the file store."""

from __future__ import annotations

import datetime
import pathlib
from collections.abc import AsyncIterator

import pytest

from foretell.core.prediction import Prediction, finish, start
from foretell.core.status import OPEN, Status
from foretell.files.local import LocalFiles
from foretell.files.protocol import output_key, upload_key
from foretell.retention import Retention
from foretell.store.protocol import FileRecord
from foretell.store.sqlite import SQLiteStore

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


@pytest.fixture
async def store(tmp_path: pathlib.Path) -> AsyncIterator[SQLiteStore]:
    engine = SQLiteStore(tmp_path / "foretell.db")
    await engine.open()
    yield engine
    await engine.close()


async def _finished(store: SQLiteStore, n: int, output: str, at: datetime.datetime) -> None:
    created = Prediction(
        id=f"p{n}", account="ann", model="acme/echo", version="v" * 64, input={}, created_at=at
    )
    await store.create_prediction(created)
    done = finish(start(created, at), Status.SUCCEEDED, at, output=output, files=[[]])
    assert await store.transition(done, OPEN)


async def _upload(
    store: SQLiteStore, files: LocalFiles, file_id: str, expires: datetime.datetime
) -> str:
    key = upload_key(file_id, "a.txt")
    stored = await files.put(key, b"x")
    await store.add_file(
        FileRecord(
            file_id,
            "ann",
            "a.txt",
            "text/plain",
            1,
            stored.md5,
            stored.sha256,
            {},
            expires - DAY,
            expires,
            key,
        )  # fmt: skip
    )
    return key


async def test_a_sweep_deletes_old_outputs_and_expired_uploads(
    store: SQLiteStore, tmp_path: pathlib.Path
) -> None:
    """Outputs of predictions finished before the retention time and uploads past their
    expiry are deleted from the file store; newer ones stay."""
    files = LocalFiles(tmp_path / "files")
    old, new = output_key("p1", "a.png"), output_key("p2", "b.png")
    for key in (old, new):
        await files.put(key, b"png")
    await _finished(store, 1, old, T0)
    await _finished(store, 2, new, T0 + 3 * DAY)
    expired = await _upload(store, files, "f1", T0 + DAY)
    current = await _upload(store, files, "f2", T0 + 10 * DAY)
    retention = Retention(store, files, DAY.total_seconds(), clock=lambda: T0 + 3 * DAY)
    assert await retention.sweep() == (1, 1)
    assert [await files.exists(key) for key in (old, new, expired, current)] == [
        False, True, False, True,
    ]  # fmt: skip
    assert await store.get_file(None, "f1") is None
    assert sorted(p.name for p in (files.root / "outputs").iterdir()) == ["p2"]
