"""A store holding only the model registry, in memory, for the publisher and catalog tests."""

from __future__ import annotations

from typing import cast

from foretell.core.models import ModelRecord
from foretell.core.versions import StoredModel
from foretell.errors import StoreError
from foretell.store.protocol import Store


class RegistryStore:
    """The registry part of the Store protocol; `broken` makes every call a StoreError."""

    def __init__(self) -> None:
        self.records: dict[str, ModelRecord] = {}
        self.writes: list[ModelRecord] = []
        self.broken = False
        #: the models API's stored models (none unless a test adds some)
        self.stored: list[StoredModel] = []

    def as_store(self) -> Store:
        """This fake where a Store is expected (it has only the registry's methods)."""
        return cast(Store, self)

    def _check(self) -> None:
        if self.broken:
            raise StoreError("database error: disk I/O error")

    async def publish_model(self, record: ModelRecord) -> None:
        self._check()
        self.records[record.key] = record
        self.writes.append(record)

    async def list_models(self) -> list[ModelRecord]:
        self._check()
        return [self.records[name] for name in sorted(self.records)]

    async def list_stored_models(self) -> list[StoredModel]:
        self._check()
        return list(self.stored)

    async def get_model(self, full_name: str) -> ModelRecord | None:
        self._check()
        return self.records.get(full_name)

    async def remove_model(self, full_name: str) -> bool:
        self._check()
        return self.records.pop(full_name, None) is not None
