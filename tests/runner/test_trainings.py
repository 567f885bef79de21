"""A succeeded training's weights kept as a new version of its destination (runner side),
over a real SQLite store and a local file store."""

from __future__ import annotations

import datetime
import hashlib
import pathlib
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from foretell.core.prediction import TRAINING, Prediction, finish
from foretell.core.status import Status
from foretell.core.versions import StoredModel, StoredVersion, VersionStatus
from foretell.files.local import LocalFiles
from foretell.packaging import pack_directory, version_id
from foretell.runner.errors import StepFailed
from foretell.runner.trainings import complete_training
from foretell.store.sqlite import SQLiteStore

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
WEIGHTS_KEY = "outputs/t1/abc/weights.bin"


@pytest.fixture
async def store(tmp_path: pathlib.Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(tmp_path / "foretell.db")
    await opened.open()
    await opened.create_stored_model(StoredModel("ann", "tuned", T0))
    yield opened
    await opened.close()


@pytest.fixture
async def files(tmp_path: pathlib.Path) -> LocalFiles:
    found = LocalFiles(tmp_path / "files")
    await found.put(WEIGHTS_KEY, b"learned")
    return found


def _succeeded(version: str = "v" * 64, **changes: object) -> Prediction:
    training = Prediction(
        id="t1", account="ann", model="acme/base", version=version, input={},
        created_at=T0, kind=TRAINING, destination="ann/tuned",
    )  # fmt: skip
    done = finish(
        training, Status.SUCCEEDED, T0, output={"weights": WEIGHTS_KEY}, files=[["weights"]]
    )
    return replace(done, **changes)  # type: ignore[arg-type]


def _model_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    root = tmp_path / "model"
    root.mkdir()
    (root / "cog.yaml").write_text('predict: "predict.py:Predictor"\n')
    (root / "predict.py").write_text("print('hi')\n")
    return root


async def test_a_command_line_model_is_packed_into_the_new_version(
    store: SQLiteStore, files: LocalFiles, tmp_path: pathlib.Path
) -> None:
    """The model directory is packed and stored; the version keeps a copy of the weights
    (outputs are removed by retention) and its id derives from code and weights; the output
    names it as owner/name:id with the weights file."""
    root = _model_dir(tmp_path)
    done = await complete_training(_succeeded(), store, files, root)
    name, _, new_id = done.output["version"].partition(":")
    assert name == "ann/tuned"
    assert done.output["weights"] == WEIGHTS_KEY and done.output_files == (("weights",),)
    assert f"Created version ann/tuned:{new_id}" in done.logs
    version = await store.get_version(new_id)
    assert version is not None
    assert (version.model, version.training) == ("ann/tuned", "t1")
    assert await files.read(version.source_key) == pack_directory(root)
    assert version.weights_key is not None and await files.read(version.weights_key) == b"learned"
    again = await complete_training(_succeeded(), store, files, root)
    assert again.output == done.output  # the same code and weights: the same version


async def test_a_stored_version_shares_its_archive(store: SQLiteStore, files: LocalFiles) -> None:
    """A pushed (stored) version's archive is the new version's too: not copied."""
    archive = (await files.put("versions/base/model.tar.gz", b"archive")).key
    base = "b" * 64
    await store.add_version(StoredVersion(base, "acme/base", T0, archive))
    done = await complete_training(_succeeded(base), store, files, None)
    new_id = done.output["version"].partition(":")[2]
    version = await store.get_version(new_id)
    assert version is not None and version.source_key == archive
    digest = hashlib.sha256
    expected = version_id(
        "ann/tuned", digest(b"archive").hexdigest(), digest(b"learned").hexdigest()
    )
    assert new_id == expected


async def test_what_cannot_be_kept_fails_the_training(
    store: SQLiteStore, files: LocalFiles, tmp_path: pathlib.Path
) -> None:
    """No weights in the output, a destination deleted meanwhile, or no code to version:
    StepFailed with the reason (the training then fails with it), and no version."""
    root = _model_dir(tmp_path)
    no_weights = _succeeded(output={"model": "x"}, output_files=())
    with pytest.raises(StepFailed, match="no weights file"):
        await complete_training(no_weights, store, files, root)
    with pytest.raises(StepFailed, match="no longer exists"):
        await complete_training(_succeeded(destination="ann/gone"), store, files, root)
    with pytest.raises(StepFailed, match="was not found"):
        await complete_training(_succeeded(), store, files, None)
    assert await store.list_versions("ann/tuned") == []


async def test_with_the_trained_schema_the_version_is_ready_at_once(
    store: SQLiteStore, files: LocalFiles, tmp_path: pathlib.Path
) -> None:
    """Given the trained version's schema (the same code), the new version is ready when the
    training ends; without it, it waits for a runner to describe it."""
    root = _model_dir(tmp_path)
    schema: dict[str, Any] = {"components": {"schemas": {"Input": {"properties": {}}}}}
    done = await complete_training(_succeeded(), store, files, root, schema)
    version = await store.get_version(done.output["version"].partition(":")[2])
    assert version is not None and version.is_ready and version.openapi_schema == schema
    assert await store.create_stored_model(StoredModel("ann", "later", T0))
    other = await complete_training(_succeeded(destination="ann/later"), store, files, root)
    later = await store.get_version(other.output["version"].partition(":")[2])
    assert later is not None and later.status == VersionStatus.BUILDING
