"""The Store protocol: what the API and the dispatcher need from persistence."""

from __future__ import annotations

import datetime
import enum
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from foretell.core.accounts import Account
from foretell.core.deployments import Deployment
from foretell.core.models import ModelRecord
from foretell.core.prediction import Prediction
from foretell.core.status import Status
from foretell.core.versions import StoredModel, StoredVersion


@dataclass(frozen=True)
class FileRecord:
    """An uploaded file (Files API). Its bytes are in the FileStore under `key`
    (`uploads/<id>/<name>`), never at a path: any machine reads them by key."""

    id: str
    account: str
    name: str
    content_type: str
    size: int
    md5: str
    sha256: str
    metadata: dict[str, Any]
    created_at: datetime.datetime
    expires_at: datetime.datetime
    key: str


@dataclass(frozen=True)
class TokenRecord:
    """A stored API token: its hash, its account, a label and when it was made."""

    hash: str
    account: str
    label: str
    created_at: str


@dataclass(frozen=True)
class WebhookDelivery:
    """One webhook request in the outbox: written before it is sent, updated per attempt."""

    id: str
    prediction_id: str
    account: str
    url: str
    event: str
    payload: bytes
    created_at: datetime.datetime
    next_attempt_at: datetime.datetime
    #: pending, delivered or failed (gave up)
    status: str = "pending"
    attempts: int = 0
    last_status: int | None = None
    last_error: str | None = None
    finished_at: datetime.datetime | None = None


class ClaimVerdict(enum.Enum):
    """What a runner that claimed a queued prediction must do with it."""

    #: it is this runner's now: run it
    RUN = "run"
    #: it ended (or was removed) already: drop the work item
    FINISHED = "finished"
    #: a cancel was asked for before it ran: end it `canceled`, don't run it
    CANCELED = "canceled"
    #: it began running on a runner whose lease expired: end it `failed` (it may have
    #: had side effects; running it twice is not this runner's call)
    ORPHANED = "orphaned"
    #: another runner holds a live lease on it: leave it to that runner
    HELD = "held"


@dataclass(frozen=True)
class Claim:
    """The store's answer to a runner claiming a prediction."""

    verdict: ClaimVerdict
    #: the stored copy, for the verdicts that end it here (CANCELED, ORPHANED); for RUN the
    #: queued item's copy is the stored one (nothing else writes a queued prediction)
    prediction: Prediction | None
    #: the reason given with a cancel request, if any
    cancel_reason: str | None = None
    #: a RUN claim that was given its start wrote it too (claim_prediction's `start`)
    started: bool = False


@dataclass(frozen=True)
class CancelState:
    """A prediction after a cancel was asked for: whether a runner holds it (and so will
    stop it and write its end), or nobody does (the asker ends it)."""

    prediction: Prediction
    held: bool


@dataclass(frozen=True)
class Page:
    """One page of a newest-first list: items and the cursor of the next page, if any."""

    items: list[Any]
    next_cursor: str | None = None
    previous_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Store(Protocol):
    """Durable state. Every method is a coroutine; a write has committed when it returns."""

    async def open(self) -> None:
        """Create tables if needed; must be called before anything else."""

    async def close(self) -> None:
        """Release connections."""

    # accounts and tokens
    async def ensure_account(self, username: str, name: str) -> Account:
        """The account, created with a fresh webhook secret if it doesn't exist."""

    async def add_token(self, username: str, token_hash: str, label: str = "") -> None:
        """Store a token's hash for an account."""

    async def account_for_token(self, token_hash: str) -> Account | None:
        """The account a token belongs to, or None."""

    async def count_tokens(self) -> int:
        """How many tokens exist (0 on a fresh data dir)."""

    async def list_tokens(self) -> list[TokenRecord]:
        """Every token's record (never the token itself: only its hash is stored), oldest
        first."""

    async def revoke_tokens(self, hash_prefix: str) -> list[str]:
        """The hashes of the tokens whose hash starts with `hash_prefix`; when exactly one
        does, it is deleted (requests that send it get 401 from then on)."""

    # predictions
    async def create_prediction(self, prediction: Prediction) -> None:
        """Insert; durable when this returns."""

    async def transition(
        self,
        prediction: Prediction,
        from_states: Collection[Status],
        deliveries: Sequence[WebhookDelivery] = (),
    ) -> bool:
        """Compare-and-set: write `prediction`'s new state (and `deliveries`, in the same
        transaction) only if the stored status is one of `from_states`. False, with nothing
        written, if it isn't — another writer got there first (a finished prediction never
        changes again), and this writer has lost."""

    async def get_prediction(self, account: str, prediction_id: str) -> Prediction | None:
        """One of the account's predictions, or None."""

    async def list_predictions(
        self,
        account: str,
        *,
        limit: int,
        cursor: str | None = None,
        created_after: datetime.datetime | None = None,
        created_before: datetime.datetime | None = None,
        kind: str = "prediction",
    ) -> Page:
        """Newest first; `cursor` comes from a previous page; only records of `kind`
        (predictions or trainings: the two are listed apart)."""

    async def oldest_waiting(self) -> dict[str, datetime.datetime]:
        """Per model (`owner/name`), when its oldest still-`starting` prediction was made
        (the queue's age, for /metrics)."""

    async def unfinished_predictions(self) -> list[Prediction]:
        """Every prediction in `starting` or `processing`, oldest first (for restart)."""

    # who runs what: owners, leases, cancel requests, deadlines
    async def claim_prediction(
        self,
        prediction_id: str,
        owner: str,
        lease_until: datetime.datetime,
        start: Prediction | None = None,
        start_rows: Sequence[WebhookDelivery] = (),
    ) -> Claim:
        """A runner (`owner`) took the prediction's work item: in one transaction, decide
        what it must do (ClaimVerdict) and, for RUN, record it as the owner until
        `lease_until`.

        With `start` (the prediction `processing`, as the runner starts it: it has a free
        slot for it now), a RUN claim also writes that state and its webhook rows, as
        `transition(start, {STARTING}, start_rows)` would (`Claim.started`): one write for
        the claim and the start instead of two. Any other verdict writes neither."""

    async def renew_leases(
        self, owner: str, prediction_ids: Collection[str], lease_until: datetime.datetime
    ) -> set[str]:
        """Heartbeat: `owner` still runs these; their leases last until `lease_until`
        (one write for all of them). The ids `owner` still holds: one missing has ended or
        gone to another runner (the store, not the queue, says who runs a prediction)."""

    async def request_cancel(self, prediction_id: str, reason: str | None) -> CancelState | None:
        """Record, durably, that the prediction must be canceled (`reason` becomes its error
        if given): a runner that claims it later ends it instead of running it. None if
        there is no such prediction."""

    async def due_deadlines(self, before: datetime.datetime, limit: int) -> list[Prediction]:
        """Unfinished predictions whose Cancel-After/lifetime deadline is before `before`,
        soonest first."""

    async def expired_leases(self, now: datetime.datetime, limit: int) -> list[Prediction]:
        """Predictions `processing` on a runner whose lease ran out before `now` (it died,
        or lost touch): nobody will finish them."""

    # webhook outbox
    async def add_delivery(self, delivery: WebhookDelivery) -> None:
        """Insert an outbox row; durable when this returns."""

    async def save_delivery(self, delivery: WebhookDelivery) -> None:
        """Record an attempt's outcome."""

    async def due_deliveries(
        self,
        now: datetime.datetime,
        limit: int,
        exclude: Collection[str] = (),
        hold_s: float = 0.0,
    ) -> list[WebhookDelivery]:
        """For each prediction (but those in `exclude`), its oldest pending delivery if it
        is due: a prediction's rows go in order. Fair across accounts: round-robin by
        account, the longest-due first within each, so one account's backlog can't fill
        the page.

        With `hold_s` > 0 the rows returned are claimed, in the same transaction: they are
        not due for anyone else (another node's deliverer) until `now + hold_s`, or until
        `save_delivery` records the attempt's outcome — so no two callers get the same row.
        Each comes back as it was stored (its `next_attempt_at` is when it came due), so
        saving one unchanged hands it back at once. A prediction's next row stays behind a
        held one (only the oldest pending row is ever due)."""

    async def list_deliveries(self, account: str, prediction_id: str) -> list[WebhookDelivery]:
        """A prediction's deliveries, oldest first."""

    # retention
    async def remove_prediction_data(
        self, completed_before: datetime.datetime, limit: int
    ) -> list[str]:
        """Clear input, output and logs of up to `limit` predictions that finished before
        `completed_before` and still have them (`data_removed` from then on); their ids,
        so that their output files can be deleted too."""

    async def expired_files(self, now: datetime.datetime, limit: int) -> list[FileRecord]:
        """Up to `limit` uploaded files whose `expires_at` has passed, oldest first."""

    # files
    async def add_file(self, record: FileRecord) -> None:
        """Insert an uploaded file's record."""

    async def get_file(self, account: str | None, file_id: str) -> FileRecord | None:
        """A file of the account (any account when None), or None."""

    async def list_files(self, account: str, *, limit: int, cursor: str | None = None) -> Page:
        """The account's files, newest first."""

    async def delete_file(self, account: str, file_id: str) -> bool:
        """Delete; False if there was no such file."""

    # model registry
    async def publish_model(self, record: ModelRecord) -> None:
        """Insert or replace the model's record (one per `owner/name`: the last runner to
        publish it wins)."""

    async def list_models(self) -> list[ModelRecord]:
        """Every published model's record, by name."""

    async def get_model(self, full_name: str) -> ModelRecord | None:
        """One model's record, or None."""

    async def remove_model(self, full_name: str) -> bool:
        """Take a model out of the registry; False if it wasn't there."""

    # secrets
    async def shared_secret(self, name: str) -> bytes:
        """A random 32-byte secret under `name`: made by the first caller, the same for
        every caller after (every node of a cluster reads the one database)."""

    # instances of models across the cluster
    async def reserve_instance(
        self, model: str, holder: str, limit: int, lease_until: datetime.datetime
    ) -> bool:
        """Take one of `model`'s `limit` instance places for `holder` until `lease_until`
        (expired places are free again): False, with nothing written, if all are taken.
        In one transaction, so two workers never both take the last one."""

    async def renew_instances(
        self, holders: Collection[str], lease_until: datetime.datetime
    ) -> None:
        """Heartbeat: these instances still run."""

    async def release_instance(self, holder: str) -> None:
        """The instance stopped: its place is free."""

    # deployments
    async def create_deployment(self, deployment: Deployment) -> bool:
        """Insert a deployment at its first release; False, with nothing written, if its
        `owner/name` is taken."""

    async def get_deployment(self, owner: str, name: str) -> Deployment | None:
        """One deployment, or None."""

    async def list_deployments(
        self, account: str | None, *, limit: int, cursor: str | None = None
    ) -> Page:
        """The account's deployments (every account's when None), newest first; `cursor`
        comes from a previous page."""

    async def save_deployment(self, deployment: Deployment) -> bool:
        """Compare-and-set: store the deployment's new current release only if the stored
        one is the release before it (number - 1). False, with nothing written, if it isn't
        (another update got there first, or the deployment is gone): read it and try again."""

    async def delete_deployment(self, owner: str, name: str) -> bool:
        """Delete; False if there was no such deployment."""

    # stored models (POST /v1/models) and their versions
    async def create_stored_model(self, model: StoredModel) -> bool:
        """Insert a model; False, with nothing written, if its `owner/name` exists."""

    async def get_stored_model(self, full_name: str) -> StoredModel | None:
        """One stored model by `owner/name`, or None."""

    async def list_stored_models(self) -> list[StoredModel]:
        """Every stored model, by `owner/name`."""

    async def save_stored_model(self, model: StoredModel) -> None:
        """Write a stored model's new fields (nothing if it was deleted meanwhile)."""

    async def delete_stored_model(self, full_name: str) -> bool:
        """Delete a stored model and, in the same transaction, every version row of it (the
        API refuses while it has versions; this leaves no orphans); False if there was no
        such model. Their archives in the FileStore are the caller's to delete."""

    async def add_version(self, version: StoredVersion) -> bool:
        """Insert a version; False, with nothing written, if its id exists (ids are
        content-derived: the same archive pushed twice is one version)."""

    async def save_version(self, version: StoredVersion) -> None:
        """Write a version's new state (status, schema, log, error; nothing if it was
        deleted meanwhile)."""

    async def get_version(self, version_id: str) -> StoredVersion | None:
        """One version by id, or None."""

    async def list_versions(self, model: str | None = None) -> list[StoredVersion]:
        """A model's versions (`owner/name`; every model's when None), newest first, in
        every status."""

    async def delete_version(self, version_id: str) -> bool:
        """Delete a version's row; False if there was none."""
