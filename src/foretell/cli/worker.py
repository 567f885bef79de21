"""`foretell worker`: run models for a cluster's API nodes (PostgreSQL + Redis + files)."""

from __future__ import annotations

import os
import pathlib
from typing import Annotated

import typer

from foretell.cli.engines import DatabaseOption, FilesOption, QueueOption, engine_urls
from foretell.cli.render import print_error
from foretell.cli.scaling import (
    IdleTimeoutOption,
    MaxInstancesOption,
    MinInstancesOption,
    scaling_options,
)
from foretell.cli.serve import LogFormat, LogFormatOption, parse_models
from foretell.errors import StoreError
from foretell.logs import configure
from foretell.predictor.errors import PredictorLoadError


def worker_command(
    models: Annotated[
        list[str] | None,
        typer.Argument(
            help="PATH, OWNER/NAME=PATH or a built-in model (foretell/ocr); none with --pushed.",
            show_default=False,
        ),
    ] = None,
    database: DatabaseOption = None,
    queue: QueueOption = None,
    files: FilesOption = None,
    public_url: Annotated[
        str,
        typer.Option(
            envvar="FORETELL_PUBLIC_URL",
            show_envvar=True,
            help="An API node's URL as clients see it (file URLs and webhook bodies name it).",
        ),
    ] = "http://127.0.0.1:5000",
    allow_private_urls: Annotated[
        bool,
        typer.Option(
            "--allow-private-urls",
            help="Let file inputs and webhooks reach loopback/private addresses and plain http.",
        ),
    ] = False,
    model_threads: Annotated[
        int | None, typer.Option(min=1, help="CPU threads each model may use.")
    ] = None,
    min_instances: MinInstancesOption = None,
    max_instances: MaxInstancesOption = 1,
    idle_timeout: IdleTimeoutOption = None,
    shutdown_grace: Annotated[
        float,
        typer.Option(min=0, help="On SIGINT/SIGTERM, seconds running predictions may take."),
    ] = 30.0,
    webhook_max_age: Annotated[
        float, typer.Option(help="Seconds to keep retrying a webhook delivery.")
    ] = 3600.0,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve /metrics, /health and /ready on this port (default: off)."),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option(help="The address --metrics-port listens on.")
    ] = "127.0.0.1",
    log_format: LogFormatOption = LogFormat.TEXT,
    pushed: Annotated[
        bool,
        typer.Option(
            "--pushed",
            help="Also host every version pushed to the cluster (foretell push) or trained.",
        ),
    ] = False,
) -> None:
    """Run models for a cluster: claim their predictions from the shared queue."""
    from foretell.webhooks import RetryPolicy
    from foretell.worker_node import NotShared, WorkerConfig, check_shared, run

    # no data dir: every engine is the cluster's (a worker keeps nothing of its own)
    data_dir = pathlib.Path(".")
    urls = engine_urls(data_dir, database, queue, files)  # exit 2 before anything starts
    try:
        check_shared(urls)
        if files is None:
            raise NotShared(
                "a worker needs the cluster's files: --files s3://BUCKET or "
                "file:///DIR/EVERY/NODE/MOUNTS (or FORETELL_FILES)"
            )
    except NotShared as exc:
        raise typer.BadParameter(str(exc)) from exc
    if not models and not pushed:
        raise typer.BadParameter("name the models to host, or give --pushed", param_hint="MODELS")
    try:
        hosted = parse_models(models or [])
    except PredictorLoadError as exc:
        print_error("Invalid model", str(exc))
        raise typer.Exit(1) from exc
    retry = RetryPolicy(
        base_s=float(os.environ.get("FORETELL_WEBHOOK_RETRY_BASE_S", "1.0")),
        max_age_s=webhook_max_age,
    )
    config = WorkerConfig(
        hosted, urls.database, urls.queue, urls.files, public_url, allow_private_urls,
        webhook_retry=retry, model_threads=model_threads, shutdown_grace_s=shutdown_grace,
        scaling=scaling_options(min_instances, max_instances, idle_timeout),
        metrics_port=metrics_port, metrics_host=metrics_host, pushed=pushed,
    )  # fmt: skip
    configure("json" if log_format is LogFormat.JSON else "text")
    try:
        run(config)
    except StoreError as exc:  # the database is down or refused us: say so, no traceback
        print_error("Could not start", str(exc))
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
