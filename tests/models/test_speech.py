"""foretell/speech (eSpeak NG + LAME) through a real `foretell serve`."""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from foretell.models import builtin_models
from tests.server import Server, run_prediction, serve_builtin

SPEECH = builtin_models()["foretell/speech"]
SENTENCE = "The quick brown fox jumps over the lazy dog."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = serve_builtin(tmp_path_factory.mktemp("speech") / "data", "foretell/speech")
    yield server
    server.stop()


def speak(server: Server, **inputs: Any) -> bytes:
    result = run_prediction(server, "foretell/speech", inputs)
    assert result["status"] == "succeeded", result
    return httpx.get(result["output"], timeout=30).content


def wav_seconds(data: bytes) -> float:
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    with wave.open(io.BytesIO(data)) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (22050, 1, 2)
        return float(audio.getnframes() / audio.getframerate())


def test_wav_duration_follows_text_length_and_speed(server: Server) -> None:
    """A WAV at 22,050 Hz; four times the text is about four times the audio, and twice
    the speed about half of it."""
    one = wav_seconds(speak(server, text=SENTENCE))
    four = wav_seconds(speak(server, text=" ".join([SENTENCE] * 4)))
    fast = wav_seconds(speak(server, text=SENTENCE, speed=350))
    assert 1.5 < one < 6
    assert 3 < four / one < 5
    assert 0.35 < fast / one < 0.75


def test_mp3(server: Server) -> None:
    """MP3 output starts with an ID3 tag or an MPEG frame sync and is smaller than the WAV."""
    mp3 = speak(server, text=SENTENCE, voice="en-gb", pitch=30, output_format="mp3")
    wav = speak(server, text=SENTENCE, voice="en-gb", pitch=30)
    assert mp3[:3] == b"ID3" or (mp3[0] == 0xFF and mp3[1] & 0xE0 == 0xE0), mp3[:4]
    assert 1000 < len(mp3) < len(wav) / 3


def test_text_file_uploaded_or_data_uri(server: Server) -> None:
    """text_file takes a /v1/files URL or a data: URI; it speaks the file's text."""
    content = " ".join([SENTENCE] * 2).encode()
    with server.client() as http:
        created = http.post(
            "/v1/files", files={"content": ("words.txt", content, "text/plain")}
        ).json()
    uploaded = wav_seconds(speak(server, text_file=created["urls"]["get"]))
    uri = "data:text/plain;base64," + base64.b64encode(content).decode()
    inline = wav_seconds(speak(server, text_file=uri))
    direct = wav_seconds(speak(server, text=content.decode()))
    assert uploaded == inline == pytest.approx(direct, rel=0.02)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "Give the text to speak: text or text_file."),
        ({"text": "   "}, "Give the text to speak: text or text_file."),
        (
            {"text": "hi", "text_file": "data:text/plain;base64,aGk="},
            "Give either text or text_file, not both.",
        ),
        ({"text_file": "data:text/plain;base64,"}, "text_file is empty"),
    ],
)
def test_text_inputs_exactly_one(server: Server, inputs: dict[str, Any], message: str) -> None:
    """Neither or both of text and text_file: the prediction fails saying what to give."""
    result = run_prediction(server, "foretell/speech", inputs)
    assert result["status"] == "failed"
    assert message in result["error"]


def test_bad_inputs_are_422(server: Server) -> None:
    """Unknown voice, speed out of range, too long a text: refused before anything runs."""
    with server.client() as http:
        for inputs in (
            {"text": "hi", "voice": "klingon"},
            {"text": "hi", "speed": 20},
            {"text": "hi", "pitch": 100},
            {"text": "x" * 10_001},
        ):
            response = http.post("/v1/models/foretell/speech/predictions", json={"input": inputs})
            assert response.status_code == 422, (inputs, response.text)


def test_example_runs_as_is(server: Server) -> None:
    """example.json (the model's default_example) speaks an MP3."""
    example = json.loads((SPEECH / "example.json").read_text())
    mp3 = speak(server, **example["input"])
    assert mp3[:3] == b"ID3" or (mp3[0] == 0xFF and mp3[1] & 0xE0 == 0xE0)
