"""Finds faces, eyes, smiles, bodies, cat faces or licence plates with OpenCV's Haar cascades
(the classifiers ship inside the opencv-python-headless wheel) and draws boxes around them."""

from __future__ import annotations

import pathlib
import re
import tempfile
from typing import Any

# Installed in the model's own environment only, not where mypy runs.
import cv2  # type: ignore[import-not-found,unused-ignore]
import numpy as np  # type: ignore[import-not-found,unused-ignore]

from cog import BaseModel, BasePredictor, Input, Path

# target -> its cascade file among those the wheel ships in cv2/data/
CASCADES = {
    "face": "haarcascade_frontalface_default.xml",
    "profile_face": "haarcascade_profileface.xml",
    "eye": "haarcascade_eye.xml",
    "eye_with_glasses": "haarcascade_eye_tree_eyeglasses.xml",
    "smile": "haarcascade_smile.xml",
    "full_body": "haarcascade_fullbody.xml",
    "upper_body": "haarcascade_upperbody.xml",
    "lower_body": "haarcascade_lowerbody.xml",
    "cat_face": "haarcascade_frontalcatface_extended.xml",
    "license_plate": "haarcascade_russian_plate_number.xml",
}
# These cascades fire on any texture alike, so they only look inside the faces found first,
# in the part of the face where the feature sits (top-down fractions of the face box).
INSIDE_FACE = {"eye": (0.0, 0.6), "eye_with_glasses": (0.0, 0.6), "smile": (0.5, 1.0)}
# At most this many per face (the highest scores): a face has two eyes and one mouth.
PER_FACE = {"eye": 2, "eye_with_glasses": 2, "smile": 1}

HEX_COLOR = r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"
EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


class Detection(BaseModel):
    label: str
    x: int
    y: int
    width: int
    height: int
    score: float


class Output(BaseModel):
    image: Path
    detections: list[Detection]


Box = tuple[int, int, int, int, float]  # x, y, width, height, score


class Predictor(BasePredictor):
    def setup(self) -> None:
        # cv2.data.haarcascades, spelt so that cv2's own type stubs (which lack it) agree
        root = pathlib.Path(cv2.__file__).parent / "data"
        self.cascades: dict[str, Any] = {}
        for target, file in CASCADES.items():
            cascade = cv2.CascadeClassifier(str(root / file))
            if cascade.empty():
                raise RuntimeError(f"OpenCV could not load its cascade {root / file}")
            self.cascades[target] = cascade

    def predict(
        self,
        image: Path = Input(description="The photo to search (PNG, JPEG, WebP, BMP, TIFF...)"),
        target: str = Input(
            description="What to find; eye and smile are looked for inside the faces found",
            default="face",
            choices=list(CASCADES),
        ),
        min_neighbors: int = Input(
            description="How many overlapping hits a box needs: higher, fewer false boxes",
            default=5,
            ge=1,
            le=20,
        ),
        scale_factor: float = Input(
            description="Step between the scanned sizes: smaller finds more, slower",
            default=1.1,
            ge=1.01,
            le=2.0,
        ),
        min_size: int = Input(
            description="Smallest box side in pixels (0: the cascade's own minimum)",
            default=0,
            ge=0,
            le=4096,
        ),
        box_color: str = Input(
            description="Box colour as hex, e.g. #00ff00 or #0f0",
            default="#00ff00",
            regex=HEX_COLOR,
            max_length=7,
        ),
        line_width: int = Input(
            description="Box line width in pixels (0: scaled to the image)", default=0, ge=0, le=50
        ),
        output_format: str = Input(
            description="Format of the image with the boxes",
            default="png",
            choices=list(EXTENSIONS),
        ),
    ) -> Output:
        picture = cv2.imdecode(np.fromfile(str(image), dtype=np.uint8), cv2.IMREAD_COLOR)
        if picture is None:
            raise ValueError(
                f"{image.name} is not an image OpenCV can read (PNG, JPEG, WebP, BMP, TIFF...)"
            )
        height, width = picture.shape[:2]
        # Haar features compare brightness; equalising makes them robust to exposure.
        gray = cv2.equalizeHist(cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY))
        if target in INSIDE_FACE:
            boxes = self._inside_faces(gray, target, scale_factor, min_neighbors, min_size)
        else:
            boxes = self._detect(gray, target, scale_factor, min_neighbors, min_size)
        boxes.sort(key=lambda box: box[4], reverse=True)

        color = _bgr(box_color)
        thickness = line_width or max(2, round(min(width, height) / 200))
        for x, y, w, h, _ in boxes:
            cv2.rectangle(picture, (x, y), (x + w - 1, y + h - 1), color, thickness)
        out = Path(tempfile.mkdtemp()) / f"detections{EXTENSIONS[output_format]}"
        ok, encoded = cv2.imencode(EXTENSIONS[output_format], picture, _quality(output_format))
        if not ok:
            raise RuntimeError(f"OpenCV could not encode the result as {output_format}")
        out.write_bytes(encoded.tobytes())
        print(f"{width}x{height}: {len(boxes)} {target} box(es)")
        return Output(
            image=out,
            detections=[
                Detection(label=target, x=x, y=y, width=w, height=h, score=round(score, 3))
                for x, y, w, h, score in boxes
            ],
        )

    def _detect(
        self, gray: Any, target: str, scale: float, neighbors: int, min_size: int
    ) -> list[Box]:
        """One cascade over the image; the score is the last stage's sum (higher: surer)."""
        cascade = self.cascades[target]
        size = (min_size, min_size)  # (0, 0): the cascade's own window
        found, _, weights = cascade.detectMultiScale3(
            gray,
            scaleFactor=scale,
            minNeighbors=neighbors,
            minSize=size,
            outputRejectLevels=True,
        )
        return [
            (int(x), int(y), int(w), int(h), float(weight))
            for (x, y, w, h), weight in zip(found, weights, strict=True)
        ]

    def _inside_faces(
        self, gray: Any, target: str, scale: float, neighbors: int, min_size: int
    ) -> list[Box]:
        """The target in the band of each face where it can be (eyes up top, the mouth below)."""
        top, bottom = INSIDE_FACE[target]
        boxes: list[Box] = []
        for fx, fy, fw, fh, _ in self._detect(gray, "face", 1.1, 5, 0):
            y0, y1 = fy + int(fh * top), fy + int(fh * bottom)
            found = self._detect(gray[y0:y1, fx : fx + fw], target, scale, neighbors, min_size)
            found.sort(key=lambda box: box[4], reverse=True)
            boxes += [(fx + x, y0 + y, w, h, s) for x, y, w, h, s in found[: PER_FACE[target]]]
        return boxes


def _bgr(color: str) -> tuple[int, int, int]:
    """'#rgb' or '#rrggbb' (the input's pattern checked it) as OpenCV's BGR order."""
    digits = color.strip().lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{3}|[0-9a-fA-F]{6}", digits):
        raise ValueError(f"box_color {color!r} is not a hex colour like #00ff00")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return blue, green, red


def _quality(output_format: str) -> list[int]:
    if output_format == "jpeg":
        return [cv2.IMWRITE_JPEG_QUALITY, 90]
    if output_format == "webp":
        return [cv2.IMWRITE_WEBP_QUALITY, 90]
    return []
