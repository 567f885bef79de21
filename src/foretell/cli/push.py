"""`foretell push DIR [OWNER/NAME]`: a model directory to a running server, as a new version
(the counterpart of `cog push`), following its build until it is ready or has failed."""

from __future__ import annotations

import asyncio
import pathlib
import time
from typing import Annotated, Any

import typer

from foretell.cli.remote import BaseUrlOption, TokenOption, connect, parse_ref, run_async
from foretell.cli.render import err_console, print_error
from foretell.client import ApiError, Client
from foretell.packaging import pack_directory
from foretell.predictor.config import load_config
from foretell.predictor.errors import PredictorLoadError

POLL_S = 0.5


def push_command(
    directory: Annotated[
        pathlib.Path, typer.Argument(help="The model's directory (cog.yaml, predict.py).")
    ],
    model: Annotated[
        str | None,
        typer.Argument(
            metavar="[OWNER/NAME]",
            help="The model to push to (default: cog.yaml's `image:` name). Created, private, "
            "if it doesn't exist.",
            show_default=False,
        ),
    ] = None,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
    visibility: Annotated[
        str, typer.Option(help="For a model push creates: public or private.")
    ] = "private",
    hardware: Annotated[str, typer.Option(help="For a model push creates.")] = "cpu",
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the build before giving up waiting.")
    ] = 1800.0,
) -> None:
    """Push a model directory to a running server as a new version of OWNER/NAME."""
    owner, name = _target(directory, model)

    async def work() -> int:
        archive = await asyncio.to_thread(pack_directory, directory)
        err_console.print(f"Packed {directory} ({len(archive) / 2**20:.1f} MiB)")
        async with connect(base_url, token) as client:
            await _ensure_model(client, owner, name, visibility=visibility, hardware=hardware)
            build = await client.push_version(owner, name, archive)
            return await _follow(client, owner, name, build, timeout)

    run_async(work)


def _target(directory: pathlib.Path, model: str | None) -> tuple[str, str]:
    try:
        config = load_config(directory)
    except PredictorLoadError as exc:
        raise typer.BadParameter(str(exc), param_hint="DIR") from None
    text = model or config.name
    if not text:
        raise typer.BadParameter(
            "name the model (OWNER/NAME), or give cog.yaml an `image:`", param_hint="OWNER/NAME"
        )
    ref = parse_ref(text)
    if ref.version or not ref.owner or not ref.name:
        raise typer.BadParameter("push makes the version: name the model only (OWNER/NAME)")
    return ref.owner, ref.name


async def _ensure_model(client: Client, owner: str, name: str, **fields: str) -> None:
    try:
        await client.model(owner, name)
    except ApiError as exc:
        if exc.status != 404:
            raise
        await client.create_model(owner, name, **fields)
        err_console.print(f"Created the model {owner}/{name} ({fields['visibility']})")


async def _follow(
    client: Client, owner: str, name: str, build: dict[str, Any], timeout: float
) -> int:
    """Print the build's new log lines until it ends; 0 once ready, 1 if it failed."""
    shown = 0
    deadline = time.monotonic() + timeout
    while True:
        logs: str = build.get("logs") or ""
        if len(logs) > shown:
            err_console.print(logs[shown:].rstrip("\n"), markup=False, highlight=False)
            shown = len(logs)
        if build["status"] == "ready":
            print(f"{owner}/{name}:{build['id']}")  # stdout: the version, for scripts
            err_console.print(f"Pushed {owner}/{name}: its latest version is {build['id']}")
            return 0
        if build["status"] == "failed":
            print_error("Build failed", build.get("error") or "(no error given)")
            return 1
        if time.monotonic() > deadline:
            print_error("Still building", f"gave up waiting after {timeout:g} s")
            return 1
        await asyncio.sleep(POLL_S)
        build = await client.build(owner, name, build["id"])
