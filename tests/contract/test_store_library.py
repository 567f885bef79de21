"""The Store contract for stored models and their versions, run against every engine."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime

from foretell.core.versions import StoredModel, StoredVersion, VersionStatus
from foretell.store import Store

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _model(name: str = "tiny", owner: str = "ann", **changes: object) -> StoredModel:
    made = StoredModel(owner=owner, name=name, created_at=T0, hardware="cpu")
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


def _version(n: int, model: str = "ann/tiny", *, micro: int = 0) -> StoredVersion:
    at = T0 + datetime.timedelta(seconds=n, microseconds=micro)
    return StoredVersion(
        id=f"{n:064x}", model=model, created_at=at, source_key=f"versions/{n}/source.tar.gz"
    )


async def test_a_created_model_comes_back_equal(store: Store) -> None:
    """Every field of a stored model is read back as it was written."""
    made = _model(
        visibility="public", description="A tiny model", github_url="https://github.com/a/b",
        paper_url="https://arxiv.org/abs/1", license_url="https://mit.edu/l",
        cover_image_url="https://img/x.png", readme="# Tiny", weights_url="https://hf.co/a",
    )  # fmt: skip
    assert await store.create_stored_model(made)
    assert await store.get_stored_model("ann/tiny") == made
    assert await store.get_stored_model("ann/other") is None
    assert await store.get_stored_model("bob/tiny") is None


async def test_a_taken_name_is_refused_and_left_alone(store: Store) -> None:
    """Creating `owner/name` again is False and keeps the first; another owner may use it."""
    first = _model(description="first")
    assert await store.create_stored_model(first)
    assert not await store.create_stored_model(_model(description="second"))
    assert await store.get_stored_model("ann/tiny") == first
    assert await store.create_stored_model(_model(owner="bob"))


async def test_concurrent_creates_of_one_name_let_exactly_one_win(store: Store) -> None:
    """Many creators of the same `owner/name` at once: one is stored, the rest get False."""
    rivals = [_model(description=str(k)) for k in range(8)]
    results = await asyncio.gather(*(store.create_stored_model(m) for m in rivals))
    assert sorted(results) == [False] * 7 + [True]
    assert await store.get_stored_model("ann/tiny") == rivals[results.index(True)]


async def test_models_list_by_name_and_save_changes_fields(store: Store) -> None:
    """The list is by `owner/name`; a save writes the new fields; a save of a deleted
    model writes nothing."""
    for owner, name in (("bob", "a"), ("ann", "zed"), ("ann", "alpha")):
        await store.create_stored_model(_model(name, owner))
    assert [m.full_name for m in await store.list_stored_models()] == [
        "ann/alpha", "ann/zed", "bob/a",
    ]  # fmt: skip
    changed = _model("zed", description="now described", readme="# Zed")
    await store.save_stored_model(changed)
    assert await store.get_stored_model("ann/zed") == changed
    assert await store.delete_stored_model("ann/zed")
    await store.save_stored_model(changed)
    assert await store.get_stored_model("ann/zed") is None


async def test_deleting_a_model_deletes_its_versions_only(store: Store) -> None:
    """A deleted model is gone with every version of it (no orphans); another model's
    versions stay; deleting again is False; the name is free again."""
    await store.create_stored_model(_model())
    await store.create_stored_model(_model("other"))
    await store.add_version(_version(1))
    await store.add_version(_version(2, "ann/other"))
    assert await store.delete_stored_model("ann/tiny")
    assert await store.get_stored_model("ann/tiny") is None
    assert await store.get_version(_version(1).id) is None
    assert [v.id for v in await store.list_versions()] == [_version(2).id]
    assert not await store.delete_stored_model("ann/tiny")
    assert await store.create_stored_model(_model())


async def test_a_version_comes_back_equal_and_its_id_is_taken_once(store: Store) -> None:
    """Every field of a version is read back as written; the same id again is False and
    leaves the first."""
    made = dataclasses.replace(
        _version(1), status=VersionStatus.READY, openapi_schema={"info": {"version": "0.1"}},
        build_log="built\n", weights_key="weights/1.bin", training="t1", cog_version="0.9.0",
    )  # fmt: skip
    assert await store.add_version(made)
    assert await store.get_version(made.id) == made
    assert not await store.add_version(dataclasses.replace(made, model="ann/other"))
    assert await store.get_version(made.id) == made
    assert await store.get_version("f" * 64) is None


async def test_saving_a_version_writes_its_new_state(store: Store) -> None:
    """A building version saved ready (schema, log) or failed (error) reads back so; a save
    of a deleted version writes nothing."""
    building = _version(1)
    await store.add_version(building)
    assert (await store.get_version(building.id)) == building
    assert building.status == VersionStatus.BUILDING
    ready = dataclasses.replace(
        building, status=VersionStatus.READY, openapi_schema={"a": [1]}, build_log="ok\n"
    )
    await store.save_version(ready)
    assert await store.get_version(building.id) == ready
    failed = dataclasses.replace(building, status=VersionStatus.FAILED, error="no predict.py")
    await store.save_version(failed)
    assert await store.get_version(building.id) == failed
    assert await store.delete_version(building.id)
    await store.save_version(ready)
    assert await store.get_version(building.id) is None
    assert not await store.delete_version(building.id)


async def test_versions_list_newest_first_per_model(store: Store) -> None:
    """A model's versions list newest first (microseconds apart count; a tie goes by id);
    None lists every model's."""
    for n, micro in ((1, 0), (0, 999_999), (3, 0)):
        await store.add_version(_version(n, micro=micro))
    await store.add_version(_version(2, "bob/x"))
    tie = dataclasses.replace(_version(4), created_at=_version(3).created_at)
    await store.add_version(tie)
    assert [v.id for v in await store.list_versions("ann/tiny")] == [
        _version(n).id for n in (4, 3, 1, 0)
    ]
    assert [v.model for v in await store.list_versions("bob/x")] == ["bob/x"]
    assert len(await store.list_versions()) == 5
    assert await store.list_versions("carol/none") == []
