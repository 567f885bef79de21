"""Models created through the API and the versions pushed to them or trained into them.

A command-line model (`foretell serve ./dir`) lives only in the registry its runner
publishes (foretell.core.models). A *stored* model is created with `POST /v1/models`, owned
by an account, and keeps every version pushed to it (`foretell push`) or made by a training;
runners host those versions from the archive each one keeps in the FileStore.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

#: who may run a stored model besides its owner
VISIBILITIES = ("public", "private")


@dataclass(frozen=True)
class StoredModel:
    """A model created with `POST /v1/models`."""

    owner: str
    name: str
    created_at: datetime.datetime
    visibility: str = "private"
    hardware: str = "cpu"
    description: str | None = None
    github_url: str | None = None
    paper_url: str | None = None
    license_url: str | None = None
    cover_image_url: str | None = None
    #: set with `PATCH /v1/models/{owner}/{name}` (GET .../readme answers it)
    readme: str | None = None
    weights_url: str | None = None

    @property
    def full_name(self) -> str:
        """`owner/name`."""
        return f"{self.owner}/{self.name}"


class VersionStatus:
    """How far a stored version has come (`building` until it has described itself)."""

    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True)
class StoredVersion:
    """One version of a stored model: its code (an archive in the FileStore) and, for a
    trained version, the weights its instances get in `setup(weights=...)`."""

    #: content-derived: the same archive (and weights) always makes the same id
    id: str
    #: `owner/name` of its model
    model: str
    created_at: datetime.datetime
    #: FileStore key of the model directory's archive (a .tar.gz)
    source_key: str
    status: str = VersionStatus.BUILDING
    #: empty until described
    openapi_schema: dict[str, Any] = field(default_factory=dict)
    #: why it failed (status FAILED)
    error: str | None = None
    #: the build's progress lines, as `foretell push` shows them
    build_log: str = ""
    #: FileStore key of the weights a training made (None: an untrained, pushed version)
    weights_key: str | None = None
    #: the training that made it, if one did
    training: str | None = None
    cog_version: str | None = None

    @property
    def is_ready(self) -> bool:
        """Whether it runs predictions (described itself; never failed)."""
        return self.status == VersionStatus.READY

    @property
    def unit(self) -> str:
        """The runner's and queue's name for it (`owner/name:id`, Replicate's ref syntax)."""
        return f"{self.model}:{self.id}"


#: the suffix of the runner's name for a version's trainer (its `train:` entry)
TRAINER_SUFFIX = "#train"
