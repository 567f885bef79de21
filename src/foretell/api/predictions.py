"""Predictions: create (Prefer: wait, Cancel-After), get, list, cancel."""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from foretell.admission import FilePlan
from foretell.api import limits, render
from foretell.api.auth import authenticate
from foretell.api.body import read_json_object
from foretell.api.durations import parse_deadline, parse_prefer_wait
from foretell.api.library_views import can_run
from foretell.api.params import page_limit
from foretell.api.responses import JSONResponse
from foretell.api.state import ApiState, api_state
from foretell.core.accounts import Account
from foretell.core.ids import prediction_id
from foretell.core.models import Model
from foretell.core.prediction import PREDICTION, TRAINING, Prediction, with_queue_ttl
from foretell.core.refs import InvalidModelRef, ModelRef
from foretell.core.status import Status
from foretell.core.times import timestamp, utcnow
from foretell.errors import BadRequest, InvalidField, InvalidRequest, NotFound
from foretell.outbound import BlockedURL, OutboundPolicy, check_url_shape
from foretell.queue.protocol import WorkItem

_FIELDS = {"input", "stream", "webhook", "webhook_events_filter", "webhook_completed", "lifetime"}
#: foretell's extensions (README, "Backpressure and priorities")
_FIELDS |= {"priority", "queue_ttl"}
_EVENTS = ("start", "output", "logs", "completed")
_BAD_VERSION = "Invalid version or not permitted"
_NO_VERSION = (
    "The specified version does not exist (or perhaps you don't have permission to use it?)"
)


async def create_prediction(request: Request) -> Response:
    """POST /v1/predictions — the model comes from `version`."""
    account = await authenticate(request)
    body = await read_json_object(request)
    _reject_unknown_fields(body, _FIELDS | {"version"})
    if not isinstance(body.get("version"), str) or not body["version"]:
        raise InvalidRequest(
            [
                InvalidField(
                    "required",
                    "version",
                    "version is required: a version id, owner/name:version or owner/name",
                )
            ]
        )
    model = await _model_for_version(api_state(request), body["version"])
    if not await can_run(api_state(request), account, model.full_name, model.version):
        raise InvalidRequest([InvalidField("invalid", "version", _NO_VERSION)], _BAD_VERSION)
    return await _create(request, account, model, body)


async def create_model_prediction(request: Request) -> Response:
    """POST /v1/models/{owner}/{name}/predictions — the model's current version."""
    account = await authenticate(request)
    name = f"{request.path_params['owner']}/{request.path_params['name']}"
    model = api_state(request).model(name)
    if model is None or not await can_run(api_state(request), account, name, model.version):
        raise NotFound("The requested resource could not be found.")
    return await create_on_model(request, account, model, await read_json_object(request))


async def create_on_model(
    request: Request,
    account: Account,
    model: Model,
    body: dict[str, Any],
    *,
    deployment: str | None = None,
    destination: str | None = None,
) -> Response:
    """A prediction of `model`'s current version from a body without `version` (the
    models and deployments predictions endpoints); `deployment` (`owner/name`) is the one it
    was made through, shown in the created prediction as Replicate shows it. With
    `destination` (`owner/name`), a training: `model` is a version's trainer (seen through
    core.trainings.as_predictor) and the body names that destination too."""
    _reject_unknown_fields(body, _FIELDS | ({"destination"} if destination else set()))
    return await _create(request, account, model, body, deployment, destination)


async def _model_for_version(state: ApiState, text: str) -> Model:
    try:
        ref = ModelRef.parse(text)
    except InvalidModelRef as exc:
        raise InvalidRequest([InvalidField("invalid", "version", str(exc))], _BAD_VERSION) from exc
    if ref.version is None:
        model = state.model(ref.model or "")
    else:  # any version a runner hosts (a model may have several), or one just made
        model = state.version(ref.version) or await _not_hosted_yet(state, ref.version)
    if model is None or (ref.model is not None and ref.model != model.full_name):
        raise InvalidRequest([InvalidField("invalid", "version", _NO_VERSION)], _BAD_VERSION)
    return model


async def _not_hosted_yet(state: ApiState, version_id: str) -> Model | None:
    """A stored version that is ready but that no runner has published yet (a training's
    version, the moment the training succeeded): its work waits in its queue until a runner
    hosts it, as a model still coming up does."""
    version = await state.store.get_version(version_id)
    if version is None or not version.is_ready:
        return None
    owner, name = version.model.split("/", 1)
    return Model(
        owner, name, version.id, version.openapi_schema, version.created_at,
        runner_name=version.unit,
    )  # fmt: skip


def _reject_unknown_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidRequest(
            [
                InvalidField(
                    "additional_property_not_allowed", "", f"Additional property {k} is not allowed"
                )
                for k in unknown
            ]
        )


async def _create(
    request: Request,
    account: Account,
    model: Model,
    body: dict[str, Any],
    deployment: str | None = None,
    destination: str | None = None,
) -> Response:
    state = api_state(request)
    wait = parse_prefer_wait(request.headers.get("prefer"))  # every check before anything is kept
    level, ttl_s = limits.priority(request, body), limits.queue_ttl(request, body)
    if (refused := await limits.rate_limited(request, account)) is not None:
        return refused
    raw_input = body.get("input")
    if raw_input is None:
        raw_input = {}
    if not isinstance(raw_input, dict):
        raise InvalidRequest(
            [InvalidField("invalid_type", "input", "Invalid type. Expected: object")]
        )
    base = render.base_url(request)
    plan: FilePlan | None = None
    if model.is_described:
        plan = await state.admission.plan_files(account.username, model, raw_input, base)
    webhook, events = _webhook(body, state.outbound.policy)
    now = utcnow()
    prediction = Prediction(
        id=prediction_id(),
        account=account.username,
        model=model.full_name,
        version=model.version,
        input=raw_input,
        created_at=now,
        webhook=webhook,
        webhook_events_filter=events,
        deadline=_deadline(request, body, now),
        iterator=model.is_iterator,
        priority=level,
        deployment=deployment,
        kind=PREDICTION if destination is None else TRAINING,
        destination=destination,
    )
    if ttl_s is not None:
        prediction = with_queue_ttl(prediction, ttl_s)
    if (refused := await limits.hold_place(request, state.queue, model, prediction.id)) is not None:
        return refused  # the queue is full: nothing stored
    await _accept(state, model, prediction, plan, base)
    headers = {"Location": render.get_url(base, prediction)}
    if wait is not None:
        await state.service.wait(account.username, prediction.id, wait)
        headers["Preference-Applied"] = "wait" if wait == 60 else f"wait={int(wait)}"
    current = await _current(state, account, prediction.id)
    body_json = render.prediction(base, state, current, await queue_position(state, current))
    if wait is not None and not current.status.is_terminal:
        # The official clients treat any other status as final: say `starting` until done.
        body_json["status"] = "starting"
    return JSONResponse(body_json, status_code=201, headers=headers)


async def _accept(
    state: ApiState, model: Model, prediction: Prediction, plan: FilePlan | None, base: str
) -> None:
    """Store the prediction (durable before anyone hears of it), then queue it. One for a
    model that is not described yet waits in the queue too: the runner checks its input
    once it claims it (or fails it, if the model can't start)."""
    if plan is None:
        note = _waiting_note(state, model.full_name)
        item = WorkItem(
            replace(prediction, logs=note), model.runner_name, admitted=False, base_url=base
        )
    else:
        item = WorkItem(prediction, model.runner_name, plan.keys, tuple(plan.remote), base_url=base)
    await state.service.create(item)


def _waiting_note(state: ApiState, name: str) -> str:
    """The log line of a prediction that waits for its model ("" unless it is starting)."""
    record = state.catalog.get(name)
    if record is None or record.setup.status not in ("preparing", "starting"):
        return ""
    doing = "building its environment" if record.setup.status == "preparing" else "loading"
    since = f" since {timestamp(record.setup.started_at)}" if record.setup.started_at else ""
    return (
        f"Waiting for {name} to start ({doing}{since}); "
        "this prediction runs as soon as it is ready.\n"
    )


def _webhook(
    body: dict[str, Any], policy: OutboundPolicy
) -> tuple[str | None, tuple[str, ...] | None]:
    webhook = body.get("webhook")
    completed = body.get("webhook_completed")
    events = body.get("webhook_events_filter")
    if webhook is None and isinstance(completed, str):
        webhook, events = completed, ["completed"]
    if webhook is not None and (not isinstance(webhook, str) or "://" not in webhook):
        raise InvalidRequest([InvalidField("format", "webhook", "webhook must be an http(s) URL")])
    if webhook is not None:
        try:
            check_url_shape(webhook, policy)
        except BlockedURL as exc:
            raise InvalidRequest([InvalidField("format", "webhook", str(exc))]) from exc
    if events is None:
        return webhook, None
    if not isinstance(events, list) or any(e not in _EVENTS for e in events):
        description = f"webhook_events_filter must be a list of {', '.join(_EVENTS)}"
        raise InvalidRequest([InvalidField("enum", "webhook_events_filter", description)])
    return webhook, tuple(events)


def _deadline(
    request: Request, body: dict[str, Any], now: datetime.datetime
) -> datetime.datetime | None:
    text = request.headers.get("cancel-after")
    where = "Cancel-After"
    if text is None and body.get("lifetime") is not None:
        lifetime = body["lifetime"]
        if not isinstance(lifetime, str | int | float) or isinstance(lifetime, bool):
            description = "must be a duration: seconds (90) or units like 1h30m45s"
            raise InvalidRequest([InvalidField("invalid_type", "lifetime", description)])
        text, where = str(lifetime), "lifetime"
    if text is None:
        return None
    return now + datetime.timedelta(seconds=parse_deadline(text, where))


async def _current(state: ApiState, account: Account, id_: str) -> Prediction:
    stored = await state.service.get(account.username, id_)
    if stored is None:
        raise NotFound("The requested resource could not be found.")
    return stored


async def queue_position(state: ApiState, prediction: Prediction) -> int | None:
    """How many predictions of its model go before it, while it waits in the queue."""
    if prediction.status is not Status.STARTING:
        return None
    return await state.queue.position(prediction.id)


async def get_prediction(request: Request) -> Response:
    """GET /v1/predictions/{id} (with `queue_position` while it waits)."""
    account = await authenticate(request)
    if (refused := await limits.rate_limited(request, account)) is not None:
        return refused
    state = api_state(request)
    current = await _current(state, account, request.path_params["id"])
    position = await queue_position(state, current)
    return JSONResponse(render.prediction(render.base_url(request), state, current, position))


async def cancel_prediction(request: Request) -> Response:
    """POST /v1/predictions/{id}/cancel — a no-op for a finished prediction."""
    account = await authenticate(request)
    if (refused := await limits.rate_limited(request, account)) is not None:
        return refused
    state = api_state(request)
    current = await _current(state, account, request.path_params["id"])
    current = await cancel_and_wait(state, account, current)
    return JSONResponse(render.prediction(render.base_url(request), state, current))


async def cancel_and_wait(state: ApiState, account: Account, current: Prediction) -> Prediction:
    """Cancel `current` (a prediction or a training) and wait a little for it to end; it as
    it is then (a finished one is left as it was)."""
    if not current.status.is_terminal:
        await state.service.cancel(current)
        await state.service.wait(account.username, current.id, 5.0)
        current = await _current(state, account, current.id)
    return current


async def list_webhook_deliveries(request: Request) -> Response:
    """GET /v1/predictions/{id}/webhooks — each delivery's outcome (a foretell extension)."""
    account = await authenticate(request)
    state = api_state(request)
    current = await _current(state, account, request.path_params["id"])
    deliveries = await state.store.list_deliveries(account.username, current.id)
    results = [
        {
            "id": d.id,
            "event": d.event,
            "url": d.url,
            "status": d.status,
            "attempts": d.attempts,
            "last_status": d.last_status,
            "last_error": d.last_error,
            "created_at": timestamp(d.created_at),
            "next_attempt_at": timestamp(d.next_attempt_at) if d.status == "pending" else None,
            "finished_at": timestamp(d.finished_at),
        }
        for d in deliveries
    ]
    return JSONResponse({"results": results})


async def list_predictions(request: Request) -> Response:
    """GET /v1/predictions — newest first, 100 a page."""
    return await list_kind(request, PREDICTION)


async def list_kind(request: Request, kind: str) -> Response:
    """A page of the account's predictions or (`kind` TRAINING) trainings, newest first."""
    account = await authenticate(request)
    if (refused := await limits.rate_limited(request, account)) is not None:
        return refused
    state = api_state(request)
    params = request.query_params
    page = await state.store.list_predictions(  # a bad cursor raises InvalidCursor: a 400
        account.username,
        limit=page_limit(params.get("limit")),
        cursor=params.get("cursor"),
        created_after=_time(params.get("created_after"), "created_after"),
        created_before=_time(params.get("created_before"), "created_before"),
        kind=kind,
    )
    base = render.base_url(request)
    results = [render.prediction(base, state, stored) for stored in page.items]
    return JSONResponse(render.page(request, results, page.next_cursor, page.previous_cursor))


def _time(text: str | None, name: str) -> datetime.datetime | None:
    if text is None:
        return None
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(f"{name}: {text!r} is not an RFC 3339 date-time") from exc
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
