"""The API's view of the hosted models: the registry's records, read from the store."""

from __future__ import annotations

import asyncio
import datetime

import pytest

from foretell.api.catalog import ModelCatalog
from foretell.core.models import Model, ModelRecord, SetupStatus
from foretell.core.versions import StoredModel
from foretell.errors import StoreError
from tests.registry_fakes import RegistryStore

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


class Clock:
    """Wall-clock time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime.datetime:
        return self.now


def _record(name: str, version: str, status: str = "ready", at: float = 0) -> ModelRecord:
    owner, short = name.split("/")
    model = Model(owner, short, version, {}, T0, runner_name=name)
    return ModelRecord(model, SetupStatus(status), "node-1", T0 + datetime.timedelta(seconds=at))


@pytest.fixture
def fake() -> RegistryStore:
    return RegistryStore()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def catalog(fake: RegistryStore, clock: Clock) -> ModelCatalog:
    return ModelCatalog(fake.as_store(), interval_s=3600, stale_after_s=60, clock=clock)


async def test_a_refresh_shows_what_runners_published(
    fake: RegistryStore, catalog: ModelCatalog
) -> None:
    """Nothing is known before the first refresh; afterwards models are found by name and by
    version, and listed by name."""
    await fake.publish_model(_record("acme/zeta", "v2"))
    await fake.publish_model(_record("acme/alpha", "v1"))
    assert catalog.get("acme/alpha") is None
    await catalog.refresh()
    alpha = catalog.get("acme/alpha")
    assert alpha is not None and alpha.model.version == "v1"
    assert catalog.by_version("v2") == catalog.get("acme/zeta")
    assert catalog.by_version("v3") is None
    assert [r.full_name for r in catalog.all()] == ["acme/alpha", "acme/zeta"]


async def test_a_new_state_shows_after_the_next_refresh(
    fake: RegistryStore, catalog: ModelCatalog
) -> None:
    """The snapshot is the store's as of the last refresh; a model removed there goes."""
    await fake.publish_model(_record("acme/echo", "v1", "starting"))
    await catalog.refresh()
    await fake.publish_model(_record("acme/echo", "v1", "ready"))
    echo = catalog.get("acme/echo")
    assert echo is not None and echo.setup.status == "starting"
    await catalog.refresh()
    echo = catalog.get("acme/echo")
    assert echo is not None and echo.setup.status == "ready"
    await fake.remove_model("acme/echo")
    await catalog.refresh()
    assert catalog.get("acme/echo") is None
    assert catalog.by_version("v1") is None


async def test_a_record_nobody_republishes_is_dropped(
    fake: RegistryStore, catalog: ModelCatalog, clock: Clock
) -> None:
    """A runner republishes its models while it lives; one not heard of for `stale_after_s`
    is gone, and so are its models."""
    await fake.publish_model(_record("acme/echo", "v1", at=0))
    clock.now = T0 + datetime.timedelta(seconds=60)
    await catalog.refresh()
    assert catalog.get("acme/echo") is not None
    clock.now = T0 + datetime.timedelta(seconds=61)
    await catalog.refresh()
    assert catalog.get("acme/echo") is None


async def test_a_store_error_keeps_the_last_snapshot(
    fake: RegistryStore, catalog: ModelCatalog
) -> None:
    """A failed refresh raises and changes nothing: requests keep being served."""
    await fake.publish_model(_record("acme/echo", "v1"))
    await catalog.refresh()
    fake.broken = True
    with pytest.raises(StoreError):
        await catalog.refresh()
    assert catalog.get("acme/echo") is not None


async def test_a_nudge_refreshes_without_waiting_for_the_interval(
    fake: RegistryStore, catalog: ModelCatalog
) -> None:
    """The background refresh runs once per interval (an hour here) or at once when nudged;
    a failing store doesn't stop it."""
    refreshed = asyncio.Event()
    refresh = catalog.refresh

    async def observed() -> None:
        try:
            await refresh()
        finally:
            refreshed.set()

    catalog.refresh = observed  # type: ignore[method-assign]
    catalog.start()
    try:
        fake.broken = True
        catalog.nudge()
        await refreshed.wait()
        refreshed.clear()
        fake.broken = False
        await fake.publish_model(_record("acme/echo", "v1"))
        catalog.nudge()
        await refreshed.wait()
        assert catalog.get("acme/echo") is not None
    finally:
        await catalog.close()


def _unit(version: str, age_s: float, *, described: bool = True, suffix: str = "") -> ModelRecord:
    created = T0 - datetime.timedelta(seconds=age_s)
    schema = {"openapi": "3.0.2"} if described else {}
    unit = f"acme/pushed:{version}{suffix}"
    model = Model("acme", "pushed", version, schema, created, runner_name=unit)
    return ModelRecord(model, SetupStatus("ready"), "node-1", T0)


async def test_a_model_with_several_versions_and_a_trainer(
    fake: RegistryStore, catalog: ModelCatalog
) -> None:
    """Each pushed version and each trainer is its own record; the model is its newest
    described version, a version still building doesn't take its place, and a trainer is
    found by the version it trains."""
    await fake.publish_model(_unit("v1", age_s=20))
    await fake.publish_model(_unit("v2", age_s=10))
    await fake.publish_model(_unit("v3", age_s=0, described=False))
    await fake.publish_model(_unit("v2", age_s=10, suffix="#train"))
    await catalog.refresh()
    newest = catalog.get("acme/pushed")
    assert newest is not None and newest.model.version == "v2"
    assert [r.model.version for r in catalog.versions("acme/pushed")] == ["v3", "v2", "v1"]
    assert [r.full_name for r in catalog.all()] == ["acme/pushed"]
    v1 = catalog.by_version("v1")
    assert v1 is not None and not v1.is_trainer
    trainer = catalog.trainer("v2")
    assert trainer is not None and trainer.key == "acme/pushed:v2#train"
    assert catalog.trainer("v1") is None


async def test_only_command_line_and_public_stored_models_are_public(
    fake: RegistryStore, catalog: ModelCatalog
) -> None:
    """What the pages show anyone: a command-line model, a public stored model's version;
    not a private stored model's, nor one whose stored model was deleted."""
    await fake.publish_model(_record("local/cli", "v0"))
    for name in ("acme/open", "acme/closed", "acme/gone"):
        owner, short = name.split("/")
        model = Model(owner, short, "v1", {}, T0, runner_name=f"{name}:v1")
        await fake.publish_model(ModelRecord(model, SetupStatus("ready"), "node-1", T0))
    fake.stored = [
        StoredModel("acme", "open", T0, visibility="public"),
        StoredModel("acme", "closed", T0, visibility="private"),
    ]
    await catalog.refresh()
    assert [r.full_name for r in catalog.public()] == ["acme/open", "local/cli"]
    assert not catalog.is_public("acme/closed") and not catalog.is_public("acme/gone")
    stored = catalog.stored("acme/closed")
    assert stored is not None and stored.visibility == "private"
