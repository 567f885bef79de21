"""The README's pipeline, with the official Python client: OCR a page, then speak its text,
passing the first model's output URL as the second model's input."""

from __future__ import annotations

import io
import pathlib
import wave
from collections.abc import Iterator

import httpx
import pytest

from foretell.models import builtin_models
from tests.server import Server, official_client, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    models = [f"{n}={builtin_models()[n]}" for n in ("foretell/ocr", "foretell/speech")]
    server = start_server(tmp_path_factory.mktemp("pipeline") / "data", models)
    yield server
    server.stop()


def test_ocr_then_speech_by_output_url(server: Server) -> None:
    """client.run returns file outputs; the second run takes the first one's URL as is."""
    sample = pathlib.Path(builtin_models()["foretell/ocr"]) / "sample.png"
    with official_client(server) as client, sample.open("rb") as image:
        page = client.run("foretell/ocr", input={"image": image})
        assert isinstance(page, dict)  # an object output, not an iterator
        assert page["text"].strip()
        # str(): over https the client hands back FileOutput objects; their str() is the URL
        text_file = str(page["text_file"])
        speech = client.run(
            "foretell/speech", input={"text_file": text_file, "output_format": "wav"}
        )
    with wave.open(io.BytesIO(httpx.get(str(speech)).content)) as audio:
        seconds = audio.getnframes() / audio.getframerate()
    assert seconds > 1.0
