"""What the API layer works with: the store, the dispatcher, hosted models, files, settings.

Each collaborator is typed by what the API needs of it (foretell.api.protocols), never by an
engine class: server.py is where the concrete ones meet."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request

from foretell.admission import Admission
from foretell.api.protocols import EventLogs, FileStore, ModelLifecycle, Predictions
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
    #: larger inline files should go through POST /v1/files (the JS client's limit too)
    max_data_uri_bytes: int = 10 * 1000 * 1000
    no_auth: bool = False
    #: the account used when auth is off
    default_account: str = "local"


@dataclass
class ApiState:
    """Everything a request handler can reach."""

    store: Store
    queue: WorkQueue
    #: predictions in flight (the dispatcher, in the embedded shape)
    dispatcher: Predictions
    files: FileStore
    signer: UrlSigner
    settings: Settings
    hub: EventLogs
    outbound: GuardedClient
    models: dict[str, Model] = field(default_factory=dict)
    #: brings models up; None where models are added ready-made
    host: ModelLifecycle | None = None

    @property
    def admission(self) -> Admission:
        """Input checks with this server's files, signer, URL policy and limits."""
        return Admission(
            self.signer, self.files, self.store, self.outbound.policy,
            self.settings.max_data_uri_bytes,
        )  # fmt: skip

    def model(self, full_name: str) -> Model | None:
        """A hosted model by `owner/name`."""
        return self.models.get(full_name)

    def version(self, version_id: str) -> Model | None:
        """The hosted model whose current version is `version_id`."""
        return next((m for m in self.models.values() if m.version == version_id), None)


def api_state(request: Request) -> ApiState:
    """The ApiState of the app serving `request`."""
    state: ApiState = request.app.state.api
    return state
