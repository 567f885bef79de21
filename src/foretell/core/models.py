"""Hosted models and their versions, as the models API shows them, and the registry records
that carry them from the runner that hosts them to the API (through the store)."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from foretell.core.versions import TRAINER_SUFFIX


@dataclass(frozen=True)
class Model:
    """A model this server hosts, with its one current version.

    Its schema is empty until the model's worker has imported it: a model whose environment
    is still being built is already listed, and its predictions wait for it.
    """

    owner: str
    name: str
    version: str
    openapi_schema: dict[str, Any]
    created_at: datetime.datetime
    description: str | None = None
    #: the runner's name for it
    runner_name: str = ""
    default_example: dict[str, Any] | None = None
    #: the model's README.md (GET .../readme)
    readme: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_described(self) -> bool:
        """Whether the schema is known (the model's code has been imported)."""
        return bool(self.openapi_schema)

    @property
    def full_name(self) -> str:
        """`owner/name`."""
        return f"{self.owner}/{self.name}"

    @property
    def secret_inputs(self) -> frozenset[str]:
        """Inputs marked x-cog-secret: never shown back to anyone."""
        properties = (
            self.openapi_schema.get("components", {})
            .get("schemas", {})
            .get("Input", {})
            .get("properties", {})
        )
        return frozenset(name for name, prop in properties.items() if prop.get("x-cog-secret"))

    def file_urls(self, values: dict[str, Any]) -> list[tuple[str, str]]:
        """(input name, URL) of every file input value, list items included."""
        properties = (
            self.openapi_schema.get("components", {})
            .get("schemas", {})
            .get("Input", {})
            .get("properties", {})
        )
        found = []
        for name, value in values.items():
            prop = properties.get(name, {})
            item = prop.get("items", {}) if prop.get("type") == "array" else prop
            if item.get("format") != "uri":
                continue
            found += [(name, v) for v in (value if isinstance(value, list) else [value])]
        return [(name, v) for name, v in found if isinstance(v, str)]

    @property
    def is_iterator(self) -> bool:
        """Whether outputs are yielded (a growing list)."""
        output = self.openapi_schema.get("components", {}).get("schemas", {}).get("Output", {})
        return bool(output.get("x-cog-array-type") == "iterator")


@dataclass(frozen=True)
class SetupStatus:
    """How far a model has come on the runner that hosts it (the models API's `setup`)."""

    #: preparing (environment build), starting, ready, busy, setup_failed or defunct
    status: str = "preparing"
    error: str | None = None
    started_at: datetime.datetime | None = None
    ready_at: datetime.datetime | None = None
    #: the environment build's last progress line (while preparing)
    progress: str | None = None


@dataclass(frozen=True)
class ModelRecord:
    """One model in the registry: what a runner publishes and the API reads."""

    model: Model
    setup: SetupStatus
    #: the runner node that published it
    node: str
    updated_at: datetime.datetime
    #: the names of that node's GPUs (GET /v1/hardware lists what the cluster has)
    accelerators: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        """`owner/name` of the model."""
        return self.model.full_name

    @property
    def key(self) -> str:
        """The registry's key: the runner's name for what it hosts (a model's version or its
        trainer: several records can share one model)."""
        return self.model.runner_name or self.model.full_name

    @property
    def is_trainer(self) -> bool:
        """Whether it runs trainings (the `train:` of cog.yaml) rather than predictions."""
        return self.key.endswith(TRAINER_SUFFIX)

    @property
    def is_stored_unit(self) -> bool:
        """Whether it is a stored model's version (its unit is `owner/name:id`, its trainer's
        `owner/name:id#train`) rather than a command-line model."""
        return ":" in self.model.runner_name


def hardware_sku(name: str) -> str:
    """A GPU's Replicate-style hardware id: `gpu-` and its model (`NVIDIA A100 80GB` ->
    `gpu-a100-80gb`)."""
    words = re.sub(r"^(nvidia|tesla)\s+", "", name.lower()).replace("geforce ", "")
    return "gpu-" + re.sub(r"[^a-z0-9]+", "-", words).strip("-")
