"""What the API layer works with: the store, the prediction service, the model catalog, files,
settings.

Each collaborator is typed by what the API needs of it (foretell.api.protocols), never by an
engine class: server.py is where the concrete ones meet."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from foretell.admission import Admission
from foretell.api.catalog import ModelCatalog
from foretell.api.protocols import FileStore
from foretell.api.service import PredictionService
from foretell.core.collections import Collection
from foretell.core.models import Model
from foretell.files.urls import UrlSigner
from foretell.outbound import GuardedClient
from foretell.queue.protocol import WorkQueue
from foretell.store.protocol import Store


@dataclass
class Settings:
    """Limits and switches of the HTTP API."""

    max_body_bytes: int = 100 * 1024 * 1024
    max_upload_bytes: int = 100 * 1024 * 1024
    #: a pushed model version's archive (`foretell push`)
    max_push_bytes: int = 2 * 1024 * 1024 * 1024
    #: larger inline files should go through POST /v1/files (the JS client's limit too)
    max_data_uri_bytes: int = 10 * 1000 * 1000
    no_auth: bool = False
    #: the account used when auth is off
    default_account: str = "local"
    #: GET /v1/collections, in order (foretell serve: the built-in one and --collections)
    collections: tuple[Collection, ...] = ()


@dataclass
class ApiState:
    """Everything a request handler can reach."""

    store: Store
    queue: WorkQueue
    #: create, read, wait for, cancel and stream predictions (over store, queue and bus)
    service: PredictionService
    files: FileStore
    signer: UrlSigner
    settings: Settings
    outbound: GuardedClient
    #: the hosted models, as their runners published them in the store
    catalog: ModelCatalog

    @property
    def admission(self) -> Admission:
        """Input checks with this server's files, signer, URL policy and limits."""
        return Admission(
            self.signer, self.files, self.store, self.outbound.policy,
            self.settings.max_data_uri_bytes,
        )  # fmt: skip

    def model(self, full_name: str) -> Model | None:
        """A hosted model by `owner/name`."""
        record = self.catalog.get(full_name)
        return record.model if record is not None else None

    def version(self, version_id: str) -> Model | None:
        """The hosted model whose current version is `version_id`."""
        record = self.catalog.by_version(version_id)
        return record.model if record is not None else None


def api_state(request: Request) -> ApiState:
    """The ApiState of the app serving `request`."""
    state: ApiState = request.app.state.api
    return state
