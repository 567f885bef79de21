"""cog.yaml (or foretell.yaml): where the predictor is, its concurrency, name and build needs."""

from __future__ import annotations

import pathlib
import re
from dataclasses import dataclass, field
from typing import Any

from foretell.predictor.errors import PredictorLoadError

CONFIG_FILES = ("foretell.yaml", "cog.yaml")


@dataclass(frozen=True)
class InstanceBounds:
    """cog.yaml's `foretell:` mapping: this model's instance bounds and idle timeout, each
    None where the server's (--min-instances, --max-instances, --idle-timeout) hold."""

    min_instances: int | None = None
    max_instances: int | None = None
    idle_timeout_s: float | None = None


@dataclass(frozen=True)
class ModelConfig:
    """The keys of cog.yaml that foretell reads."""

    root: pathlib.Path
    #: "predict.py:Predictor" — from `run:` or the older `predict:`
    predict: str = "predict.py"
    #: "train.py:train" — cog.yaml's `train:` (a function or a class with train()), if any
    train: str | None = None
    concurrency: int = 1
    #: the `image:` name without registry, e.g. "acme/hello" for "r8.im/acme/hello"
    name: str | None = None
    #: `image:` as written
    image: str | None = None
    python_version: str | None = None
    python_packages: tuple[str, ...] = ()
    python_requirements: str | None = None
    system_packages: tuple[str, ...] = ()
    #: build.run shell commands (not run unless asked: `foretell models prepare --system`)
    build_run: tuple[str, ...] = ()
    gpu: bool = False
    environment: dict[str, str] = field(default_factory=dict)
    source: pathlib.Path | None = None
    #: the `foretell:` mapping (a foretell extension: Cog reads only the keys it knows)
    instances: InstanceBounds = InstanceBounds()


def load_config(model_dir: pathlib.Path | str) -> ModelConfig:
    """Read a model directory's config; without one, `predict.py` alone is enough."""
    root = pathlib.Path(model_dir).resolve()
    if not root.is_dir():
        raise PredictorLoadError(f"{model_dir}: not a directory")
    for name in CONFIG_FILES:
        path = root / name
        if path.is_file():
            return _parse(root, path, _read_yaml(path))
    if (root / "predict.py").is_file():
        return ModelConfig(root=root)
    raise PredictorLoadError(f"{root}: no cog.yaml, foretell.yaml or predict.py here")


def _read_yaml(path: pathlib.Path) -> dict[str, Any]:
    try:
        import yaml
    except ImportError as exc:  # a model environment without foretell's dependencies
        raise PredictorLoadError(f"reading {path.name} needs PyYAML: pip install pyyaml") from exc
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PredictorLoadError(f"{path}: invalid YAML ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PredictorLoadError(f"{path}: expected a mapping of keys at the top level")
    return data


def _parse(root: pathlib.Path, path: pathlib.Path, data: dict[str, Any]) -> ModelConfig:
    build = _mapping(data, "build", path)
    concurrency = _mapping(data, "concurrency", path)
    max_concurrency = concurrency.get("max", 1)
    if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
        raise PredictorLoadError(f"{path}: concurrency.max must be an integer >= 1")
    if max_concurrency < 1:
        raise PredictorLoadError(f"{path}: concurrency.max must be an integer >= 1")
    image = data.get("image")
    return ModelConfig(
        root=root,
        predict=_string(data.get("run") or data.get("predict") or "predict.py", "predict", path),
        train=_optional_string(data.get("train"), "train", path),
        concurrency=max_concurrency,
        name=_image_name(image, path),
        image=image,
        python_version=_python_version(build.get("python_version"), path),
        python_packages=_strings(build.get("python_packages"), "build.python_packages", path),
        python_requirements=_optional_string(
            build.get("python_requirements"), "build.python_requirements", path
        ),
        system_packages=_strings(build.get("system_packages"), "build.system_packages", path),
        build_run=_commands(build.get("run"), path),
        gpu=_boolean(build.get("gpu", False), "build.gpu", path),
        environment=_environment(data.get("environment"), path),
        source=path,
        instances=_instance_bounds(data.get("foretell"), path),
    )


def _image_name(image: Any, path: pathlib.Path) -> str | None:
    """`r8.im/acme/hello` -> `acme/hello`; a registry-less `acme/hello` stays as it is."""
    if image is None:
        return None
    text = _string(image, "image", path)
    parts = text.split("/")
    if len(parts) >= 3 and ("." in parts[0] or ":" in parts[0]):
        parts = parts[1:]
    return "/".join(parts[-2:]).split(":", 1)[0] if len(parts) >= 2 else None


def _mapping(data: dict[str, Any], key: str, path: pathlib.Path) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise PredictorLoadError(f"{path}: `{key}` must be a mapping")
    return value


def _string(value: Any, key: str, path: pathlib.Path) -> str:
    if not isinstance(value, str):
        raise PredictorLoadError(f"{path}: `{key}` must be a string")
    return value


def _optional_string(value: Any, key: str, path: pathlib.Path) -> str | None:
    return None if value is None else _string(value, key, path)


def _boolean(value: Any, key: str, path: pathlib.Path) -> bool:
    if not isinstance(value, bool):
        raise PredictorLoadError(f"{path}: `{key}` must be true or false (got {value!r})")
    return value


def _python_version(value: Any, path: pathlib.Path) -> str | None:
    """`python_version` as written: unquoted `3.10` is the YAML number 3.1, so the literal
    is read back from the file (Cog's Go YAML reader keeps it as the string "3.10")."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise PredictorLoadError(f'{path}: `build.python_version` must be a version like "3.11"')
    match = re.search(r"^\s*python_version:\s*([0-9.]+)\s*(#.*)?$", path.read_text(), re.M)
    return match.group(1) if match else str(value)


def _strings(value: Any, key: str, path: pathlib.Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PredictorLoadError(f"{path}: `{key}` must be a list of strings")
    return tuple(value)


def _commands(value: Any, path: pathlib.Path) -> tuple[str, ...]:
    """build.run entries: strings, or {command: ..., mounts: ...} mappings."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PredictorLoadError(f"{path}: `build.run` must be a list of commands")
    commands = []
    for entry in value:
        command = entry.get("command") if isinstance(entry, dict) else entry
        if not isinstance(command, str):
            raise PredictorLoadError(f"{path}: each `build.run` entry must be a command string")
        commands.append(command)
    return tuple(commands)


def _environment(value: Any, path: pathlib.Path) -> dict[str, str]:
    pairs = _strings(value, "environment", path)
    env = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise PredictorLoadError(f"{path}: environment entry {pair!r} must be NAME=value")
        env[name] = text
    return env


_BOUNDS = ("min_instances", "max_instances", "idle_timeout")


def _instance_bounds(value: Any, path: pathlib.Path) -> InstanceBounds:
    """The `foretell:` mapping: `min_instances`, `max_instances` (whole numbers) and
    `idle_timeout` (seconds), each optional."""
    if value is None:
        return InstanceBounds()
    if not isinstance(value, dict):
        raise PredictorLoadError(f"{path}: `foretell` must be a mapping of {', '.join(_BOUNDS)}")
    unknown = sorted(set(value) - set(_BOUNDS))
    if unknown:
        raise PredictorLoadError(
            f"{path}: unknown key(s) under `foretell`: {', '.join(map(str, unknown))} "
            f"(known: {', '.join(_BOUNDS)})"
        )
    least = _count(value.get("min_instances"), "min_instances", 0, path)
    most = _count(value.get("max_instances"), "max_instances", 1, path)
    if least is not None and most is not None and least > most:
        raise PredictorLoadError(
            f"{path}: `foretell.min_instances` ({least}) is more than "
            f"`foretell.max_instances` ({most})"
        )
    idle = value.get("idle_timeout")
    if idle is not None and (
        isinstance(idle, bool) or not isinstance(idle, int | float) or idle < 0
    ):
        raise PredictorLoadError(
            f"{path}: `foretell.idle_timeout` must be a number of seconds >= 0 (got {idle!r})"
        )
    return InstanceBounds(least, most, None if idle is None else float(idle))


def _count(value: Any, key: str, least: int, path: pathlib.Path) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise PredictorLoadError(
            f"{path}: `foretell.{key}` must be a whole number >= {least} (got {value!r})"
        )
    return value
