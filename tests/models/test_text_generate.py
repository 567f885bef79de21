"""foretell/text-generate (Gemma 3 270M on llama.cpp) through a real `foretell serve`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from foretell.models import builtin_models
from tests.server import BUILD_TIMEOUT_S, Server, serve_builtin, wait_done

MODEL = "foretell/text-generate"
DIRECTORY = builtin_models()[MODEL]
PROMPT = "The old lighthouse keeper climbed the stairs every evening. One night, he"
TERMINAL = ("succeeded", "failed", "canceled")

pytestmark = pytest.mark.timeout(BUILD_TIMEOUT_S + 300)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = serve_builtin(tmp_path_factory.mktemp("text-generate") / "data", MODEL)
    yield server
    server.stop()


def create(server: Server, body: dict[str, Any], wait: bool = True) -> dict[str, Any]:
    with server.client() as http:
        response = http.post(
            f"/v1/models/{MODEL}/predictions",
            json=body,
            headers={"Prefer": "wait"} if wait else {},
        )
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


def poll(server: Server, result: dict[str, Any]) -> dict[str, Any]:
    """Poll a prediction to a terminal status (Prefer: wait gives up after 60 s)."""
    if result["status"] in TERMINAL:
        return result
    with server.client() as http:
        return wait_done(http, result["id"], BUILD_TIMEOUT_S)


def predict(server: Server, inputs: dict[str, Any]) -> dict[str, Any]:
    return poll(server, create(server, {"input": inputs}))


def generate(server: Server, **inputs: Any) -> dict[str, Any]:
    result = predict(server, {"prompt": PROMPT, **inputs})
    assert result["status"] == "succeeded", result
    return result


def sse_events(response: httpx.Response) -> Iterator[tuple[str, str]]:
    """(event, data) pairs of an SSE stream; multi-line data is joined with newlines."""
    name = "message"
    data: list[str] = []
    for line in response.iter_lines():
        if not line:
            if data or name != "message":
                yield name, "\n".join(data)
            name, data = "message", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            value = line[5:]
            data.append(value[1:] if value.startswith(" ") else value)


def test_tokens_stream_over_sse_and_match_the_output(server: Server) -> None:
    """Tokens arrive one by one as `output` events; together they are the final output."""
    created = create(
        server,
        {"input": {"prompt": PROMPT, "max_tokens": 24, "seed": 5}, "stream": True},
        wait=False,
    )
    stream_url = created["urls"]["stream"]
    events: list[tuple[str, str]] = []
    with (
        httpx.Client(timeout=BUILD_TIMEOUT_S) as http,
        http.stream("GET", stream_url, headers={"Accept": "text/event-stream"}) as response,
    ):
        assert response.status_code == 200
        for event in sse_events(response):
            events.append(event)
            if event[0] == "done":
                break
    names = [name for name, _ in events]
    assert names[-1] == "done"
    outputs = [data for name, data in events if name == "output"]
    assert len(outputs) >= 10, events  # token by token, not one chunk at the end
    assert names.index("done") > max(i for i, name in enumerate(names) if name == "output")
    final = poll(server, created)
    assert final["status"] == "succeeded", final
    assert final["output"] == outputs
    assert "".join(outputs) == "".join(final["output"]) and "".join(outputs).strip()


def test_same_seed_same_text_other_seed_other_text(server: Server) -> None:
    first = generate(server, max_tokens=32, seed=1234)
    again = generate(server, max_tokens=32, seed=1234)
    other = generate(server, max_tokens=32, seed=4321)
    assert "".join(first["output"]) == "".join(again["output"])
    assert "".join(first["output"]) != "".join(other["output"])
    assert "Using seed: 1234" in first["logs"]


def test_without_a_seed_a_random_one_is_logged(server: Server) -> None:
    logs = [generate(server, max_tokens=4)["logs"] for _ in range(2)]
    seeds = [line for text in logs for line in text.splitlines() if line.startswith("Using seed: ")]
    assert len(seeds) == 2 and seeds[0] != seeds[1], logs


def test_max_tokens_bounds_the_output(server: Server) -> None:
    result = generate(server, max_tokens=5, seed=9)
    metrics = result["metrics"]
    # each yield is one token (a character split across tokens comes out once whole)
    assert 1 <= len(result["output"]) <= 5
    assert metrics["output_token_count"] == 5, metrics  # not an early end at this seed
    assert metrics["input_token_count"] > 5
    assert metrics["tokens_per_second"] > 0 and metrics["time_to_first_token"] > 0
    assert "5 tokens in" in result["logs"] and "max_tokens" in result["logs"]


def test_greedy_answer_ends_at_the_stop_sequence(server: Server) -> None:
    result = predict(
        server,
        {
            "prompt": "Q: What is the capital of France?\nA:",
            "temperature": 0,
            "stop_sequences": "\n",
            "max_tokens": 40,
        },
    )
    assert result["status"] == "succeeded", result
    text = "".join(result["output"])
    assert "Paris" in text and "\n" not in text
    assert "stop sequence" in result["logs"]


def test_cancel_stops_generation_promptly(server: Server) -> None:
    created = create(
        server, {"input": {"prompt": PROMPT, "max_tokens": 1024, "seed": 3}}, wait=False
    )
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    with server.client() as http:
        result = created
        while not result.get("output"):  # generating
            assert time.monotonic() < deadline and result["status"] not in TERMINAL, result
            time.sleep(0.1)
            result = http.get(f"/v1/predictions/{created['id']}").json()
        asked = time.monotonic()
        assert http.post(f"/v1/predictions/{created['id']}/cancel").status_code == 200
        while result["status"] not in TERMINAL:
            assert time.monotonic() - asked < 5, result
            time.sleep(0.05)
            result = http.get(f"/v1/predictions/{created['id']}").json()
    assert result["status"] == "canceled", result
    assert 0 < len(result["output"]) < 1024
    # the model still works afterwards, from a clean state
    assert generate(server, max_tokens=3, seed=1)["metrics"]["output_token_count"] == 3


def test_bad_temperature_is_422(server: Server) -> None:
    with server.client() as http:
        response = http.post(
            f"/v1/models/{MODEL}/predictions",
            json={"input": {"prompt": PROMPT, "temperature": 5}},
        )
    assert response.status_code == 422, response.text
    fields = {f["field"] for f in response.json()["invalid_fields"]}
    assert fields == {"input.temperature"}


def test_default_example_runs_as_is(server: Server) -> None:
    import json

    example = json.loads((DIRECTORY / "example.json").read_text())["input"]
    result = predict(server, example)
    assert result["status"] == "succeeded", result
    assert result["metrics"]["output_token_count"] <= example["max_tokens"]
    assert "".join(result["output"]).strip()
