"""Deployments: a name an account gives to one pinned model version and the instances it
runs on, changed through numbered releases (Replicate's Deployments API)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace

#: the most instances a deployment may ask for (a bound, so no count overflows a column)
MAX_INSTANCES = 1000


@dataclass(frozen=True)
class Creator:
    """The account that made a release (`created_by`)."""

    #: user or organization
    type: str
    username: str
    name: str


@dataclass(frozen=True)
class Configuration:
    """Where and how many: the hardware sku and the instance bounds of a release."""

    hardware: str
    min_instances: int
    max_instances: int
    #: seconds an idle instance waits before it stops (a foretell extension; None: the
    #: server's --idle-timeout, or 300 s where min_instances is 0)
    idle_timeout: float | None = None


@dataclass(frozen=True)
class Release:
    """One numbered state of a deployment; every change makes the next one."""

    number: int
    #: `owner/name` of the model
    model: str
    version: str
    created_at: datetime.datetime
    created_by: Creator
    configuration: Configuration


@dataclass(frozen=True)
class Deployment:
    """A deployment: `owner/name`, when it was made, and its current release."""

    owner: str
    name: str
    created_at: datetime.datetime
    current_release: Release

    @property
    def full_name(self) -> str:
        """`owner/name`."""
        return f"{self.owner}/{self.name}"


def new_deployment(
    owner: str,
    name: str,
    model: str,
    version: str,
    configuration: Configuration,
    by: Creator,
    at: datetime.datetime,
) -> Deployment:
    """A deployment at its first release."""
    release = Release(1, model, version, at, by, configuration)
    return Deployment(owner, name, at, release)


def next_release(
    deployment: Deployment,
    *,
    version: str | None,
    configuration: Configuration,
    by: Creator,
    at: datetime.datetime,
) -> Deployment:
    """The deployment with its next release: same model, `version` if given, the new
    configuration; the number goes up by one whatever changed (as Replicate's does)."""
    current = deployment.current_release
    release = replace(
        current,
        number=current.number + 1,
        version=version if version is not None else current.version,
        created_at=at,
        created_by=by,
        configuration=configuration,
    )
    return replace(deployment, current_release=release)


def configuration_errors(
    configuration: Configuration, skus: frozenset[str]
) -> list[tuple[str, str]]:
    """What is wrong with a configuration: (field, reason) each, empty if nothing."""
    errors: list[tuple[str, str]] = []
    if configuration.hardware not in skus:
        known = ", ".join(sorted(skus))
        errors.append(
            (
                "hardware",
                f"{configuration.hardware!r} is not a hardware sku of this server "
                f"(GET /v1/hardware lists them: {known})",
            )
        )
    for field, value in (
        ("min_instances", configuration.min_instances),
        ("max_instances", configuration.max_instances),
    ):
        if not 0 <= value <= MAX_INSTANCES:
            errors.append((field, f"must be between 0 and {MAX_INSTANCES} (got {value})"))
    if configuration.min_instances > configuration.max_instances:
        errors.append(
            (
                "min_instances",
                f"must be <= max_instances ({configuration.min_instances} > "
                f"{configuration.max_instances})",
            )
        )
    return errors
