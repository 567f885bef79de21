"""`foretell serve`: the Replicate-compatible API for local models."""

from __future__ import annotations

import enum
import math
import os
import pathlib
from typing import TYPE_CHECKING, Annotated

import typer

from foretell.cli.engines import DatabaseOption, FilesOption, QueueOption, engine_urls
from foretell.cli.render import err_console, print_error
from foretell.cli.scaling import (
    IdleTimeoutOption,
    MaxInstancesOption,
    MinInstancesOption,
    scaling_options,
)
from foretell.engines import MEMORY
from foretell.errors import StoreError
from foretell.logs import configure
from foretell.models import builtin_models
from foretell.predictor.config import load_config
from foretell.predictor.errors import PredictorLoadError

if TYPE_CHECKING:  # the server stack loads only for this command
    from foretell.api.limits import Limits
    from foretell.core.collections import Collection


def parse_models(args: list[str]) -> dict[str, pathlib.Path]:
    """`PATH`, `OWNER/NAME=PATH` or built-in `foretell/NAME` arguments -> name -> directory."""
    models: dict[str, pathlib.Path] = {}
    builtins = builtin_models()
    for arg in args:
        if arg in builtins and not pathlib.Path(arg).is_dir():
            models[arg] = builtins[arg]
            continue
        name, sep, path_text = arg.partition("=")
        path = pathlib.Path(path_text if sep else arg)
        if not path.is_dir():
            raise typer.BadParameter(
                f"{path}: not a model directory (built-in models: {', '.join(builtins)})"
            )
        if sep and (name.count("/") != 1 or not all(name.split("/"))):
            raise typer.BadParameter(f"{arg!r}: use OWNER/NAME=PATH")
        name = name if sep else (load_config(path).name or f"local/{path.resolve().name}")
        if name in models:
            raise typer.BadParameter(f"two models are called {name}")
        models[name] = path
    return models


class LogFormat(enum.StrEnum):
    """--log-format's choices (foretell.logs)."""

    TEXT = "text"
    JSON = "json"


LogFormatOption = Annotated[
    LogFormat,
    typer.Option(
        envvar="FORETELL_LOG_FORMAT",
        show_envvar=True,
        case_sensitive=False,
        help="text (lines for people) or json (one JSON object a line, for log pipelines).",
    ),
]


def serve_command(
    models: Annotated[
        list[str] | None,
        typer.Argument(
            help="PATH, OWNER/NAME=PATH or a built-in model (foretell/ocr); none: every "
            "built-in model (with a shared --queue: none, the workers host them)."
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 5000,
    data_dir: Annotated[
        pathlib.Path,
        typer.Option(
            help="Where the database and files live (unless --database/--files name others), "
            "and the key that signs file URLs."
        ),
    ] = pathlib.Path(".foretell"),
    database: DatabaseOption = None,
    queue: QueueOption = None,
    files: FilesOption = None,
    no_auth: Annotated[
        bool,
        typer.Option("--no-auth", help="Accept requests without a token (local experiments only)."),
    ] = False,
    max_body_mb: Annotated[int, typer.Option(help="Largest request body, in MiB.")] = 100,
    max_push_mb: Annotated[
        int, typer.Option(help="Largest pushed model archive (foretell push), in MiB.")
    ] = 2048,
    output_url_ttl: Annotated[
        float, typer.Option(help="Seconds an output file URL stays valid.")
    ] = 3600.0,
    allow_private_urls: Annotated[
        bool,
        typer.Option(
            "--allow-private-urls",
            help="Let file inputs and webhooks reach loopback/private addresses and plain http.",
        ),
    ] = False,
    public_url: Annotated[
        str | None, typer.Option(help="This server's URL as clients see it (in webhook bodies).")
    ] = None,
    webhook_max_age: Annotated[
        float, typer.Option(help="Seconds to keep retrying a webhook delivery.")
    ] = 3600.0,
    model_threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="CPU threads each model may use (OMP_NUM_THREADS & co.); default: every core. "
            "Lower it when several models run at once.",
        ),
    ] = None,
    min_instances: MinInstancesOption = None,
    max_instances: MaxInstancesOption = 1,
    idle_timeout: IdleTimeoutOption = None,
    shutdown_grace: Annotated[
        float,
        typer.Option(
            min=0,
            help="On SIGINT/SIGTERM, seconds running predictions may take to finish before "
            "they are failed.",
        ),
    ] = 30.0,
    data_retention: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds a finished prediction keeps its input, output, logs and output "
            "files, and uploads their expiry (0: keep everything).",
        ),
    ] = 3600.0,
    max_queue: Annotated[
        int,
        typer.Option(
            min=0,
            help="Predictions that may wait per model before creates are answered 429 "
            "(Retry-After; nothing is created). 0: no cap.",
        ),
    ] = 10_000,
    rate_limit: Annotated[
        str | None,
        typer.Option(
            help="Requests per API token on this node, as N/s or N/m (429 with Retry-After "
            "past it); bursts of --rate-burst. Default: no limit.",
        ),
    ] = None,
    rate_burst: Annotated[
        int | None,
        typer.Option(min=1, help="Requests a token may make at once (default: one second's)."),
    ] = None,
    queue_ttl: Annotated[
        str | None,
        typer.Option(
            help="How long a prediction may wait in the queue before it is canceled (90, "
            "10m, 1h); a request's X-Foretell-Queue-TTL or queue_ttl overrides it. "
            "Default: no limit.",
        ),
    ] = None,
    collections: Annotated[
        pathlib.Path | None,
        typer.Option(
            envvar="FORETELL_COLLECTIONS",
            show_envvar=True,
            help="A YAML or TOML file of model collections (GET /v1/collections), listed "
            "after the built-in one. Default: DATA_DIR/collections.yaml or .toml, if there.",
        ),
    ] = None,
    log_format: LogFormatOption = LogFormat.TEXT,
) -> None:
    """Serve models behind Replicate's HTTP API."""
    # The server stack loads only for this command, so `foretell predict` starts fast.
    from foretell.api.state import Settings
    from foretell.server import ServeConfig, run
    from foretell.webhooks import RetryPolicy

    urls = engine_urls(data_dir, database, queue, files)  # exit 2 before anything starts
    try:
        if models:
            hosted = parse_models(models)
        else:  # an API node of a cluster hosts nothing unless told to
            hosted = builtin_models() if urls.queue == MEMORY else {}
    except PredictorLoadError as exc:
        print_error("Invalid model", str(exc))
        raise typer.Exit(1) from exc
    if no_auth:
        err_console.print(
            "[bold yellow]WARNING: --no-auth: anyone who can reach this port can run models "
            "and read every prediction. Use it for local experiments only.[/]"
        )
    settings = Settings(
        max_body_bytes=max_body_mb * 1024 * 1024,
        max_upload_bytes=max_body_mb * 1024 * 1024,
        max_push_bytes=max_push_mb * 1024 * 1024,
        no_auth=no_auth,
        collections=_collections(collections, data_dir),
    )
    if allow_private_urls:
        err_console.print(
            "[bold yellow]WARNING: --allow-private-urls: file inputs and webhooks may reach "
            "loopback and private addresses, over plain http too. For development only.[/]"
        )
    retry = RetryPolicy(
        base_s=float(os.environ.get("FORETELL_WEBHOOK_RETRY_BASE_S", "1.0")),
        max_age_s=webhook_max_age,
    )
    config = ServeConfig(
        hosted, data_dir, host, port, settings, output_url_ttl, allow_private_urls, public_url,
        retry, model_threads, shutdown_grace, data_retention,
        database=urls.database, queue=urls.queue, files=urls.files,
        scaling=scaling_options(min_instances, max_instances, idle_timeout),
        limits=_limits(max_queue, rate_limit, rate_burst, queue_ttl),
    )  # fmt: skip
    configure("json" if log_format is LogFormat.JSON else "text")
    try:
        run(config)
    except StoreError as exc:  # the database is down or refused us: say so, no traceback
        print_error("Could not start", str(exc))
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:  # before the server's own handlers are installed
        raise typer.Exit(130) from None


def _collections(path: pathlib.Path | None, data_dir: pathlib.Path) -> tuple[Collection, ...]:
    """The built-in collection, then --collections' (or the data dir's file's); exit 2 with
    the file's first wrong entry if it has one."""
    from foretell.api.collections import DEFAULT_FILES, load_collections
    from foretell.core.collections import CollectionsError, builtin_collection, combine

    if path is None:
        path = next((data_dir / n for n in DEFAULT_FILES if (data_dir / n).is_file()), None)
    try:
        configured = load_collections(path) if path is not None else []
    except CollectionsError as exc:
        raise typer.BadParameter(str(exc), param_hint="--collections") from exc
    return tuple(combine(builtin_collection(builtin_models()), configured))


def _limits(
    max_queue: int, rate_limit: str | None, rate_burst: int | None, queue_ttl: str | None
) -> Limits:
    """--max-queue, --rate-limit, --rate-burst and --queue-ttl, checked (exit 2 if bad)."""
    from foretell.api.durations import parse_duration
    from foretell.api.limits import Limits, TokenBuckets, parse_rate

    buckets = None
    try:
        if rate_limit is not None:
            rate = parse_rate(rate_limit)
            buckets = TokenBuckets(rate, float(rate_burst or max(1, math.ceil(rate))))
        ttl_s = parse_duration(queue_ttl) if queue_ttl is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if ttl_s is not None and ttl_s <= 0:
        raise typer.BadParameter("--queue-ttl must be more than 0 seconds")
    return Limits(max_queue=max_queue, buckets=buckets, queue_ttl_s=ttl_s)
