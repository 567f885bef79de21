"""Cold boots for bench/scaling.py: `foretell serve foretell/hello foretell/embeddings
--idle-timeout 1`; each time both models have scaled to zero (`setup.status` `idle`), one
`Prefer: wait` prediction of each (a cold boot), then a second right after (warm: the
baseline of the same run)."""

from __future__ import annotations

import pathlib
import re
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from cluster_procs import ApiNode, start_serve

from foretell.models import builtin_models
from foretell.predictor.config import load_config
from foretell.runner.environments import default_cache_dir, environment_key, requirements

#: the small model and the large one (torch + sentence-transformers)
SMALL, LARGE = "foretell/hello", "foretell/embeddings"
COLD_MODELS = (SMALL, LARGE)
#: seconds a build of a missing environment may take (embeddings: about 2 minutes here)
BUILD_TIMEOUT_S = 1800
#: --idle-timeout of the server: how soon an idle model scales to zero
IDLE_S = 1
#: how long past IDLE_S the bench waits for a scale-down before it counts the model stuck
STUCK_S = 15


@dataclass
class Boot:
    """One cold prediction of a model and the warm one right after it."""

    cold_wall_s: float  # the client's time for the cold `Prefer: wait` request
    cold_boot_s: float | None  # its metrics.cold_boot_time
    cold_predict_s: float  # its metrics.predict_time
    warm_wall_s: float
    warm_predict_s: float

    @property
    def unexplained_s(self) -> float:
        """Cold wall time not in the boot nor in predict(): queueing, the autoscaler's look,
        HTTP, the store."""
        return self.cold_wall_s - (self.cold_boot_s or 0.0) - self.cold_predict_s


@dataclass
class ColdResult:
    boots: dict[str, list[Boot]] = field(default_factory=dict)
    #: the first boot at the server's start, from its log: seconds after the start until
    #: the model was imported (environment found, worker started, predict.py imported) and
    #: until it was ready (setup() done)
    first_imported_s: dict[str, float] = field(default_factory=dict)
    first_ready_s: dict[str, float] = field(default_factory=dict)
    #: models whose environment was not cached and had to be built in this run
    built: list[str] = field(default_factory=list)
    #: per model: times it did not scale to zero again after a warm prediction
    stuck: dict[str, int] = field(default_factory=dict)
    #: lines the servers printed about cold boots, for the report
    boot_lines: list[str] = field(default_factory=list)
    error: str | None = None


def example(model: str) -> dict[str, Any]:
    """The model's own example input; hello without its 0.1 s per word delay."""
    path = builtin_models()[model]
    body: dict[str, Any] = orjson.loads((path / "example.json").read_bytes())["input"]
    if model == SMALL:
        body["delay"] = 0
    return body


def env_cached(model: str) -> bool:
    """Whether the model's environment is in ~/.cache/foretell already (no build)."""
    lines = requirements(load_config(builtin_models()[model]))
    return not lines or (default_cache_dir() / "envs" / environment_key(lines)).is_dir()


def _setup(client: httpx.Client, model: str) -> dict[str, Any]:
    setup: dict[str, Any] = client.get(f"/v1/models/{model}").json().get("setup") or {}
    return setup


def wait_status(client: httpx.Client, model: str, wanted: str, timeout: float) -> dict[str, Any]:
    """Until the model's `setup.status` is `wanted` (polling the API: no event to wait on)."""
    deadline = time.monotonic() + timeout
    while True:
        setup = _setup(client, model)
        if setup.get("status") == wanted:
            return setup
        if setup.get("status") in ("setup_failed", "defunct"):
            raise RuntimeError(f"{model}: {setup.get('status')}: {setup.get('error')}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{model} not {wanted} after {timeout:g} s: {setup}")
        time.sleep(0.05)


def predict(client: httpx.Client, model: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    """(wall seconds, the finished prediction) of one `Prefer: wait` create."""
    started = time.perf_counter()
    answer = client.post(
        f"/v1/models/{model}/predictions", json={"input": body}, headers={"Prefer": "wait"}
    )
    answer.raise_for_status()
    prediction: dict[str, Any] = answer.json()
    while prediction["status"] not in ("succeeded", "failed", "canceled"):  # wait ran out
        time.sleep(0.01)
        prediction = client.get(f"/v1/predictions/{prediction['id']}").json()
    took = time.perf_counter() - started
    if prediction["status"] != "succeeded":
        raise RuntimeError(f"{model}: {prediction['status']}: {prediction.get('error')}")
    return took, prediction


def one_boot(client: httpx.Client, model: str) -> Boot:
    """A cold prediction (the model is `idle`), then a warm one at once."""
    body = example(model)
    cold_wall, cold = predict(client, model, body)
    warm_wall, warm = predict(client, model, body)
    metrics = cold.get("metrics") or {}
    if "cold_boot_time" not in metrics:
        print(f"  {model}: a prediction at zero instances has no cold_boot_time: {metrics}")
    return Boot(
        cold_wall, metrics.get("cold_boot_time"), float(metrics.get("predict_time") or 0.0),
        warm_wall, float((warm.get("metrics") or {}).get("predict_time") or 0.0),
    )  # fmt: skip


def _first_boot(node: ApiNode, pattern: str) -> dict[str, float]:
    """{model: seconds} from the server's log lines matching `pattern`."""
    with node.proc.changed:
        lines = list(node.proc.lines)
    return {m.group(1): float(m.group(2)) for line in lines if (m := re.search(pattern, line))}


class ColdServer:
    """One `foretell serve` of both models with --idle-timeout 1, and its log's scale-downs
    (the event a cold boot waits for: `setup.status` is published every 0.5 s, so right
    after a prediction it can still say `idle`)."""

    def __init__(self, tmp: pathlib.Path, number: int) -> None:
        args = [*COLD_MODELS, "--idle-timeout", str(IDLE_S)]
        self.node = start_serve(f"cold-{number}", tmp, args)
        self.client = httpx.Client(
            base_url=self.node.base, headers=self.node.headers(), timeout=120
        )
        #: scale-downs to zero expected so far, per model
        self.zeros = dict.fromkeys(COLD_MODELS, 1)

    def wait_zero(self, model: str, timeout: float) -> bool:
        """Until the model has scaled to zero as often as expected and says `idle`; False
        if it has not within `timeout`."""
        line, proc = f"[{model}] idle: scaled to zero", self.node.proc
        deadline = time.monotonic() + timeout
        with proc.changed:
            while proc.count(line) < self.zeros[model]:
                left = deadline - time.monotonic()
                if left <= 0 or proc.ended:
                    return False
                proc.changed.wait(left)
        wait_status(self.client, model, "idle", 10)
        return True

    def close(self) -> None:
        self.client.close()
        self.node.proc.stop()


def _first(tmp: pathlib.Path, result: ColdResult) -> ColdServer:
    """The first server: each model's first boot (and any build), then both at zero."""
    server = ColdServer(tmp, 0)
    try:
        for model in COLD_MODELS:
            if not server.wait_zero(model, BUILD_TIMEOUT_S):
                raise RuntimeError(f"{model} did not scale to zero after its first boot")
    except BaseException:
        server.close()
        raise
    result.first_imported_s = _first_boot(server.node, r"(\S+?):\w+ imported in ([\d.]+) s")
    result.first_ready_s = _first_boot(server.node, r"(\S+) is ready \(([\d.]+) s after")
    return server


def measure_cold(tmp: pathlib.Path, repeats: int) -> ColdResult:
    """`repeats` cold boots of each model; a model that does not scale to zero again within
    STUCK_S of its idle timeout is counted, and a fresh server takes over."""
    result = ColdResult(built=[m for m in COLD_MODELS if not env_cached(m)])
    for model in result.built:
        print(f"{model}: its environment is not cached: the server builds it first (wait)")
    servers = [_first(tmp, result)]
    try:
        for repeat in range(repeats):
            for model in COLD_MODELS:
                if not servers[-1].wait_zero(model, IDLE_S + STUCK_S):
                    result.stuck[model] = result.stuck.get(model, 0) + 1
                    print(f"{model} did not scale to zero in {IDLE_S + STUCK_S:g} s: new server")
                    servers[-1].close()
                    servers.append(ColdServer(tmp, len(servers)))
                    for each in COLD_MODELS:
                        if not servers[-1].wait_zero(each, 120):
                            raise RuntimeError(f"{each}: not at zero after a fresh start")
                boot = one_boot(servers[-1].client, model)
                servers[-1].zeros[model] += 1
                result.boots.setdefault(model, []).append(boot)
                print(f"cold boot {repeat + 1}/{repeats} {model}: {boot.cold_wall_s:.2f} s")
    finally:
        for server in servers:
            server.close()
    for server in servers:
        with server.node.proc.changed:
            lines = list(server.node.proc.lines)
        result.boot_lines += [line.strip() for line in lines if "cold boot" in line]
    return result
