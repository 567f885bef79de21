"""Running predictions through real worker subprocesses."""

from __future__ import annotations

import asyncio
import pathlib

from foretell.core.events import Output
from foretell.runner import Runner, WorkerState

from .conftest import add, collect, predict, request, spec


async def test_sync_and_async_predictors_return_their_output(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """A plain return value comes back in Done, with predict_time in the metrics."""
    for fixture in ("echo", "echo_async"):
        name = await add(runner, fixture)
        result = await predict(runner, name, tmp_path, text="hello")
        assert result.started
        assert (result.done.status, result.done.output) == ("succeeded", "hello")
        assert result.done.metrics["predict_time"] >= 0


async def test_yielded_items_arrive_one_by_one_while_the_model_runs(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """Each yield is an Output event received before the generator has finished."""
    name = await add(runner, "stream_tokens")
    handle = await runner.submit(name, request(tmp_path, n=3, delay=0.3))
    loop = asyncio.get_running_loop()
    arrivals = []
    async for event in handle:
        if isinstance(event, Output):
            arrivals.append((loop.time(), event.value))
    assert [value for _, value in arrivals] == ["tok0 ", "tok1 ", "tok2 "]
    assert arrivals[1][0] - arrivals[0][0] > 0.1  # spaced like the model's sleeps, not batched


async def test_async_generators_stream_too(runner: Runner, tmp_path: pathlib.Path) -> None:
    """An async generator's items arrive in order."""
    name = await add(runner, "stream_async")
    result = await predict(runner, name, tmp_path, n=50)
    assert result.outputs == [f"tok{i} " for i in range(50)]
    assert result.done.output is None


async def test_failing_predict_reports_the_error_and_traceback(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """An exception in predict fails the prediction; the traceback is in its logs."""
    name = await add(runner, "exc_in_predict")
    result = await predict(runner, name, tmp_path, text="zzz")
    assert result.done.status == "failed"
    assert result.done.error == "ValueError: bad text: zzz"
    assert "about to fail" in result.logs and "Traceback" in result.logs
    again = await predict(runner, name, tmp_path, text="y")
    assert again.done.error == "ValueError: bad text: y"


async def test_invalid_input_fails_with_field_errors(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """Inputs are validated again in the worker; a bad one fails the prediction clearly."""
    name = await add(runner, "stream_tokens")
    result = await predict(runner, name, tmp_path, n="many")
    assert result.done.status == "failed"
    assert result.done.error == 'input.n: must be an integer (got the string "many")'


async def test_setup_failure_is_reported_and_every_prediction_gets_it(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """setup() raising marks the model setup_failed, with the traceback and setup logs."""
    name = await add(runner, "exc_in_setup")
    info = runner.state_info(name)
    assert info.state is WorkerState.SETUP_FAILED
    assert "RuntimeError: weights not found" in (info.error or "")
    assert "loading weights" in info.setup_logs
    for _ in range(2):
        result = await predict(runner, name, tmp_path)
        assert result.done.status == "failed"
        assert "RuntimeError: weights not found" in (result.done.error or "")


async def test_model_that_cannot_load_is_setup_failed(runner: Runner) -> None:
    """A predictor with an invalid signature never starts; the reason is kept."""
    await runner.add_model(spec("schema_inputs", ref="no_such_file.py"))
    assert await runner.wait_ready("schema_inputs") is WorkerState.SETUP_FAILED
    assert "does not exist" in (runner.state_info("schema_inputs").error or "")


async def test_sync_model_with_concurrency_above_one_is_refused(runner: Runner) -> None:
    """concurrency.max > 1 needs an async predictor, as in Cog; the error says so."""
    name = await add(runner, "echo", max_concurrency=4)
    assert runner.state(name) is WorkerState.SETUP_FAILED
    assert "needs an async predict()" in (runner.state_info(name).error or "")


async def test_predictions_queue_in_order_when_all_slots_are_busy(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """A busy sync model queues predictions FIFO instead of refusing them."""
    name = await add(runner, "counter")
    handles = [
        await runner.submit(name, request(tmp_path, label=f"p{i}", seconds=0.05)) for i in range(5)
    ]
    assert runner.state(name) is WorkerState.BUSY
    assert runner.state_info(name).queued == 4
    results = [await collect(handle) for handle in handles]
    assert [r.done.output for r in results] == [f"p{i}:{i + 1}" for i in range(5)]
    assert runner.state(name) is WorkerState.READY


async def test_async_model_runs_predictions_concurrently(
    runner: Runner, tmp_path: pathlib.Path
) -> None:
    """With max_concurrency 4, four sleeping async predictions overlap."""
    name = await add(runner, "sleep_async", max_concurrency=4)
    loop = asyncio.get_running_loop()
    start = loop.time()
    handles = [await runner.submit(name, request(tmp_path, seconds=0.5)) for _ in range(4)]
    results = [await collect(h) for h in handles]
    assert all(r.done.status == "succeeded" for r in results)
    assert loop.time() - start < 1.5  # serially it would take 2 s


async def test_setup_receives_weights(runner: Runner, tmp_path: pathlib.Path) -> None:
    """A setup(weights) gets the spec's weights."""
    name = await add(runner, "setup_weights", weights="https://example.com/w.bin")
    result = await predict(runner, name, tmp_path)
    assert result.done.output == "weights=https://example.com/w.bin"


async def test_custom_metrics_and_context(runner: Runner, tmp_path: pathlib.Path) -> None:
    """Metrics recorded by the model are streamed and merged into Done's metrics."""
    name = await add(runner, "metrics")
    req = request(tmp_path, tokens=4)
    req = type(req)(req.id, req.input, req.output_dir, context={"who": "ada"})
    result = await collect(await runner.submit(name, req))
    assert result.done.output == "ada"
    assert result.done.metrics["output_tokens"] == 4
    assert result.done.metrics["timing"] == {"model": 0.25}
    assert len(result.metrics) == 5


async def test_describe_reads_the_schema_without_running_setup() -> None:
    """Runner.describe imports the model in a worker and returns its schema only."""
    schema = await Runner.describe(spec("exc_in_setup"))
    assert schema["components"]["schemas"]["Input"]["properties"]["text"]["default"] == "x"


async def test_unknown_prediction_cancel_is_false(runner: Runner) -> None:
    """Cancelling an id no model has returns False."""
    assert await runner.cancel("nope") is False
