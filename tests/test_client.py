"""foretell.client against a real `foretell serve`: the API's resources, errors and streams."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from foretell.client import ApiError, Client, ClientConfig, ConnectError, api_root
from foretell.core.refs import ModelRef
from tests.server import Server, free_port, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("client")
    started = start_server(tmp / "data", ["foretell/hello", "foretell/wordcount"])
    yield started
    started.stop()


def client_for(server: Server, token: str | None = None) -> Client:
    return Client(ClientConfig(base_url=server.url, token=token or server.token))


def test_api_root_accepts_a_base_url_with_or_without_v1() -> None:
    """`http://h:p`, `http://h:p/v1` and `http://h:p/v1/` all mean the same API root."""
    assert {api_root(u) for u in ("http://h:1", "http://h:1/v1", "http://h:1/v1/")} == {
        "http://h:1/v1"
    }


def test_config_reads_flags_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flags win over FORETELL_BASE_URL / REPLICATE_API_TOKEN, which win over the defaults."""
    monkeypatch.setenv("FORETELL_BASE_URL", "http://env:1")
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_env")
    assert ClientConfig.from_env().base_url == "http://env:1"
    assert ClientConfig.from_env("http://flag:2", "r8_flag").token == "r8_flag"
    monkeypatch.delenv("FORETELL_BASE_URL")
    assert ClientConfig.from_env().base_url == "http://127.0.0.1:5000"


async def test_model_schema_and_search(server: Server) -> None:
    """A model comes with its schema; search finds it by a word of its description."""
    async with client_for(server) as client:
        schema = await client.schema(ModelRef.parse("foretell/hello"))
        assert "repeat" in schema["components"]["schemas"]["Input"]["properties"]
        found = await client.search("words")
        assert "foretell/wordcount" in {f"{m['owner']}/{m['name']}" for m in found["results"]}
        version = (await client.model("foretell", "hello"))["latest_version"]
        pinned = ModelRef.parse(f"foretell/hello:{version['id']}")
        assert await client.schema(pinned) == schema


async def test_create_wait_stream_and_get(server: Server) -> None:
    """A prediction created with wait finishes; its stream replays output, logs and done."""
    async with client_for(server) as client:
        ref = ModelRef.parse("foretell/hello")
        prediction = await client.create_prediction(ref, {"delay": 0, "repeat": 1}, wait_s=30)
        assert prediction["status"] == "succeeded"
        events = [event async for event in client.stream(prediction)]
        assert "".join(e.data for e in events if e.event == "output") == "Hello World! "
        assert any(e.event == "logs" for e in events)
        assert events[-1].event == "done"
        again = await client.prediction(prediction["id"])
        assert again["output"] == prediction["output"]
        assert (await client.cancel(prediction["id"]))["status"] == "succeeded"
        listed = await client.predictions()
        assert prediction["id"] in [p["id"] for p in listed["results"]]


async def test_upload_then_download_an_output(server: Server, tmp_path: pathlib.Path) -> None:
    """An uploaded file's URL is a valid file input; the output file downloads intact."""
    async with client_for(server) as client:
        uploaded = await client.upload(b"one two two\n", "words.txt")
        ref = ModelRef.parse("foretell/wordcount")
        done = await client.create_prediction(ref, {"text": uploaded["urls"]["get"]}, wait_s=30)
        assert done["output"]["words"] == 3
        saved = await client.download(done["output"]["report"], tmp_path / "report.txt")
        assert saved.read_text().startswith("two\t2")


async def test_errors_carry_the_apis_status_and_message(server: Server) -> None:
    """404, 401 and 422 raise ApiError with the API's own title, detail and invalid_fields."""
    async with client_for(server) as client:
        with pytest.raises(ApiError) as missing:
            await client.model("nobody", "nothing")
        assert missing.value.status == 404
        with pytest.raises(ApiError) as invalid:
            await client.create_prediction(ModelRef.parse("foretell/hello"), {"repeat": 0})
        assert invalid.value.status == 422
        assert invalid.value.invalid_fields[0]["field"] == "input.repeat"
    async with client_for(server, token="r8_not_a_token") as client:
        with pytest.raises(ApiError) as denied:
            await client.models()
        assert denied.value.status == 401


async def test_an_unreachable_api_is_a_connect_error() -> None:
    """Nothing listening at the base URL raises ConnectError naming it."""
    url = f"http://127.0.0.1:{free_port()}"
    async with Client(ClientConfig(base_url=url)) as client:
        with pytest.raises(ConnectError, match=url):
            await client.models()
