"""Models: a local directory read into the runner's ModelSpec (for `predict`/`schema`), and
`foretell models list|get|schema` against any Replicate-compatible API."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from foretell.cli.remote import BaseUrlOption, TokenOption, connect, dumps, parse_ref, run_async
from foretell.cli.render import print_note
from foretell.client import example_input, input_fields
from foretell.runner import ModelSpec
from foretell.runner.environments import spec_for_directory


def model_spec(model_dir: Path) -> ModelSpec:
    """The spec for `foretell predict`/`schema`: named after the directory if cog.yaml
    has no image name."""
    spec = spec_for_directory(model_dir, progress=print_note)
    if spec.name.startswith("local/"):
        return ModelSpec(**{**spec.__dict__, "name": model_dir.resolve().name})
    return spec


# ---- `foretell models list|get|schema`: models on any Replicate-compatible API -------------


def list_command(
    query: Annotated[
        str | None, typer.Argument(metavar="[QUERY]", help="Only models matching this text.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON objects.")] = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
) -> None:
    """The models the API serves (or those matching QUERY)."""

    async def work() -> int:
        async with connect(base_url, token) as client:
            page = await (client.search(query) if query else client.models())
        found = page.get("results", [])
        if as_json:
            typer.echo(dumps(found))
            return 0
        table = Table(title=f"{len(found)} model(s)")
        for column in ("model", "description", "status"):
            table.add_column(column, overflow="fold")
        for m in found:
            status = (m.get("setup") or {}).get("status", "")
            table.add_row(f"{m['owner']}/{m['name']}", m.get("description") or "", status)
        Console().print(table)
        return 0

    run_async(work)


def get_command(
    model: Annotated[str, typer.Argument(metavar="OWNER/NAME", help="The model.")],
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
) -> None:
    """A model as JSON, its latest version's schema included."""
    ref = parse_ref(model)

    async def work() -> int:
        async with connect(base_url, token) as client:
            typer.echo(dumps(await client.model(ref.owner or "", ref.name or "")))
        return 0

    run_async(work)


def schema_command(
    model: Annotated[str, typer.Argument(metavar="OWNER/NAME[:VERSION]", help="The model.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the whole OpenAPI schema instead.")
    ] = False,
    base_url: BaseUrlOption = None,
    token: TokenOption = None,
) -> None:
    """A model's inputs (type, default, limits) and an example `foretell run` line."""
    ref = parse_ref(model)

    async def work() -> int:
        async with connect(base_url, token) as client:
            found = await client.model(ref.owner or "", ref.name or "")
            openapi = await client.schema(ref) if ref.version else None
        if openapi is not None:
            found = {**found, "latest_version": {"openapi_schema": openapi}}
        schema = (found.get("latest_version") or {}).get("openapi_schema") or {}
        if as_json:
            typer.echo(dumps(schema))
            return 0
        _print_inputs(model, found, schema)
        return 0

    run_async(work)


def _print_inputs(model: str, found: dict[str, Any], schema: dict[str, Any]) -> None:
    console = Console()
    if not schema:
        status = (found.get("setup") or {}).get("status", "loading")
        console.print(f"{model} has no schema yet (its setup status: {status}); try again soon.")
        return
    table = Table(title=f"{model} inputs")
    for column in ("name", "type", "default", "description"):
        table.add_column(column, overflow="fold")
    for field_ in input_fields(schema):
        limits = [f"{k} {field_[k]}" for k in ("minimum", "maximum") if k in field_]
        if "enum" in field_:
            limits.append("one of " + ", ".join(map(str, field_["enum"])))
        kind = field_["type"] + (" (required)" if field_["required"] else "")
        default = json.dumps(field_["default"]) if "default" in field_ else ""
        text = " ".join([field_.get("description", ""), *(f"[{x}]" for x in limits)]).strip()
        table.add_row(field_["name"], kind, default, escape(text))
    console.print(table)
    example = example_input(found)
    pairs = " ".join(f"-i {shlex.quote(f'{k}={_cli_value(v)}')}" for k, v in example.items())
    console.print("Example:", escape(f"foretell run {model} {pairs}".strip()), soft_wrap=True)


def _cli_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
