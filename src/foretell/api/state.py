"""What the API layer works with: the store, the dispatcher, hosted models, files, settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import Request

from foretell.core.models import Model
from foretell.files.local import LocalFiles
from foretell.files.urls import UrlSigner
from foretell.outbound import GuardedClient
from foretell.queue.protocol import WorkQueue
from foretell.runner.dispatch import Dispatcher
from foretell.store.protocol import Store
from foretell.streaming.hub import StreamHub

if TYPE_CHECKING:
    from foretell.hosting import ModelHost


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
    dispatcher: Dispatcher
    files: LocalFiles
    signer: UrlSigner
    settings: Settings
    hub: StreamHub
    outbound: GuardedClient
    models: dict[str, Model] = field(default_factory=dict)
    #: brings models up; None where models are added ready-made
    host: ModelHost | None = None

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
