"""File inputs -> local files: download URLs, decode data: URIs, never read server paths."""

from __future__ import annotations

import base64
import mimetypes
import pathlib
import re
import shutil
import tempfile
import urllib.parse
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
    scheme = urllib.parse.urlsplit(value).scheme.lower()
    if scheme == "data":
        path = _decode_data_uri(value, _fresh_dir(workdir))
    elif scheme in ("http", "https"):
        path = (fetch or download)(value, _fresh_dir(workdir))
    elif scheme == "file" and allow_local_files:
        path = _local_file(value)
    else:
        refused = "local paths are not accepted" if scheme in ("", "file") else f"got {scheme}:"
        raise FileInputError(f"must be an http(s) URL or a data: URI ({refused})")
    result = URLPath(path)
    result.source = value if scheme != "data" else "data:"
    return result


def _fresh_dir(workdir: pathlib.Path) -> pathlib.Path:
    """One directory per input file, so two inputs called `image.png` don't collide."""
    workdir.mkdir(parents=True, exist_ok=True)
    return pathlib.Path(tempfile.mkdtemp(prefix="in", dir=workdir))


def safe_name(name: str, fallback: str = "file") -> str:
    """A filename that is safe on any filesystem, keeping the extension."""
    cleaned = _UNSAFE.sub("_", name).strip("._")[:200]
    return cleaned or fallback


def download(url: str, directory: pathlib.Path) -> pathlib.Path:
    """Fetch `url` with the standard library into `directory`, named after the URL's path."""
    from urllib import request  # on use: importing it costs a model's worker 20 ms at start

    path = urllib.parse.urlparse(url).path
    name = safe_name(urllib.parse.unquote(pathlib.PurePosixPath(path).name))
    target = directory / name
    # only http(s) URLs get here: materialise() checks the scheme first
    get = request.Request(url, headers={"User-Agent": "foretell"})  # noqa: S310
    try:
        with request.urlopen(get, timeout=DOWNLOAD_TIMEOUT_S) as response:  # noqa: S310
            if "." not in name:
                extension = mimetypes.guess_extension(response.headers.get_content_type()) or ""
                target = directory / (name + extension)
            with target.open("wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
    except OSError as exc:  # URLError and HTTPError are OSErrors
        if isinstance(exc, request.HTTPError):
            exc.close()  # it holds the response's socket
        raise FileInputError(f"could not download {url}: {exc}") from exc
    return target


def _decode_data_uri(uri: str, directory: pathlib.Path) -> pathlib.Path:
    header, comma, payload = uri[5:].partition(",")
    if not comma:
        raise FileInputError("is not a valid data: URI (no comma)")
    parts = header.split(";")
    mime = parts[0] or "text/plain"
    try:
        if "base64" in parts[1:]:
            # percent-escapes and line breaks are tolerated, as browsers do
            text = "".join(urllib.parse.unquote(payload).split())
            data = base64.b64decode(text, validate=True)
        else:
            data = urllib.parse.unquote_to_bytes(payload)
    except ValueError as exc:
        raise FileInputError("is not a valid data: URI (bad base64)") from exc
    extension = mimetypes.guess_extension(mime) or ""
    target = directory / f"input{extension}"
    target.write_bytes(data)
    return target


def _local_file(url: str) -> pathlib.Path:
    path = pathlib.Path(urllib.parse.unquote(urllib.parse.urlparse(url).path))
    if not path.is_file():
        raise FileInputError(f"no such file: {path}")
    return path
