"""The accelerator inventory and its placement: nvidia-smi's answer, a simulated inventory,
one GPU per instance, and a GPU model placed only where a GPU is free (through a real
server with a simulated inventory: these machines have no GPU)."""

from __future__ import annotations

import pathlib
import time
from typing import Any

from foretell.runner.hardware import (
    Accelerator,
    AcceleratorPool,
    detect,
    parse_nvidia_smi,
    visible_devices,
)
from tests.server import Server, fixture_model, start_server, wait_done


def test_nvidia_smi_csv_is_read() -> None:
    text = "0, GPU-1a2b, NVIDIA A100-SXM4-80GB, 81920\n1, GPU-3c4d, Tesla T4, 15360\n"
    gpus = parse_nvidia_smi(text)
    assert [(g.index, g.uuid, g.name, g.memory_mb) for g in gpus] == [
        (0, "GPU-1a2b", "NVIDIA A100-SXM4-80GB", 81920),
        (1, "GPU-3c4d", "Tesla T4", 15360),
    ]
    assert [g.sku for g in gpus] == ["gpu-a100-sxm4-80gb", "gpu-t4"]


def test_a_simulated_inventory_and_no_gpu_at_all() -> None:
    simulated = detect({"FORETELL_GPUS": "NVIDIA L40S, NVIDIA L40S"})
    assert [(g.index, g.name) for g in simulated] == [(0, "NVIDIA L40S"), (1, "NVIDIA L40S")]
    assert detect({"FORETELL_GPUS": ""}) == []
    assert detect({"PATH": ""}) == []  # no nvidia-smi: no GPU


def test_each_accelerator_is_held_by_one_instance_at_a_time() -> None:
    gpus = [Accelerator(0, "A"), Accelerator(1, "B")]
    pool = AcceleratorPool(gpus)
    first, second = pool.take(), pool.take()
    assert (first, second) == (gpus[0], gpus[1]) and pool.take() is None
    pool.give_back(gpus[1])
    pool.give_back(gpus[1])  # twice is harmless
    assert pool.free() == 1 and pool.take() == gpus[1]
    assert visible_devices(gpus[1]) == {"CUDA_VISIBLE_DEVICES": "1"}
    assert visible_devices(None) == {"CUDA_VISIBLE_DEVICES": ""}
    assert not AcceleratorPool([])


def test_a_gpu_model_gets_its_own_gpu_and_never_more_instances_than_gpus(
    tmp_path: pathlib.Path,
) -> None:
    gpu_model = fixture_model(
        tmp_path, "which_gpu", 'build:\n  gpu: true\npredict: "predict.py:Predictor"\n'
    )
    server = start_server(
        tmp_path / "data", [f"test/gpu={gpu_model}"], "--max-instances", "3",
        env={"FORETELL_GPUS": "NVIDIA A100 80GB,NVIDIA A100 80GB"},
    )  # fmt: skip
    try:
        with server.client() as client:
            hardware = client.get("/v1/hardware").json()
            assert {"sku": "gpu-a100-80gb", "name": "NVIDIA A100 80GB"} in hardware
            made = [
                client.post(
                    "/v1/models/test/gpu/predictions", json={"input": {"seconds": 1.0}}
                ).json()
                for _ in range(6)
            ]
            done = [wait_done(client, p["id"], 60) for p in made]
        assert all(p["status"] == "succeeded" for p in done), done
        assert {p["output"] for p in done} == {"0", "1"}  # each instance its own GPU
        printed = "".join(server.output)
        assert "scaled up to 2 instance(s)" in printed
        assert "scaled up to 3" not in printed  # two GPUs: never a third instance
    finally:
        server.stop()


def _printed(server: Server, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in "".join(server.output):
        assert time.monotonic() < deadline, f"never printed {text!r}"
        time.sleep(0.05)  # polling the server's own output, with a deadline


def test_a_deployments_hardware_places_its_instances(tmp_path: pathlib.Path) -> None:
    """A deployment on `gpu-l40s` moves its model (a CPU model by its cog.yaml) onto the
    L40S; changed to `cpu`, onto no GPU at all (an instance without one sees none)."""
    model = fixture_model(tmp_path, "which_gpu")
    server = start_server(
        tmp_path / "data", [f"test/gpu={model}"],
        env={"FORETELL_GPUS": "NVIDIA A100 80GB,NVIDIA L40S"},
    )  # fmt: skip
    try:
        with server.client() as client:
            run: dict[str, Any] = {"input": {}}
            wait = {"Prefer": "wait=60"}
            made = client.post("/v1/models/test/gpu/predictions", json=run, headers=wait)
            assert made.json()["output"] == ""  # no deployment: a CPU model holds no GPU
            version = client.get("/v1/models/test/gpu").json()["latest_version"]["id"]
            body = {
                "name": "placed", "model": "test/gpu", "version": version,
                "hardware": "gpu-l40s", "min_instances": 1, "max_instances": 1,
            }  # fmt: skip
            created = client.post("/v1/deployments", json=body)
            assert created.status_code == 200, created.text
            path = f"/v1/deployments/{created.json()['owner']}/placed"
            _printed(server, "stopped an instance on cpu: its deployment asks for gpu-l40s")
            made = client.post(f"{path}/predictions", json=run, headers=wait)
            assert made.json()["output"] == "1", made.json()  # the L40S
            assert client.patch(path, json={"hardware": "cpu"}).status_code == 200
            _printed(server, "stopped an instance on gpu-l40s: its deployment asks for cpu")
            made = client.post(f"{path}/predictions", json=run, headers=wait)
            assert made.json()["output"] == "", made.json()
    finally:
        server.stop()
