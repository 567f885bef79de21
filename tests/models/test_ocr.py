"""foretell/ocr (Tesseract) through a real `foretell serve`, and OCR -> speech."""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image, ImageDraw, ImageFont

from foretell.models import builtin_models
from tests.server import Server, run_prediction, serve_builtin

MODELS = builtin_models()
LINES = [
    "Invoice 2026-11-24",
    "Total due: $1,234.56",
    "The quick brown fox jumps",
    "over the lazy dog.",
]
WORDS = " ".join(LINES).split()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """OCR and speech: the pipeline test feeds one's output URL to the other."""
    data = tmp_path_factory.mktemp("ocr") / "data"
    server = serve_builtin(data, "foretell/ocr", "foretell/speech")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def image() -> str:
    """The lines drawn large and clear with Pillow's bundled font (no system fonts needed)."""
    font = ImageFont.load_default(size=40)
    picture = Image.new("L", (900, 300), 255)
    draw = ImageDraw.Draw(picture)
    for number, line in enumerate(LINES):
        draw.text((30, 25 + 65 * number), line, fill=0, font=font)
    png = io.BytesIO()
    picture.save(png, "PNG")
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()


def test_reads_the_exact_text_and_its_file(server: Server, image: str) -> None:
    """The text comes back exactly, line by line; text_file holds the same text; no words."""
    result = run_prediction(server, "foretell/ocr", {"image": image})
    assert result["status"] == "succeeded", result
    output = result["output"]
    assert [line for line in output["text"].splitlines() if line.strip()] == LINES
    assert output["words"] is None
    download = httpx.get(output["text_file"], timeout=30)
    assert download.status_code == 200
    assert download.content.decode("utf-8") == output["text"] + "\n"
    assert f"characters, {len(WORDS)} words in" in result["logs"]


def test_word_boxes(server: Server, image: str) -> None:
    """word_boxes: each word in reading order, confident, its box inside the image and on
    its line."""
    result = run_prediction(
        server, "foretell/ocr", {"image": image, "word_boxes": True, "page_segmentation": 6}
    )
    assert result["status"] == "succeeded", result
    words = result["output"]["words"]
    assert [w["word"] for w in words] == WORDS
    line_of = [number for number, line in enumerate(LINES) for _ in line.split()]
    for word, line in zip(words, line_of, strict=True):
        assert word["confidence"] > 80, word
        assert 0 <= word["left"] and word["left"] + word["width"] <= 900, word
        assert 0 <= word["top"] and word["top"] + word["height"] <= 300, word
        assert 15 <= word["height"] <= 60, word
        # the line was drawn at y = 25 + 65 * line; its glyphs sit within that band
        assert 20 + 65 * line <= word["top"] <= 25 + 65 * line + 25, word
    for previous, word in zip(words, words[1:], strict=False):
        if word["top"] - previous["top"] < 20:  # the same line: left to right
            assert word["left"] > previous["left"] + previous["width"], (previous, word)


def test_single_line_mode(server: Server) -> None:
    """page_segmentation 7 reads one line."""
    font = ImageFont.load_default(size=40)
    picture = Image.new("RGB", (700, 80), "white")
    ImageDraw.Draw(picture).text((20, 15), "Single line 42", fill="black", font=font)
    png = io.BytesIO()
    picture.save(png, "PNG")
    uri = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    result = run_prediction(server, "foretell/ocr", {"image": uri, "page_segmentation": 7})
    assert result["status"] == "succeeded", result
    assert result["output"]["text"] == "Single line 42"


def test_bad_inputs(server: Server, image: str) -> None:
    """A psm that isn't a choice is a 422; a language not installed fails, naming the pack."""
    with server.client() as http:
        for inputs in (
            {"image": image, "page_segmentation": 0},
            {"image": image, "language": "eng; rm -rf /"},
        ):
            response = http.post("/v1/models/foretell/ocr/predictions", json={"input": inputs})
            assert response.status_code == 422, (inputs, response.text)
    result = run_prediction(server, "foretell/ocr", {"image": image, "language": "eng+zzz"})
    assert result["status"] == "failed"
    assert "no zzz language pack" in result["error"]
    assert "apt-get install tesseract-ocr-zzz" in result["error"]


def test_not_an_image_fails_clearly(server: Server) -> None:
    uri = "data:text/plain;base64," + base64.b64encode(b"not an image").decode()
    result = run_prediction(server, "foretell/ocr", {"image": uri})
    assert result["status"] == "failed"
    assert "tesseract failed" in result["error"]


def test_ocr_then_speech(server: Server, image: str) -> None:
    """The OCR's text_file output URL goes straight into foretell/speech as text_file."""
    ocr = run_prediction(server, "foretell/ocr", {"image": image})
    assert ocr["status"] == "succeeded", ocr
    speech = run_prediction(server, "foretell/speech", {"text_file": ocr["output"]["text_file"]})
    assert speech["status"] == "succeeded", speech
    audio = httpx.get(speech["output"], timeout=30).content
    with wave.open(io.BytesIO(audio)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert 3 < seconds < 15
    assert f"{len(ocr['output']['text']) + 1} characters" in speech["logs"]


def test_example_runs_as_is(server: Server) -> None:
    """example.json (the model's default_example) reads its shipped sample.png exactly."""
    example = json.loads((MODELS["foretell/ocr"] / "example.json").read_text())
    sample = (MODELS["foretell/ocr"] / "sample.png").read_bytes()
    assert example["input"]["image"] == "data:image/png;base64," + base64.b64encode(sample).decode()
    result = run_prediction(server, "foretell/ocr", example["input"])
    assert result["status"] == "succeeded", result
    assert [line for line in result["output"]["text"].splitlines() if line.strip()] == [
        "foretell reads printed text.",
        *LINES,
    ]
