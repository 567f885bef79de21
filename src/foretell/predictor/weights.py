"""What `setup(weights=...)` receives: COG_WEIGHTS (a local path or a URL), typed as asked."""

from __future__ import annotations

import io
import os
import pathlib
import types
import typing
import urllib.parse
from collections.abc import Callable
from typing import Any

from foretell.predictor.files import materialise
from foretell.predictor.inspect import signature_function, type_hints
from foretell.predictor.types import Path

#: the environment variable Cog reads a version's weights from (a path or a URL)
WEIGHTS_VARIABLE = "COG_WEIGHTS"


def weights_argument(setup: Callable[..., Any], value: str | None, workdir: pathlib.Path) -> Any:
    """`value` as setup()'s `weights` parameter asks for it, as Cog's Python releases did:
    `Path` gets a local Path (a URL downloaded into `workdir` first), `File` an open file,
    `str` or no annotation the value as given (what Cog's newest runtime passes to all)."""
    if value is None:
        return None
    wanted = _annotation(setup)
    if wanted is None:
        return value
    local = _local(value, workdir)
    if issubclass(wanted, io.IOBase):
        return local.open("rb")
    return Path(local)


def _annotation(setup: Callable[..., Any]) -> type | None:
    """Path or File when `weights` is annotated with one (Optional or not); else None."""
    function, _ = signature_function(setup)
    hint = type_hints(function).get("weights")
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        hint = members[0] if len(members) == 1 else None
    if isinstance(hint, type) and issubclass(hint, os.PathLike | io.IOBase):
        return hint
    return None


def _local(value: str, workdir: pathlib.Path) -> pathlib.Path:
    """A local path for `value`: a path as it is, a file:// URL's path, a download of a URL."""
    scheme = urllib.parse.urlsplit(value).scheme.lower()
    if scheme in ("http", "https", "data"):
        return materialise(value, workdir, allow_local_files=False)
    if scheme == "file":
        return pathlib.Path(urllib.parse.unquote(urllib.parse.urlsplit(value).path))
    return pathlib.Path(value)
