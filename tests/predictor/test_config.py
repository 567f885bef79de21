"""Reading cog.yaml and foretell.yaml."""

from __future__ import annotations

import pathlib
import sys

import pytest

from foretell.predictor.config import InstanceBounds, load_config
from foretell.predictor.errors import PredictorLoadError


def test_reads_the_keys_foretell_uses(tmp_path: pathlib.Path) -> None:
    """predict, concurrency.max, image and the build section are read."""
    (tmp_path / "cog.yaml").write_text(
        "build:\n"
        "  python_version: 3.11\n"
        "  gpu: true\n"
        "  python_packages: [numpy==2.1, pillow]\n"
        "  system_packages: [espeak-ng]\n"
        "predict: predict.py:Predictor\n"
        "concurrency:\n  max: 4\n"
        "image: r8.im/acme/hello\n"
        "environment: [A=1]\n"
    )
    config = load_config(tmp_path)
    assert config.predict == "predict.py:Predictor"
    assert config.concurrency == 4
    assert config.name == "acme/hello"
    assert config.python_version == "3.11"
    assert config.python_packages == ("numpy==2.1", "pillow")
    assert config.system_packages == ("espeak-ng",)
    assert config.gpu is True
    assert config.environment == {"A": "1"}


def test_run_key_and_foretell_yaml(tmp_path: pathlib.Path) -> None:
    """foretell.yaml is read like cog.yaml, and `run:` is the newer spelling of `predict:`."""
    (tmp_path / "foretell.yaml").write_text("run: run.py:Runner\n")
    assert load_config(tmp_path).predict == "run.py:Runner"


def test_predict_py_alone_is_enough(tmp_path: pathlib.Path) -> None:
    """A directory with only predict.py uses the defaults."""
    (tmp_path / "predict.py").write_text("")
    config = load_config(tmp_path)
    assert (config.predict, config.concurrency, config.name) == ("predict.py", 1, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("predict: [1]\n", "`predict` must be a string"),
        ("concurrency:\n  max: 0\n", "concurrency.max must be an integer >= 1"),
        ("build:\n  python_packages: numpy\n", "build.python_packages` must be a list"),
        ("predict: 'a\n", "invalid YAML"),
        ("- a\n", "expected a mapping"),
    ],
)
def test_bad_configs_name_the_key(tmp_path: pathlib.Path, text: str, message: str) -> None:
    """Each mistake is reported with the file and the key to fix."""
    (tmp_path / "cog.yaml").write_text(text)
    with pytest.raises(PredictorLoadError, match=message):
        load_config(tmp_path)


def test_empty_directory_is_refused(tmp_path: pathlib.Path) -> None:
    """A directory with no config and no predict.py is not a model."""
    with pytest.raises(PredictorLoadError, match="no cog.yaml"):
        load_config(tmp_path)


def test_unquoted_python_version_keeps_its_trailing_zero(tmp_path: pathlib.Path) -> None:
    """`python_version: 3.10` (a YAML number) is read as "3.10", as Cog reads it, not 3.1."""
    (tmp_path / "cog.yaml").write_text("build:\n  python_version: 3.10  # pinned\n")
    assert load_config(tmp_path).python_version == "3.10"


def test_requirements_image_and_build_run(tmp_path: pathlib.Path) -> None:
    """python_requirements, a registry-less image and build.run commands are reported."""
    (tmp_path / "cog.yaml").write_text(
        "build:\n"
        "  python_requirements: requirements.txt\n"
        "  run:\n"
        "    - echo one\n"
        "    - command: echo two\n"
        "      mounts: []\n"
        "image: acme/model\n"
    )
    config = load_config(tmp_path)
    assert config.python_requirements == "requirements.txt"
    assert (config.image, config.name) == ("acme/model", "acme/model")
    assert config.build_run == ("echo one", "echo two")
    assert config.source == tmp_path.resolve() / "cog.yaml"


def test_foretell_yaml_wins_over_cog_yaml(tmp_path: pathlib.Path) -> None:
    """When both files exist, foretell.yaml is the one read."""
    (tmp_path / "cog.yaml").write_text("predict: a.py:A\n")
    (tmp_path / "foretell.yaml").write_text("predict: b.py:B\n")
    assert load_config(tmp_path).predict == "b.py:B"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("build:\n  gpu: yes please\n", "`build.gpu` must be true or false"),
        ("environment: [NOVALUE]\n", "environment entry 'NOVALUE' must be NAME=value"),
        ("build: [1]\n", "`build` must be a mapping"),
        ("image: 3\n", "`image` must be a string"),
        ("concurrency:\n  max: two\n", "concurrency.max must be an integer"),
        ("build:\n  run: [3]\n", "each `build.run` entry must be a command string"),
    ],
)
def test_wrong_types_name_the_key(tmp_path: pathlib.Path, text: str, message: str) -> None:
    """A key of the wrong type is refused with the file and key named."""
    (tmp_path / "cog.yaml").write_text(text)
    with pytest.raises(PredictorLoadError, match=message) as info:
        load_config(tmp_path)
    assert str(tmp_path / "cog.yaml") in str(info.value)


def test_without_pyyaml_the_error_says_what_to_install(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading cog.yaml where PyYAML is missing says to install it."""
    (tmp_path / "cog.yaml").write_text("predict: predict.py\n")
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(PredictorLoadError, match="needs PyYAML: pip install pyyaml"):
        load_config(tmp_path)


def test_not_a_directory(tmp_path: pathlib.Path) -> None:
    """A path that isn't a directory is refused."""
    with pytest.raises(PredictorLoadError, match="not a directory"):
        load_config(tmp_path / "missing")


def test_the_foretell_mapping_sets_the_models_instance_bounds(tmp_path: pathlib.Path) -> None:
    """`foretell:` (a foretell extension key) gives min/max instances and an idle timeout;
    without it every bound is the server's (None)."""
    (tmp_path / "cog.yaml").write_text(
        "predict: predict.py:Predictor\n"
        "foretell:\n  min_instances: 0\n  max_instances: 3\n  idle_timeout: 30\n"
    )
    bounds = load_config(tmp_path).instances
    assert (bounds.min_instances, bounds.max_instances, bounds.idle_timeout_s) == (0, 3, 30.0)
    (tmp_path / "cog.yaml").write_text("foretell:\n  idle_timeout: 1.5\n")
    bounds = load_config(tmp_path).instances
    assert (bounds.min_instances, bounds.max_instances, bounds.idle_timeout_s) == (None, None, 1.5)
    (tmp_path / "cog.yaml").write_text("predict: predict.py:Predictor\n")
    assert load_config(tmp_path).instances == InstanceBounds()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foretell: 3\n", "`foretell` must be a mapping of min_instances"),
        ("foretell:\n  max_instance: 2\n", r"unknown key\(s\) under `foretell`: max_instance"),
        (
            "foretell:\n  min_instances: -1\n",
            "`foretell.min_instances` must be a whole number >= 0",
        ),
        ("foretell:\n  max_instances: 0\n", "`foretell.max_instances` must be a whole number >= 1"),
        ("foretell:\n  max_instances: true\n", "`foretell.max_instances` must be a whole number"),
        (
            "foretell:\n  min_instances: 3\n  max_instances: 2\n",
            r"`foretell.min_instances` \(3\) is more than `foretell.max_instances` \(2\)",
        ),
        (
            "foretell:\n  idle_timeout: soon\n",
            "`foretell.idle_timeout` must be a number of seconds",
        ),
        ("foretell:\n  idle_timeout: -5\n", "`foretell.idle_timeout` must be a number of seconds"),
    ],
)
def test_a_wrong_foretell_mapping_names_the_key(
    tmp_path: pathlib.Path, text: str, message: str
) -> None:
    """Each bad value under `foretell:` is refused with the file, the key and the rule."""
    (tmp_path / "cog.yaml").write_text(text)
    with pytest.raises(PredictorLoadError, match=message) as info:
        load_config(tmp_path)
    assert str(tmp_path / "cog.yaml") in str(info.value)
