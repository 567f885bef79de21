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
        help="The database: sqlite:///ABS/PATH or sqlite:///./REL/PATH (postgresql:// comes "
        "with the cluster shape). Default: sqlite:///DATA_DIR/foretell.db.",
    ),
]
QueueOption = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        envvar="FORETELL_QUEUE",
        show_envvar=True,
        help="The work queue: memory:// (in this process; redis:// comes with the cluster "
        "shape). Default: memory://.",
    ),
]
FilesOption = Annotated[
    str | None,
    typer.Option(
        metavar="URL",
        envvar="FORETELL_FILES",
        show_envvar=True,
        help="Where uploads and outputs are kept: file:///ABS/DIR or file:///./REL/DIR "
        "(s3:// comes with the cluster shape). Default: file:///DATA_DIR/files.",
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
