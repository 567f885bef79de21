"""A succeeded training's weights kept as a new version of its destination model.

The new version is the trained version's code (its archive in the FileStore; a command-line
model's directory is packed and stored) with the training's weights, which its instances get
in `setup(weights=...)`. Its id is content-derived (packaging.version_id): training the same
code into the same weights twice makes the same version, not two. The training's output then
says which (`{"version": "owner/name:id", "weights": <the weights file>}`, Replicate's shape).
"""

from __future__ import annotations

import asyncio
import hashlib
import pathlib
import tempfile
from dataclasses import replace
from typing import Any

from foretell.core.prediction import Prediction
from foretell.core.times import utcnow
from foretell.core.versions import StoredVersion, VersionStatus
from foretell.files.protocol import FileStore, MissingFile
from foretell.packaging import pack_directory, version_id
from foretell.runner.errors import StepFailed
from foretell.store.protocol import Store

#: where a training's output names its weights file (Cog's TrainingOutput.weights)
WEIGHTS = "weights"


def source_key(version: str) -> str:
    """The FileStore key of a version's archive (where `foretell push` keeps one too)."""
    return f"versions/{version}/model.tar.gz"


def weights_key(version: str, name: str) -> str:
    """The FileStore key of a trained version's weights: kept apart from the training's
    outputs, which data retention removes."""
    return f"versions/{version}/weights/{name}"


async def complete_training(
    training: Prediction,
    store: Store,
    files: FileStore,
    root: pathlib.Path | None,
    schema: dict[str, Any] | None = None,
) -> Prediction:
    """`training`, succeeded, with its weights made a new version of its destination and its
    output naming that version. `root` is the model directory of a command-line model's
    trainer (a stored version's code is its archive). With the trained version's `schema`
    (the same code describes itself the same way) the version is ready at once, so it can
    be run the moment the training ends; without, it is ready once a runner has described
    it. StepFailed when it can't be done: the training then fails with that reason."""
    weights = _weights(training)
    destination = training.destination
    if destination is None or await store.get_stored_model(destination) is None:
        raise StepFailed(
            f"The training's destination {destination} no longer exists (deleted while it "
            "ran): its weights were not kept as a version."
        )
    trained = await store.get_version(training.version)
    packed: bytes | None = None
    if trained is not None:
        archive_sha256 = await _sha256(files, trained.source_key)
    elif root is not None:
        packed = await asyncio.to_thread(pack_directory, root)
        archive_sha256 = hashlib.sha256(packed).hexdigest()
    else:
        raise StepFailed(f"The code of {training.model}:{training.version} was not found.")
    new_id = version_id(destination, archive_sha256, await _sha256(files, weights))
    if trained is not None:
        source = trained.source_key  # shared: deleting one version leaves the other's
    else:
        assert packed is not None
        source = (await files.put(source_key(new_id), packed)).key
    kept = await _copy(files, weights, weights_key(new_id, weights.rsplit("/", 1)[-1]))
    version = StoredVersion(
        new_id, destination, utcnow(), source, weights_key=kept, training=training.id,
        build_log=f"Trained from {training.model}:{training.version} by {training.id}\n",
    )  # fmt: skip
    if schema:
        version = replace(version, status=VersionStatus.READY, openapi_schema=schema)
    await store.add_version(version)  # False: these weights on this code were kept already
    name = f"{destination}:{new_id}"
    output = {"version": name, WEIGHTS: weights}
    logs = f"{training.logs}Created version {name}\n"
    return replace(training, output=output, output_files=((WEIGHTS,),), logs=logs)


def _weights(training: Prediction) -> str:
    """The FileStore key of the weights file the training returned."""
    output: Any = training.output
    if (WEIGHTS,) not in training.output_files or not isinstance(output, dict):
        raise StepFailed(
            "The training returned no weights file: train() must return an object with a "
            "`weights` Path (cog's TrainingOutput)."
        )
    key: str = output[WEIGHTS]
    return key


async def _sha256(files: FileStore, key: str) -> str:
    digest = hashlib.sha256()
    try:
        async for chunk in files.open(key):
            digest.update(chunk)
    except MissingFile:
        raise StepFailed(f"A stored file of this training is gone: {key}") from None
    return digest.hexdigest()


async def _copy(files: FileStore, key: str, to: str) -> str:
    with tempfile.TemporaryDirectory(prefix="foretell-weights-") as folder:
        path = await files.copy_to(key, pathlib.Path(folder) / "weights")
        return (await files.put(to, path)).key
