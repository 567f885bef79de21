"""ModelRef: the one parsed form of `owner/name`, `owner/name:version` or a bare version id."""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class InvalidModelRef(ValueError):
    """A model reference that is none of `owner/name`, `owner/name:version`, a version id."""


@dataclass(frozen=True)
class ModelRef:
    """Where a prediction should run: a model (by owner and name), a version, or both."""

    owner: str | None = None
    name: str | None = None
    version: str | None = None

    @property
    def model(self) -> str | None:
        """`owner/name`, when the reference names a model."""
        return f"{self.owner}/{self.name}" if self.owner and self.name else None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse a reference the way the official clients write it."""
        text = text.strip()
        if _VERSION.match(text):
            return cls(version=text)
        model, _, version = text.partition(":")
        owner, slash, name = model.partition("/")
        if not slash or not _NAME.match(owner) or not _NAME.match(name):
            raise InvalidModelRef(
                f"{text!r} is not a model reference: use owner/name, owner/name:version_id, "
                "or a 64-character version id"
            )
        if ":" in text and not _VERSION.match(version):
            raise InvalidModelRef(f"{version!r} is not a version id (64 hex characters)")
        return cls(owner=owner, name=name, version=version or None)
