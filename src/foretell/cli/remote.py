"""What the commands that talk to an API share: options, the connection, inputs and file outputs."""

from __future__ import annotations

import asyncio
import datetime
import json
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote, urlsplit

import typer

from foretell.cli.inputs import CLIInputError, parse_inputs
from foretell.cli.render import print_error
from foretell.client import ApiError, Client, ClientConfig, ConnectError
from foretell.core.models import Model
from foretell.core.refs import InvalidModelRef, ModelRef
from foretell.errors import InvalidRequest

T = TypeVar("T")

BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="FORETELL_BASE_URL",
        metavar="URL",
        help="The API to call: foretell (default http://127.0.0.1:5000) or "
        "https://api.replicate.com.",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="REPLICATE_API_TOKEN",
        metavar="TOKEN",
        help="API token (default: $REPLICATE_API_TOKEN).",
        show_default=False,
    ),
]


class InputError(Exception):
    """Inputs that fail the model's schema, before anything is sent; exit status 2."""


def connect(base_url: str | None, token: str | None) -> Client:
    """A client for `--base-url`/`--token` (their environment variables already applied)."""
    return Client(ClientConfig.from_env(base_url, token))


def run_async(work: Callable[[], Coroutine[Any, Any, int]]) -> None:
    """Run a command's coroutine; print API and connection errors once, as `Title: message`."""
    try:
        code = asyncio.run(work())
    except KeyboardInterrupt:
        code = 130
    except ApiError as exc:
        print_error(exc.title, exc.detail.rstrip())
        code = 1
    except ConnectError as exc:
        print_error("Could not connect", f"{exc} (is the server running? see --base-url)")
        code = 1
    except InputError as exc:
        print_error("Invalid input", str(exc))
        code = 2
    raise typer.Exit(code)


def parse_ref(text: str) -> ModelRef:
    """OWNER/NAME[:VERSION]; a bad one is a usage error."""
    try:
        ref = ModelRef.parse(text)
    except InvalidModelRef as exc:
        raise typer.BadParameter(str(exc)) from exc
    if ref.model is None:
        raise typer.BadParameter("name the model as OWNER/NAME or OWNER/NAME:VERSION")
    return ref


async def resolve(client: Client, ref: ModelRef) -> tuple[ModelRef, dict[str, Any]]:
    """The reference to run and its schema. Replicate runs a community model only by version
    (`/models/{owner}/{name}/predictions` is for official ones), so pin its latest version
    unless the API marks the model official (foretell marks every model so)."""
    if ref.version:
        return ref, await client.schema(ref)
    found = await client.model(ref.owner or "", ref.name or "")
    version = found.get("latest_version") or {}
    openapi = dict(version.get("openapi_schema") or {})
    if not found.get("is_official") and version.get("id"):
        ref = ModelRef(ref.owner, ref.name, version["id"])
    return ref, openapi


def checked_inputs(
    pairs: list[str], openapi: dict[str, Any], values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """`-i` pairs (and JSON values) -> the input, validated with the server's own code."""
    try:
        raw = {**parse_inputs(pairs, openapi), **(values or {})}
    except CLIInputError as exc:
        raise InputError(str(exc)) from exc
    check_input(openapi, raw)
    return raw


def check_input(openapi: dict[str, Any], raw: dict[str, Any]) -> None:
    """Raise InputError with the lines a 422 from foretell would carry."""
    if not openapi:
        return  # a model still loading has no schema yet: the server checks it later
    from foretell.admission import check_input as server_check

    model = Model("", "", "", openapi, datetime.datetime.now(datetime.UTC))
    try:
        server_check(model, raw)
    except InvalidRequest as exc:
        raise InputError("\n" + exc.detail.rstrip()) from exc


async def upload_local_files(client: Client, value: Any) -> Any:
    """Replace the `file://` URLs `@path` inputs became with uploaded files' URLs."""
    if isinstance(value, dict):
        return {key: await upload_local_files(client, item) for key, item in value.items()}
    if isinstance(value, list):
        return [await upload_local_files(client, item) for item in value]
    if isinstance(value, str) and value.startswith("file://"):
        path = Path(unquote(urlsplit(value).path))
        uploaded = await client.upload(path.read_bytes(), path.name)
        return uploaded["urls"]["get"]
    return value


def file_locations(
    value: Any, schema: dict[str, Any], components: dict[str, Any]
) -> list[list[Any]]:
    """Where the schema says an output holds a file URL (`format: uri`)."""
    schema = _resolve(schema, components)
    if isinstance(value, str):
        is_url = value.startswith(("http://", "https://", "data:"))
        return [[]] if schema.get("format") == "uri" and is_url else []
    found: list[list[Any]] = []
    if isinstance(value, list):
        items = schema.get("items", {})
        for index, item in enumerate(value):
            found += [[index, *rest] for rest in file_locations(item, items, components)]
    elif isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            sub = properties.get(key, {})
            found += [[key, *rest] for rest in file_locations(item, sub, components)]
    return found


def output_schemas(openapi: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Output schema and the components its `$ref`s point into."""
    components: dict[str, Any] = openapi.get("components", {}).get("schemas", {})
    return components.get("Output", {}), components


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return dict(components.get(ref.rsplit("/", 1)[-1], {}))
    for part in schema.get("allOf", []):
        if isinstance(part, dict) and "$ref" in part:
            return {**schema, **_resolve(part, components)}
    return schema


async def save_file(client: Client, url: str, out_dir: Path, stem: str = "output") -> Path:
    """Download one output file into `out_dir` under a name no earlier file has."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = Path(unquote(urlsplit(url).path)).name if not url.startswith("data:") else ""
    target = reserve(out_dir / (name or stem))
    if url.startswith("data:"):
        import urllib.request

        with urllib.request.urlopen(url) as data:  # noqa: S310 (data: only, never a network URL)
            target.write_bytes(data.read())
        return target
    return await client.download(url, target)


async def save_outputs(
    client: Client, output: Any, openapi: dict[str, Any], out_dir: Path
) -> tuple[Any, list[Path]]:
    """Download every file in an output now (their URLs expire); the output with local paths."""
    schema, components = output_schemas(openapi)
    return await save_files(client, output, schema, components, out_dir)


async def save_files(
    client: Client, value: Any, schema: dict[str, Any], components: dict[str, Any], out_dir: Path
) -> tuple[Any, list[Path]]:
    """`value` (an output or one streamed item) with each file URL replaced by its download."""
    saved: list[Path] = []
    for location in file_locations(value, schema, components):
        path = await save_file(client, _get(value, location), out_dir)
        saved.append(path)
        value = _set(value, location, str(path))
    return value, saved


def _get(value: Any, location: list[Any]) -> Any:
    for key in location:
        value = value[key]
    return value


def _set(value: Any, location: list[Any], new: Any) -> Any:
    if not location:
        return new
    value[location[0]] = _set(value[location[0]], location[1:], new)
    return value


def reserve(path: Path) -> Path:
    """Create `out.png`, else `out-1.png`, ...: never overwrite an earlier output (as
    `foretell predict`), and two downloads running at once never pick the same name."""
    candidate, n = path, 0
    while True:
        try:
            candidate.open("xb").close()
            return candidate
        except FileExistsError:
            n += 1
            candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")


def dumps(value: Any) -> str:
    """JSON for the terminal: indented, non-ASCII as is."""
    return json.dumps(value, indent=2, ensure_ascii=False)


async def gather_limited(limit: int, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run coroutines with at most `limit` at a time, results in order."""
    gate = asyncio.Semaphore(max(1, limit))

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


class RunOptions:
    """What to do with a prediction once it is created."""

    def __init__(
        self, wait: bool, webhook: str | None, events: list[str], out_dir: Path, as_json: bool
    ) -> None:
        self.wait = wait
        self.webhook = webhook
        self.events = events
        self.out_dir = out_dir
        self.as_json = as_json


async def create(
    client: Client, ref: ModelRef, raw: dict[str, Any], options: RunOptions, wait_s: int | None
) -> dict[str, Any]:
    """Upload `@file` inputs, then create the prediction."""
    sent = await upload_local_files(client, raw)
    return await client.create_prediction(
        ref, sent, wait_s=wait_s, webhook=options.webhook, webhook_events=options.events or None
    )
