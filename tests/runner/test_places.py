"""Deployment policies and GPU placement, in-process: each model's bounds, idle timeout and
hardware from the deployments in a real SQLite store, and which instance may hold which GPU
(a simulated inventory; no worker process is started)."""

from __future__ import annotations

import datetime
import pathlib
from collections.abc import AsyncIterator

import pytest

from foretell.core.deployments import Configuration, Creator, new_deployment
from foretell.runner.autoscale import BUILTIN_IDLE_S, ScalePolicy
from foretell.runner.hardware import Accelerator, AcceleratorPool
from foretell.runner.instances import ModelInstances
from foretell.runner.places import DeploymentPolicies
from foretell.runner.spec import ModelSpec
from foretell.store.sqlite import SQLiteStore

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
ANN = Creator("user", "ann", "Ann")
A100, L40S = Accelerator(0, "NVIDIA A100 80GB"), Accelerator(1, "NVIDIA L40S")


@pytest.fixture
async def store(tmp_path: pathlib.Path) -> AsyncIterator[SQLiteStore]:
    engine = SQLiteStore(tmp_path / "foretell.db")
    await engine.open()
    yield engine
    await engine.close()


async def _deploy(store: SQLiteStore, name: str, model: str, config: Configuration) -> None:
    assert await store.create_deployment(
        new_deployment("ann", name, model, "v" * 64, config, ANN, T0)
    )


def _base(_: str) -> ScalePolicy:
    return ScalePolicy(1, 1, None)


async def test_a_deployment_wins_over_the_models_own_policy(store: SQLiteStore) -> None:
    """Its bounds replace the model's; its idle timeout too, where it sets one; several
    deployments of one model: the largest bounds and the shortest idle timeout."""
    policies = DeploymentPolicies(store, _base)
    await _deploy(store, "a", "acme/echo", Configuration("cpu", 0, 2, idle_timeout=30))
    await _deploy(store, "b", "acme/sleep", Configuration("cpu", 0, 1))
    await policies.refresh()
    assert policies("acme/echo") == ScalePolicy(0, 2, 30)
    assert policies("acme/sleep") == ScalePolicy(0, 1, BUILTIN_IDLE_S)  # may scale to zero
    assert policies("acme/other") == ScalePolicy(1, 1, None)  # no deployment: its own
    await _deploy(store, "c", "acme/echo", Configuration("cpu", 1, 3, idle_timeout=10))
    await policies.refresh()
    assert policies("acme/echo") == ScalePolicy(1, 3, 10)
    assert policies.limit("acme/echo") == 3


async def test_a_deployments_hardware_is_what_its_instances_need(store: SQLiteStore) -> None:
    """`cpu`: no GPU; a GPU sku: one of that kind; no deployment: None (cog.yaml decides)."""
    policies = DeploymentPolicies(store, _base)
    await _deploy(store, "cpu", "acme/echo", Configuration("cpu", 0, 1))
    await _deploy(store, "gpu", "acme/sleep", Configuration("gpu-l40s", 0, 1))
    await policies.refresh()
    assert policies.hardware("acme/echo") == frozenset()
    assert policies.hardware("acme/sleep") == frozenset({"gpu-l40s"})
    assert policies.hardware("acme/other") is None


def test_a_pool_hands_out_a_gpu_of_the_kind_asked_for() -> None:
    pool = AcceleratorPool([A100, L40S])
    assert pool.free({"gpu-l40s"}) == 1 and pool.free({"gpu-t4"}) == 0
    assert pool.take({"gpu-l40s"}) == L40S
    assert pool.take({"gpu-l40s"}) is None
    assert pool.take() == A100  # any kind


class _Places:
    """Places with no cluster-wide cap, and the hardware a deployment asks for."""

    def __init__(self, skus: frozenset[str] | None) -> None:
        self.skus = skus

    async def take(self, model: str, holder: str) -> bool:
        return True

    async def give_back(self, holder: str) -> None:
        pass

    def hardware(self, model: str) -> frozenset[str] | None:
        return self.skus


def _instances(tmp: pathlib.Path, skus: frozenset[str] | None, *, gpu: bool) -> ModelInstances:
    spec = ModelSpec("acme/echo", tmp, gpu=gpu)
    pool = AcceleratorPool([A100, L40S])
    return ModelInstances(spec, tmp, accelerators=pool, places=_Places(skus))


def test_where_an_instance_may_start(tmp_path: pathlib.Path) -> None:
    """A GPU sku needs a free GPU of that kind (none of it here: no instance here); `cpu`
    needs none, even for a model whose cog.yaml asks for a GPU; without a deployment,
    cog.yaml's build.gpu asks for any GPU."""
    wants_l40s = _instances(tmp_path, frozenset({"gpu-l40s"}), gpu=False)
    assert wants_l40s.needs_accelerator() and wants_l40s.can_add()
    wants_t4 = _instances(tmp_path, frozenset({"gpu-t4"}), gpu=True)
    assert wants_t4.needs_accelerator() and not wants_t4.can_add()
    on_cpu = _instances(tmp_path, frozenset(), gpu=True)
    assert not on_cpu.needs_accelerator() and on_cpu.can_add()
    undeployed = _instances(tmp_path, None, gpu=True)
    assert undeployed.needs_accelerator() and undeployed.gpu_skus() is None
    assert not _instances(tmp_path, None, gpu=False).needs_accelerator()
