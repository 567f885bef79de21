"""`import cog` in a model gets foretell's predictor interface, which needs only the stdlib."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import venv

import pytest

import cog
import cog.types
import foretell.predictor

SRC = pathlib.Path(__file__).parents[2] / "src"
PREDICTORS = pathlib.Path(__file__).parents[1] / "fixtures" / "predictors"

#: Imports everything a worker does, runs a model end to end, and reports what got imported.
BOUNDARY = textwrap.dedent(
    """
    import json, pathlib, sys, tempfile
    before = set(sys.modules)
    import cog, foretell.predictor
    from foretell.predictor import config, encode, load, scope, validate
    root = pathlib.Path(sys.argv[1])
    for ref in ("schema_inputs.py", "schema_basemodel_output.py", "schema_concatenate.py"):
        loaded = load.load_predictor(ref, root=root)
    loaded = load.load_predictor("schema_inputs.py", root=root)
    work = pathlib.Path(tempfile.mkdtemp())
    raw = {"text": "t", "image": "data:,x", "api_key": "k"}
    inputs = loaded.prepare_inputs(raw, workdir=work / "in")
    validate.validate_input(json.loads(json.dumps(loaded.schema)), raw)
    encode.encode_output([inputs["image"]], files_dir=work / "out")
    with scope.use_scope(scope.Scope()):
        cog.current_scope().record_metric("a", 1)
    new = sorted(set(sys.modules) - before)
    print(json.dumps(new))
    """
)


def _imported(python: str, env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        [python, "-c", BOUNDARY, str(PREDICTORS)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _outside_the_boundary(modules: list[str]) -> list[str]:
    allowed_foretell = ("foretell", "foretell.predictor")
    bad = []
    for name in modules:
        top = name.split(".")[0]
        if top == "foretell":
            if not (name in allowed_foretell or name.startswith("foretell.predictor.")):
                bad.append(name)
        elif top not in sys.stdlib_module_names and top not in ("cog", "__main__"):
            if not name.startswith(("schema_", "_")):
                bad.append(name)
    return bad


def test_predictor_imports_only_the_stdlib_here() -> None:
    """In foretell's own environment (pydantic, yaml... installed), running a model imports
    no third-party module and no other part of foretell."""
    modules = _imported(sys.executable, dict(os.environ))
    assert "foretell.predictor.load" in modules
    assert _outside_the_boundary(modules) == []
    for forbidden in ("yaml", "pydantic", "orjson", "typer", "rich", "starlette", "httpx"):
        assert forbidden not in modules


def test_predictor_runs_in_a_bare_environment(tmp_path: pathlib.Path) -> None:
    """In a virtualenv with nothing installed, foretell's src on PYTHONPATH is enough to load,
    validate, prepare and encode a model (how workers run in a model's own environment)."""
    venv.create(tmp_path / "bare", with_pip=False)
    python = str(tmp_path / "bare" / "bin" / "python")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(SRC)}
    modules = _imported(python, env)
    assert _outside_the_boundary(modules) == []


def test_every_cog_name_imports_from_the_alias() -> None:
    """`from cog import ...` works for every name of Cog's public interface."""
    from cog import (  # noqa: F401
        AsyncConcatenateIterator,
        BaseModel,
        BasePredictor,
        BaseRunner,
        CancelationException,
        ConcatenateIterator,
        FieldInfo,
        File,
        Input,
        Opaque,
        Path,
        Secret,
        URLFile,
        URLPath,
        __version__,
        concurrent,
        current_scope,
        streaming,
    )
    from cog.types import Path as TypesPath

    assert TypesPath is Path


def test_cog_alias_is_the_same_objects() -> None:
    """`cog.X` is foretell.predictor's X itself, not a copy, with the same __all__."""
    assert cog.__all__ == foretell.predictor.__all__
    for name in cog.__all__:
        assert getattr(cog, name) is getattr(foretell.predictor, name)
    assert cog.types.Secret is cog.Secret
    assert issubclass(cog.CancelationException, BaseException)
    assert not issubclass(cog.CancelationException, Exception)


def test_deprecated_names_warn_once_and_still_work() -> None:
    """emit_metric and ExperimentalFeatureWarning import with one notice each, and work."""
    code = textwrap.dedent(
        """
        import warnings
        from cog import emit_metric, ExperimentalFeatureWarning
        from cog import emit_metric as again
        import cog
        from foretell.predictor.scope import Scope, use_scope
        warnings.filterwarnings("ignore", category=ExperimentalFeatureWarning)
        assert issubclass(ExperimentalFeatureWarning, Warning)
        scope = Scope()
        with use_scope(scope):
            emit_metric("tokens", 3)
        print(scope.metrics_snapshot())
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'tokens': 3}"
    assert result.stderr.count("emit_metric is deprecated") == 1
    assert result.stderr.count("ExperimentalFeatureWarning is deprecated") == 1


def test_unknown_names_raise_attribute_error() -> None:
    """A name Cog never had is an AttributeError, not a deprecation."""
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        getattr(cog, "nope")
