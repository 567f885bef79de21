"""Resize, crop to fit and convert images with Pillow: a handy step between models."""

from __future__ import annotations

import tempfile

from PIL import Image, ImageOps

from cog import BasePredictor, Input, Path

FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


class Predictor(BasePredictor):
    def predict(
        self,
        image: Path = Input(description="The image to transform"),
        width: int = Input(
            description="Target width in pixels (0: keep)", default=512, ge=0, le=8192
        ),
        height: int = Input(
            description="Target height in pixels (0: keep)", default=0, ge=0, le=8192
        ),
        fit: str = Input(
            description="contain: fit inside the box; cover: fill it and crop; stretch: exact size",
            default="contain",
            choices=["contain", "cover", "stretch"],
        ),
        output_format: str = Input(
            description="Format of the result", default="png", choices=["png", "jpeg", "webp"]
        ),
        quality: int = Input(description="JPEG/WebP quality", default=90, ge=1, le=100),
        grayscale: bool = Input(description="Convert to grayscale", default=False),
    ) -> Path:
        with Image.open(image) as source:
            picture = ImageOps.exif_transpose(source)
            picture.load()
        size = self._size(picture.size, width, height)
        if size != picture.size:
            if fit == "cover":
                picture = ImageOps.fit(picture, size, Image.Resampling.LANCZOS)
            elif fit == "stretch":
                picture = picture.resize(size, Image.Resampling.LANCZOS)
            else:
                picture = ImageOps.contain(picture, size, Image.Resampling.LANCZOS)
        if grayscale:
            picture = ImageOps.grayscale(picture)
        if output_format == "jpeg" and picture.mode not in ("RGB", "L"):
            picture = picture.convert("RGB")
        print(f"{source.format} {source.size} -> {output_format.upper()} {picture.size}")
        out = (
            Path(tempfile.mkdtemp())
            / f"image.{'jpg' if output_format == 'jpeg' else output_format}"
        )
        picture.save(out, FORMATS[output_format], quality=quality)
        return out

    @staticmethod
    def _size(original: tuple[int, int], width: int, height: int) -> tuple[int, int]:
        """The target box; a 0 side keeps the aspect ratio (both 0: unchanged)."""
        w, h = original
        if width and height:
            return width, height
        if width:
            return width, max(1, round(h * width / w))
        if height:
            return max(1, round(w * height / h)), height
        return original
