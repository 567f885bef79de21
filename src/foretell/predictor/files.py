"""File inputs -> local files: download URLs, decode data: URIs, never read server paths."""

from __future__ import annotations

import base64
import mimetypes
import pathlib
import re
import shutil
import urllib.parse
import urllib.request
from collections.abc import Callable

from foretell.predictor.types import URLPath

#: fetch(url, directory) -> the downloaded file, somewhere inside `directory`
Fetcher = Callable[[str, pathlib.Path], pathlib.Path]

DOWNLOAD_TIMEOUT_S = 60.0
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FileInputError(ValueError):
    """A file input that can't become a local file; the message is shown for the field."""


def materialise(
    value: str,
    workdir: pathlib.Path,
    *,
    allow_local_files: bool,
    fetch: Fetcher | None = None,
) -> URLPath:
    """A local copy of the file named by `value` (an http(s) URL, a data: URI or, if allowed,
    a file:// URL), inside a fresh directory under `workdir`."""
    scheme = value.split(":", 1)[0].lower() if ":" in value else ""
    target_dir = _fresh_dir(workdir)
    if scheme == "data":
        path = _decode_data_uri(value, target_dir)
    elif scheme in ("http", "https"):
        path = (fetch or download)(value, target_dir)
    elif scheme == "file" and allow_local_files:
        path = _local_file(value)
    else:
        raise FileInputError(
            "must be an http(s) URL or a data: URI"
            + (" (local paths are not accepted)" if not scheme or scheme == "file" else "")
        )
    result = URLPath(path)
    result.source = value if scheme != "data" else "data:"
    return result


def _fresh_dir(workdir: pathlib.Path) -> pathlib.Path:
    """One directory per input file, so two inputs called `image.png` don't collide."""
    workdir.mkdir(parents=True, exist_ok=True)
    index = sum(1 for _ in workdir.iterdir())
    target = workdir / f"in{index}"
    target.mkdir()
    return target


def safe_name(name: str, fallback: str = "file") -> str:
    """A filename that is safe on any filesystem, keeping the extension."""
    cleaned = _UNSAFE.sub("_", name).strip("._")[:200]
    return cleaned or fallback


def download(url: str, directory: pathlib.Path) -> pathlib.Path:
    """Fetch `url` with the standard library into `directory`, named after the URL's path."""
    name = safe_name(
        urllib.parse.unquote(pathlib.PurePosixPath(urllib.parse.urlparse(url).path).name)
    )
    target = directory / name
    request = urllib.request.Request(url, headers={"User-Agent": "foretell"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310
            if "." not in name:
                extension = mimetypes.guess_extension(response.headers.get_content_type()) or ""
                target = directory / (name + extension)
            with target.open("wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
    except OSError as exc:  # URLError and HTTPError are OSErrors
        raise FileInputError(f"could not download {url}: {exc}") from exc
    return target


def _decode_data_uri(uri: str, directory: pathlib.Path) -> pathlib.Path:
    header, comma, payload = uri[5:].partition(",")
    if not comma:
        raise FileInputError("is not a valid data: URI (no comma)")
    parts = header.split(";")
    mime = parts[0] or "text/plain"
    try:
        data = (
            base64.b64decode(payload, validate=True)
            if "base64" in parts[1:]
            else urllib.parse.unquote_to_bytes(payload)
        )
    except ValueError as exc:
        raise FileInputError("is not a valid data: URI (bad base64)") from exc
    extension = mimetypes.guess_extension(mime) or ""
    target = directory / f"input{extension}"
    target.write_bytes(data)
    return target


def _local_file(url: str) -> pathlib.Path:
    path = pathlib.Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
    if not path.is_file():
        raise FileInputError(f"no such file: {path}")
    return path
