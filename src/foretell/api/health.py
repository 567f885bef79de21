"""Infrastructure endpoints: GET /health (liveness), GET /ready (readiness) and GET /metrics
(Prometheus). None asks for a token: they say nothing of any account, and a prober or a
scraper has none (keep them off the public network as you would any metrics port).

Served by `foretell serve` beside the API, and alone by `foretell worker --metrics-port`."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from foretell.api.state import ApiState, api_state
from foretell.core.times import utcnow
from foretell.logs import say, uvicorn_log_config
from foretell.metrics import CONTENT_TYPE, Metrics

#: seconds each readiness check may take before it counts as failed
CHECK_TIMEOUT_S = 1.0
#: what a 503 from /ready tells a load balancer to wait before asking again
RETRY_AFTER_S = 5
#: a key no one writes: asking whether it exists is the cheapest round trip to the files
_PROBE_KEY = "health/ready"


async def health(request: Request) -> Response:
    """GET /health: the process runs and its event loop answers."""
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> Response:
    """GET /ready: 200 when the store, the queue and the files each answer a cheap request
    within CHECK_TIMEOUT_S; else 503, naming what failed, with Retry-After."""
    state = api_state(request)
    checks: dict[str, Callable[[], Awaitable[object]]] = {
        "store": lambda: state.store.get_prediction("-", "-"),
        "queue": lambda: state.queue.depth("-"),
        "files": lambda: state.files.exists(_PROBE_KEY),
    }
    results = await asyncio.gather(*(_check(probe) for probe in checks.values()))
    outcome = dict(zip(checks, results, strict=True))
    failed = [name for name, result in outcome.items() if result != "ok"]
    if not failed:
        return JSONResponse({"status": "ready", "checks": outcome})
    detail = "; ".join(f"{name}: {outcome[name]}" for name in failed)
    return JSONResponse(
        {"status": "unavailable", "detail": f"not ready: {detail}", "checks": outcome},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _check(probe: Callable[[], Awaitable[object]]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await probe()
    except TimeoutError:
        return f"no answer in {CHECK_TIMEOUT_S:g} s"
    except Exception as exc:  # whatever the engine raises, the answer is "not ready"
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return "ok"


async def metrics(request: Request) -> Response:
    """GET /metrics: this process's metrics, the queue gauges read just now."""
    recorder = api_state(request).service.metrics
    if not isinstance(recorder, Metrics):  # built without metrics (a test's app)
        return Response("metrics are off in this process\n", 404, media_type="text/plain")
    await _refresh_queues(api_state(request), recorder)
    return Response(recorder.exposition(), media_type=CONTENT_TYPE)


async def _refresh_queues(state: ApiState, recorder: Metrics) -> None:
    """Each published model's queue depth (one request per model, all at once) and the age
    of its oldest waiting prediction (one store query); an engine that doesn't answer in
    time leaves the gauges out rather than stall the scrape."""
    records = state.catalog.all()
    depths: list[int] = []
    oldest: dict[str, datetime.datetime] = {}
    # a scrape shows what it can (/ready names what failed)
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            depths = await asyncio.gather(
                *(state.queue.depth(record.model.runner_name) for record in records)
            )
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            oldest = await state.store.oldest_waiting()
    now = utcnow()
    recorder.set_queues(
        {record.full_name: depth for record, depth in zip(records, depths, strict=False)},
        {model: (now - made).total_seconds() for model, made in oldest.items()},
    )


def routes() -> list[BaseRoute]:
    """The three routes, outside /v1 (they are not Replicate's API)."""
    return [
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


def health_app(state: ApiState) -> Starlette:
    """An app of these routes alone: what a worker serves on --metrics-port."""
    app = Starlette(routes=routes())
    app.state.api = state
    return app


class HealthServer:
    """health_app on its own port (a worker's --metrics-port); port None: nothing at all."""

    def __init__(self, state: ApiState, host: str, port: int | None) -> None:
        self.state = state
        self.host = host
        self.port = port
        self._stop: Callable[[], None] = lambda: None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serve, once the port is bound (a port in use ends the process, as for serve)."""
        if self.port is None:
            return
        import uvicorn

        from foretell.shutdown import Server  # uvicorn without its own signal handlers

        server = Server(
            uvicorn.Config(
                health_app(self.state), host=self.host, port=self.port, log_level="warning",
                log_config=uvicorn_log_config(), lifespan="off",
            )
        )  # fmt: skip
        bound = asyncio.Event()
        server.on_started = bound.set
        self._task = asyncio.create_task(server.serve())
        self._stop = lambda: setattr(server, "should_exit", True)
        waiting = asyncio.ensure_future(bound.wait())
        await asyncio.wait({waiting, self._task}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if self._task.done():
            self._task.result()  # raises what stopped it
        say(f"metrics at http://{self.host}:{self.port}/metrics (also /health, /ready)")

    async def close(self) -> None:
        """Stop serving."""
        if self._task is not None:
            self._stop()
            await self._task
            self._task = None
