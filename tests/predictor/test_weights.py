"""setup(weights=...): COG_WEIGHTS (a path or a URL) typed as the parameter asks."""

from __future__ import annotations

import base64
import io
import pathlib
from typing import Any

from foretell.predictor import File, Path
from foretell.predictor.load import load_predictor
from foretell.predictor.weights import weights_argument

PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"


def _as_str(weights: str | None = None) -> None: ...
def _as_path(weights: Path) -> None: ...
def _as_optional_path(weights: Path | None = None) -> None: ...
def _as_file(weights: File) -> None: ...
def _untyped(weights=None) -> None: ...  # unannotated on purpose


def test_none_stays_none(tmp_path: pathlib.Path) -> None:
    """No weights: setup gets None whatever it asks for."""
    assert weights_argument(_as_path, None, tmp_path) is None


def test_str_and_untyped_get_the_value_as_given(tmp_path: pathlib.Path) -> None:
    """What Cog's newest runtime passes to every setup: the string itself, URL or path."""
    for setup in (_as_str, _untyped):
        assert weights_argument(setup, "https://example.com/w.tar", tmp_path) == (
            "https://example.com/w.tar"
        )


def test_a_path_gets_a_local_path(tmp_path: pathlib.Path) -> None:
    """A local path (or a file:// URL) becomes a cog Path, Optional or not."""
    file = tmp_path / "w.bin"
    file.write_bytes(b"w")
    for setup in (_as_path, _as_optional_path):
        for value in (str(file), file.as_uri()):
            weights = weights_argument(setup, value, tmp_path)
            assert isinstance(weights, Path)
            assert weights == file


def test_a_path_given_a_url_gets_the_download(tmp_path: pathlib.Path) -> None:
    """As Cog's Python releases did: a URL for a Path is fetched into the work directory."""
    url = "data:application/octet-stream;base64," + base64.b64encode(b"weights!").decode()
    weights = weights_argument(_as_path, url, tmp_path / "work")
    assert isinstance(weights, Path)
    assert weights.read_bytes() == b"weights!"
    assert (tmp_path / "work") in weights.parents


def test_a_file_gets_an_open_file(tmp_path: pathlib.Path) -> None:
    """`weights: File` is the weights opened for reading."""
    file = tmp_path / "w.bin"
    file.write_bytes(b"bytes")
    opened: Any = weights_argument(_as_file, str(file), tmp_path)
    assert isinstance(opened, io.IOBase)
    with opened:
        assert opened.read() == b"bytes"


def test_loaded_predictor_setup_passes_typed_weights(tmp_path: pathlib.Path) -> None:
    """Through LoadedPredictor.setup: a Path-annotated setup reads the file."""
    file = tmp_path / "greeting.txt"
    file.write_text("Hi")
    predictor = load_predictor("trainable.py:Predictor", root=PREDICTORS)
    predictor.setup(str(file), workdir=tmp_path)
    assert predictor.call({"name": "Ada"}) == "Hi (Path) greets Ada"
