"""A runner publishes its models' records: on every change, progress at most once a second,
a heartbeat while nothing changes; a restart removes the models it stopped hosting."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest

from foretell.core.models import Model, ModelRecord, SetupStatus
from foretell.registry import RegistryPublisher
from tests.registry_fakes import RegistryStore

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


class Host:
    """What the runner would report for each model, changed by the test."""

    def __init__(self, *names: str) -> None:
        self.state: dict[str, tuple[Model, SetupStatus]] = {}
        for name in names:
            owner, short = name.split("/")
            self.state[name] = (Model(owner, short, "v1", {}, T0, runner_name=name), SetupStatus())

    def __call__(self, name: str) -> tuple[Model, SetupStatus]:
        return self.state[name]

    def set(self, name: str, **changes: Any) -> None:
        model, setup = self.state[name]
        self.state[name] = (model, dataclasses.replace(setup, **changes))


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def fake() -> RegistryStore:
    return RegistryStore()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _publisher(fake: RegistryStore, host: Host, clock: Clock, **kw: Any) -> RegistryPublisher:
    return RegistryPublisher(fake.as_store(), "node-1", host, clock=clock, **kw)


async def test_every_model_is_written_once_then_only_changes(
    fake: RegistryStore, clock: Clock
) -> None:
    """The first pass writes every model; a pass with nothing changed writes nothing; a new
    state (here, setup failed) is written at once."""
    host = Host("acme/a", "acme/b")
    publisher = _publisher(fake, host, clock)
    await publisher.publish_changes(["acme/a", "acme/b"])
    assert [r.full_name for r in fake.writes] == ["acme/a", "acme/b"]
    await publisher.publish_changes(["acme/a", "acme/b"])
    assert len(fake.writes) == 2
    host.set("acme/b", status="setup_failed", error="no such package")
    await publisher.publish_changes(["acme/a", "acme/b"])
    assert len(fake.writes) == 3
    record = fake.records["acme/b"]
    assert (record.setup.status, record.setup.error, record.node) == (
        "setup_failed",
        "no such package",
        "node-1",
    )


async def test_a_described_model_is_written_with_its_schema(
    fake: RegistryStore, clock: Clock
) -> None:
    """A new Model object (the schema arrived) is a change."""
    host = Host("acme/a")
    publisher = _publisher(fake, host, clock)
    await publisher.publish_changes(["acme/a"])
    model, setup = host.state["acme/a"]
    host.state["acme/a"] = (dataclasses.replace(model, openapi_schema={"openapi": "3"}), setup)
    await publisher.publish_changes(["acme/a"])
    assert fake.records["acme/a"].model.openapi_schema == {"openapi": "3"}


async def test_build_progress_is_written_at_most_once_a_second(
    fake: RegistryStore, clock: Clock
) -> None:
    """Progress lines come many a second while pip runs; the registry gets the latest one,
    once a second."""
    host = Host("acme/a")
    publisher = _publisher(fake, host, clock)
    await publisher.publish_changes(["acme/a"])
    host.set("acme/a", progress="Collecting six")
    clock.t = 0.5
    await publisher.publish_changes(["acme/a"])
    assert len(fake.writes) == 1
    host.set("acme/a", progress="Installing six")
    clock.t = 1.0
    await publisher.publish_changes(["acme/a"])
    assert len(fake.writes) == 2
    assert fake.records["acme/a"].setup.progress == "Installing six"


async def test_an_unchanged_model_is_republished_as_a_heartbeat(
    fake: RegistryStore, clock: Clock
) -> None:
    """Every `heartbeat_s` the record is written again with a new `updated_at`, so the API
    can tell a live runner's models from a dead one's."""
    host = Host("acme/a")
    times = iter([T0, T0 + datetime.timedelta(seconds=30)])
    publisher = _publisher(fake, host, clock, heartbeat_s=30.0, now=lambda: next(times))
    await publisher.publish_changes(["acme/a"])
    clock.t = 29.9
    await publisher.publish_changes(["acme/a"])
    assert len(fake.writes) == 1
    clock.t = 30.0
    await publisher.publish_changes(["acme/a"])
    assert [r.updated_at for r in fake.writes] == [T0, T0 + datetime.timedelta(seconds=30)]


async def test_a_failed_write_is_tried_again(fake: RegistryStore, clock: Clock) -> None:
    """A store error doesn't raise out of the publisher; the next pass writes the record,
    and each write that lands calls on_publish."""
    host = Host("acme/a")
    published: list[str] = []
    publisher = _publisher(fake, host, clock, on_publish=lambda: published.append("x"))
    fake.broken = True
    await publisher.publish("acme/a")
    assert (fake.records, published) == ({}, [])
    fake.broken = False
    await publisher.publish_changes(["acme/a"])
    assert list(fake.records) == ["acme/a"]
    assert published == ["x"]


async def test_a_restart_forgets_only_its_own_dropped_models(
    fake: RegistryStore, clock: Clock
) -> None:
    """Records this node published for models it no longer hosts go; another node's stay."""
    for name, node in (("acme/kept", "node-1"), ("acme/dropped", "node-1"), ("acme/x", "node-2")):
        owner, short = name.split("/")
        model = Model(owner, short, "v1", {}, T0, runner_name=name)
        await fake.publish_model(ModelRecord(model, SetupStatus(), node, T0))
    await _publisher(fake, Host(), clock).forget_others(["acme/kept"])
    assert sorted(fake.records) == ["acme/kept", "acme/x"]
