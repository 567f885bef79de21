"""The engine options `serve` and `tokens` share: `--database`, `--queue`, `--files`."""

from __future__ import annotations

import pathlib
from typing import Annotated

import typer

from foretell.engines import BadEngineURL, EngineURLs

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        envvar="FORETELL_DATABASE",
        show_envvar=True,
        help="The database: sqlite:///ABS/PATH, sqlite:///./REL/PATH, or a cluster's "
        "postgresql://USER@HOST:5432/DB. Default: sqlite:///DATA_DIR/foretell.db.",
    ),
]
QueueOption = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        envvar="FORETELL_QUEUE",
        show_envvar=True,
        help="The work queue (and event bus): memory:// (in this process) or a cluster's "
        "redis://HOST:6379/0. Default: memory://.",
    ),
]
FilesOption = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        envvar="FORETELL_FILES",
        show_envvar=True,
        help="Where uploads and outputs are kept: file:///ABS/DIR, file:///./REL/DIR (a "
        "directory every node mounts, for a cluster) or s3://BUCKET[/PREFIX] (AWS_* "
        "variables; AWS_ENDPOINT_URL for MinIO & co.). Default: file:///DATA_DIR/files.",
    ),
]


def engine_urls(
    data_dir: pathlib.Path,
    database: str | None = None,
    queue: str | None = None,
    files: str | None = None,
) -> EngineURLs:
    """The engines the options name (exit 2 with the reason when one can't be used)."""
    try:
        return EngineURLs.parse(data_dir, database=database, queue=queue, files=files)
    except BadEngineURL as exc:
        problem = str(exc).removeprefix(f"{exc.option} ")
        raise typer.BadParameter(problem, param_hint=f"'{exc.option}'") from exc
