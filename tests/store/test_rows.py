"""File records as the embedded store keeps them, including rows written before keys."""

from __future__ import annotations

import datetime
import pathlib
import sqlite3

import orjson

from foretell.store.protocol import FileRecord
from foretell.store.rows import dump_file, load_file
from foretell.store.sqlite import SQLiteStore

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _record() -> FileRecord:
    return FileRecord(
        "f1", "ann", "a b.txt", "text/plain", 3, "md5", "sha", {"k": "v"}, T0,
        T0 + datetime.timedelta(days=1), "uploads/f1/a b.txt",
    )  # fmt: skip


def _old_row(record: FileRecord, path: str) -> bytes:
    """The JSON of a record from before keys: its bytes' absolute path, no key."""
    data = orjson.loads(dump_file(record))
    del data["key"]
    data["path"] = path
    return orjson.dumps(data)


def test_a_record_round_trips_with_its_key() -> None:
    """What is dumped loads back equal, the key included."""
    assert load_file(dump_file(_record())) == _record()


def test_an_old_record_gets_the_key_of_its_upload() -> None:
    """A row that stored an absolute path under the files root loads with the key the
    local engine keeps that file under, wherever the data directory was."""
    old = _old_row(_record(), "/srv/old-data/files/uploads/f1/a b.txt")
    assert load_file(old).key == "uploads/f1/a b.txt"


async def test_old_rows_in_a_database_read_as_keys(tmp_path: pathlib.Path) -> None:
    """An existing database's upload rows (with paths) are read back with keys."""
    db_path = tmp_path / "foretell.db"
    store = SQLiteStore(db_path)
    await store.open()
    await store.close()
    record = _record()
    row = _old_row(record, str(tmp_path / "files" / "uploads" / "f1" / "a b.txt"))
    with sqlite3.connect(db_path) as db:
        db.execute(
            "INSERT INTO files (id, account, created_at, data, expires_at) VALUES (?,?,?,?,?)",
            (record.id, record.account, T0.isoformat(), row, record.expires_at.isoformat()),
        )
    db.close()
    store = SQLiteStore(db_path)
    await store.open()
    try:
        assert await store.get_file("ann", "f1") == record
        assert await store.expired_files(T0 + datetime.timedelta(days=2), 10) == [record]
    finally:
        await store.close()
