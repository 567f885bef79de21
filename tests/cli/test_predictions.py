"""`foretell predictions list|get|cancel|stream` against a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cli.remote import foretell
from tests.server import Server, fixture_model, start_server, wait_done


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("predictions")
    sleep = fixture_model(
        tmp, "sleep", 'predict: "predict.py:Predictor"\nimage: r8.im/test/sleep\n'
    )
    started = start_server(tmp / "data", ["foretell/hello", str(sleep)])
    yield started
    started.stop()


def test_list_get_and_stream_a_finished_prediction(server: Server) -> None:
    """list shows the prediction, get prints its JSON, stream replays its text output."""
    created = foretell(server, "run", "foretell/hello", "-i", "delay=0", "-i", "name=Bo")
    assert created.returncode == 0, created.stderr
    listed = foretell(server, "predictions", "list", "--json", "--limit", "1")
    [latest] = json.loads(listed.stdout)
    assert latest["model"] == "foretell/hello"
    table = foretell(server, "predictions", "list")
    assert latest["id"] in table.stdout and "succeeded" in table.stdout
    got = json.loads(foretell(server, "predictions", "get", latest["id"]).stdout)
    assert got["input"]["name"] == "Bo"
    streamed = foretell(server, "predictions", "stream", latest["id"])
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout == "Hello Bo! \nHello Bo! \nHello Bo! \n"


def test_cancel_a_running_prediction(server: Server) -> None:
    """cancel prints the new status; the prediction ends canceled."""
    created = foretell(server, "run", "test/sleep", "-i", "seconds=30", "--no-wait")
    prediction_id = created.stdout.strip()
    result = foretell(server, "predictions", "cancel", prediction_id)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{prediction_id}: ")
    with server.client() as http:
        assert wait_done(http, prediction_id, 30)["status"] == "canceled"


def test_an_unknown_id_is_a_clear_404(server: Server) -> None:
    """get of an id that isn't the caller's says so and exits 1, without a traceback."""
    result = foretell(server, "predictions", "get", "nosuchprediction")
    assert result.returncode == 1
    assert "Not found" in result.stderr and "Traceback" not in result.stderr
