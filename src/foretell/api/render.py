"""The only place that shapes foretell's records into Replicate's JSON."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from foretell.api.state import ApiState
from foretell.core.models import Model, ModelRecord, hardware_sku
from foretell.core.outputs import replace_at
from foretell.core.prediction import TRAINING, WEBHOOK_EVENTS, Prediction, cancel_deadline
from foretell.core.status import Status
from foretell.core.times import timestamp
from foretell.core.trainings import as_predictor
from foretell.store.protocol import FileRecord

SECRET_MASK = "**********"  # noqa: S105 — the mask shown instead of a secret


#: base URLs by what they are made of (Starlette parses a URL object for each request);
#: the Host header is the client's, so the cache is bounded
_BASE_URLS: dict[tuple[Any, ...], str] = {}
_BASE_URLS_MAX = 256


def base_url(request: Request) -> str:
    """`http://host:port` as the client reached us."""
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    root = scope.get("app_root_path", scope.get("root_path", ""))
    key = (scope.get("scheme"), host, scope.get("server"), root)
    found = _BASE_URLS.get(key)
    if found is None:
        found = str(request.base_url).rstrip("/")
        if len(_BASE_URLS) >= _BASE_URLS_MAX:
            _BASE_URLS.clear()
        _BASE_URLS[key] = found
    return found


def file_url(base: str, state: ApiState, key: str) -> str:
    """A signed, expiring URL for a stored output file; no auth header needed."""
    return base + state.signer.sign(f"/v1/{key}")


def prediction(
    base: str, state: ApiState, p: Prediction, queue_position: int | None = None
) -> dict[str, Any]:
    """A prediction in Replicate's shape; `base` is the server's URL as clients reach it.
    `queue_position` (a foretell extension) is how many go before it while it waits: shown
    as a field and as a last log line, rendered here, never stored (the runner writes the
    logs once it runs)."""
    secrets = _secret_inputs(state, p)
    output = copy.deepcopy(p.output) if p.output_files else p.output  # copy only to rewrite
    for location in p.output_files:
        output = replace_at(output, location, lambda key: file_url(base, state, key))
    body: dict[str, Any] = {
        "id": p.id,
        "model": p.model,
        "version": p.version,
        "input": {k: (SECRET_MASK if k in secrets else v) for k, v in p.input.items()},
        "logs": p.logs,
        "output": output,
        "data_removed": p.data_removed,
        "error": p.error,
        "status": p.status.value,
        "source": p.source,
        "created_at": timestamp(p.created_at),
        "started_at": timestamp(p.started_at),
        "completed_at": timestamp(p.completed_at),
        "metrics": p.metrics,
        "urls": {
            "get": get_url(base, p),
            "cancel": f"{get_url(base, p)}/cancel",
            "stream": _stream_url(base, state, p),
            "web": f"{base}/p/{p.id}",
        },
    }
    if p.deployment is not None:
        body["deployment"] = p.deployment
    if p.kind == TRAINING:
        body["destination"] = p.destination
    if p.webhook is not None:
        body["webhook"] = p.webhook
        events = p.webhook_events_filter
        body["webhook_events_filter"] = list(events if events is not None else WEBHOOK_EVENTS)
    deadline = cancel_deadline(p)
    if deadline is not None:
        body["deadline"] = timestamp(deadline)
    if p.priority:
        body["priority"] = p.priority
    if p.queue_ttl_s is not None:
        body["queue_ttl"] = p.queue_ttl_s
    if queue_position is not None and p.status is Status.STARTING:
        body["queue_position"] = queue_position
        body["logs"] = f"{p.logs}{waiting_line(queue_position)}"
    if p.data_removed:  # as Replicate shows a prediction after its retention cleanup
        body["input"] = body["logs"] = body["output"] = None
    return body


def get_url(base: str, p: Prediction) -> str:
    """Where a prediction is read (`urls.get`), or a training: under /v1/trainings (a
    training is found under /v1/predictions too, as on Replicate)."""
    return f"{base}/v1/{'trainings' if p.kind == TRAINING else 'predictions'}/{p.id}"


def _secret_inputs(state: ApiState, p: Prediction) -> frozenset[str]:
    """The inputs never shown back: a training's are its trainer's `TrainingInput` ones."""
    if p.kind != TRAINING:
        model = state.model(p.model)
        return model.secret_inputs if model else frozenset()
    trainer = state.catalog.trainer(p.version)
    return as_predictor(trainer.model).secret_inputs if trainer else frozenset()


def waiting_line(ahead: int) -> str:
    """The log line of a prediction waiting in the queue."""
    return f"Waiting in the queue: {ahead} ahead\n"


def stream_mac_text(account: str, prediction_id: str) -> str:
    """What a stream URL's MAC covers: it binds the URL to one prediction of one account."""
    return f"stream:{account}:{prediction_id}"


def _stream_url(base: str, state: ApiState, p: Prediction) -> str:
    """The prediction's SSE URL: bound to it by a MAC, so it needs no auth header."""
    tag = state.signer.mac(stream_mac_text(p.account, p.id))
    return f"{base}/v1/streams/{p.account}/{p.id}/{tag}"


def version(m: Model) -> dict[str, Any]:
    """A model version."""
    return {
        "id": m.version,
        "created_at": timestamp(m.created_at),
        "cog_version": m.openapi_schema.get("info", {}).get("version", "0.23.1"),
        "openapi_schema": m.openapi_schema,
    }


def model(request: Request, m: Model, setup: dict[str, Any] | None = None) -> dict[str, Any]:
    """A model, with its latest (and only) version; `setup` is foretell's own addition: how
    far the model has come (preparing, starting, ready, setup_failed…) and why it failed."""
    return {
        "url": f"{base_url(request)}/v1/models/{m.full_name}",
        "owner": m.owner,
        "name": m.name,
        "description": m.description,
        "visibility": "public",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": 0,
        "cover_image_url": None,
        "default_example": m.default_example,
        "latest_version": version(m),
        "is_official": True,
        "created_at": timestamp(m.created_at),
        "setup": setup,
    }


def file(request: Request, record: FileRecord) -> dict[str, Any]:
    """A Files API file object."""
    return {
        "id": record.id,
        "name": record.name,
        "content_type": record.content_type,
        "size": record.size,
        "etag": record.md5,
        "checksums": {"sha256": record.sha256, "md5": record.md5},
        "metadata": record.metadata,
        "created_at": timestamp(record.created_at),
        "expires_at": timestamp(record.expires_at),
        "urls": {"get": f"{base_url(request)}/v1/files/{record.id}"},
    }


def page(
    request: Request,
    results: list[Any],
    next_cursor: str | None,
    previous_cursor: str | None = None,
) -> dict[str, Any]:
    """A paginated list; `next`/`previous` are absolute URLs (JS would double a relative /v1)."""

    def link(cursor: str | None) -> str | None:
        return str(request.url.include_query_params(cursor=cursor)) if cursor else None

    return {"next": link(next_cursor), "previous": link(previous_cursor), "results": results}


def hardware(records: Iterable[ModelRecord]) -> list[dict[str, str]]:
    """GET /v1/hardware: the CPU, then each kind of GPU the runners published, by sku."""
    gpus = {hardware_sku(name): name for record in records for name in record.accelerators}
    return [{"sku": "cpu", "name": "CPU"}] + [
        {"sku": sku, "name": name} for sku, name in sorted(gpus.items())
    ]
