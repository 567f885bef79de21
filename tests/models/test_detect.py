"""foretell/detect (OpenCV Haar cascades, in its own environment) through a real `foretell serve`."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from foretell.models import builtin_models
from tests.server import BUILD_TIMEOUT_S, Server, run_prediction, serve_builtin

DETECT = builtin_models()["foretell/detect"]
EXAMPLE: dict[str, Any] = json.loads((DETECT / "example.json").read_text())["input"]
MAGENTA = (255, 0, 255)

# The first environment build (pip install of OpenCV) may take minutes.
pytestmark = pytest.mark.timeout(BUILD_TIMEOUT_S + 120)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = serve_builtin(tmp_path_factory.mktemp("detect") / "data", "foretell/detect")
    yield server
    server.stop()


def predict(server: Server, inputs: dict[str, Any]) -> dict[str, Any]:
    return run_prediction(server, "foretell/detect", inputs)


def fetch_image(url: str) -> Image.Image:
    image = Image.open(io.BytesIO(httpx.get(url, timeout=30).content))
    image.load()
    return image


def png_uri(image: Image.Image) -> str:
    data = io.BytesIO()
    image.save(data, "PNG")
    return "data:image/png;base64," + base64.b64encode(data.getvalue()).decode()


def test_example_runs_as_is(server: Server) -> None:
    """example.json's input succeeds unchanged and finds the astronaut's face."""
    result = predict(server, EXAMPLE)
    assert result["status"] == "succeeded", result
    assert [d["label"] for d in result["output"]["detections"]] == ["face"]
    assert fetch_image(result["output"]["image"]).format == "JPEG"


def test_sample_face_box_is_plausible_and_drawn(server: Server) -> None:
    """One face on the 320×320 sample, where her face is; the PNG out has the same size and
    magenta pixels along the box's edges."""
    result = predict(server, {"image": EXAMPLE["image"], "box_color": "#f0f", "line_width": 3})
    assert result["status"] == "succeeded", result
    faces = result["output"]["detections"]
    assert len(faces) >= 1
    face = faces[0]
    assert face["label"] == "face" and face["score"] > 0
    x, y, w, h = face["x"], face["y"], face["width"], face["height"]
    # The face is in the upper middle of the photo, about 60 px wide.
    assert 40 <= w <= 100 and 40 <= h <= 100, face
    assert 80 <= x + w / 2 <= 200 and 40 <= y + h / 2 <= 120, face
    image = fetch_image(result["output"]["image"]).convert("RGB")
    assert image.size == (320, 320)
    edges = [
        (x + w // 2, y),  # top
        (x + w // 2, y + h - 1),  # bottom
        (x, y + h // 2),  # left
        (x + w - 1, y + h // 2),  # right
    ]
    assert [image.getpixel(p) for p in edges] == [MAGENTA] * 4
    # ...and the inside of the box is the photo, not paint.
    assert image.getpixel((x + w // 2, y + h // 2)) != MAGENTA
    assert "320x320: 1 face box(es)" in result["logs"]


def test_eyes_are_inside_the_face(server: Server) -> None:
    """`eye` looks inside the faces found: two boxes, both within the face's upper part."""
    face = predict(server, {"image": EXAMPLE["image"]})["output"]["detections"][0]
    result = predict(server, {"image": EXAMPLE["image"], "target": "eye"})
    assert result["status"] == "succeeded", result
    eyes = result["output"]["detections"]
    assert len(eyes) == 2, eyes
    for eye in eyes:
        assert eye["label"] == "eye"
        assert face["x"] <= eye["x"] and eye["x"] + eye["width"] <= face["x"] + face["width"]
        assert face["y"] <= eye["y"] and eye["y"] + eye["height"] <= face["y"] + face["height"]


def test_flat_image_has_no_detections_and_still_returns_an_image(server: Server) -> None:
    uri = png_uri(Image.new("RGB", (200, 150), (120, 130, 140)))
    result = predict(server, {"image": uri, "output_format": "webp"})
    assert result["status"] == "succeeded", result
    assert result["output"]["detections"] == []
    image = fetch_image(result["output"]["image"])
    assert (image.format, image.size) == ("WEBP", (200, 150))


def test_not_an_image_fails_clearly(server: Server) -> None:
    uri = "data:text/plain;base64," + base64.b64encode(b"hello, not a picture\n").decode()
    result = predict(server, {"image": uri})
    assert result["status"] == "failed", result
    assert "is not an image OpenCV can read" in result["error"]
    # The worker survived: the next prediction works.
    assert predict(server, {"image": EXAMPLE["image"]})["status"] == "succeeded"


@pytest.mark.parametrize("color", ["green", "#12345", "#gg0000", "ff00ff00"])
def test_bad_box_color_is_422(server: Server, color: str) -> None:
    with server.client() as http:
        response = http.post(
            "/v1/models/foretell/detect/predictions",
            json={"input": {"image": EXAMPLE["image"], "box_color": color}},
        )
    assert response.status_code == 422, response.text
    # one entry per broken rule (pattern, and maxLength for a long one), all about box_color
    fields = {f["field"] for f in response.json()["invalid_fields"]}
    assert fields == {"input.box_color"}


def test_output_schema_lists_detections(server: Server) -> None:
    """The nested BaseModel list is described in the version's OpenAPI Output."""
    with server.client() as http:
        model = http.get("/v1/models/foretell/detect").json()
    schema = model["latest_version"]["openapi_schema"]["components"]["schemas"]["Output"]
    items = schema["properties"]["detections"]["items"]
    assert schema["properties"]["image"] == {"type": "string", "format": "uri", "title": "Image"}
    assert set(items["properties"]) == {"label", "x", "y", "width", "height", "score"}
    assert items["properties"]["score"]["type"] == "number"
