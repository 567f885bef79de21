"""`foretell tokens create|list|revoke`: API tokens of a server's data directory."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from foretell.cli.render import print_error, print_note
from foretell.core.accounts import hash_token
from foretell.store.sqlite import SQLiteStore

T = TypeVar("T")

DEFAULT_ACCOUNT = "local"  # the account `foretell serve` gives its first token
#: how many hex digits of a token's hash name it in `list` and `revoke`
ID_LENGTH = 12

tokens_app = typer.Typer(
    help="Manage API tokens (in a server's data directory).", no_args_is_help=True
)

DataDirOption = Annotated[
    pathlib.Path,
    typer.Option(metavar="DIR", help="The server's data directory (`foretell serve --data-dir`)."),
]


def _with_store(data_dir: pathlib.Path, work: Callable[[SQLiteStore], Awaitable[T]]) -> T:
    async def run() -> T:
        store = SQLiteStore(data_dir / "foretell.db")
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(run())


@tokens_app.command("create")
def create_command(
    data_dir: DataDirOption = pathlib.Path(".foretell"),
    account: Annotated[
        str, typer.Option(metavar="NAME", help="Account the token belongs to.")
    ] = DEFAULT_ACCOUNT,
) -> None:
    """Create an API token and print it (the last word of the output)."""
    from foretell.server import create_token

    is_new = not (data_dir / "foretell.db").exists()
    token = _with_store(data_dir, lambda store: create_token(store, account))
    if is_new:  # scripts rely on this working, but a mistyped path should be noticed
        print_note(f"created a new data dir at {data_dir.resolve()}; no server has used it yet")
    typer.echo(f"Created a token for account {account}: {token}")


@tokens_app.command("list")
def list_command(data_dir: DataDirOption = pathlib.Path(".foretell")) -> None:
    """Every token: its id (the start of its hash; the token itself is never stored)."""
    _require_db(data_dir)

    found = _with_store(data_dir, lambda store: store.list_tokens())
    table = Table(title=f"{len(found)} token(s) in {data_dir}")
    for column in ("id", "account", "label", "created"):
        table.add_column(column)
    for record in found:
        table.add_row(record.hash[:ID_LENGTH], record.account, record.label, record.created_at)
    Console().print(table)


@tokens_app.command("revoke")
def revoke_command(
    token: Annotated[
        str, typer.Argument(metavar="TOKEN_OR_ID", help="The token itself, or its id from `list`.")
    ],
    data_dir: DataDirOption = pathlib.Path(".foretell"),
) -> None:
    """Revoke a token: requests that send it get 401 from then on."""
    _require_db(data_dir)
    prefix = hash_token(token) if token.startswith("r8_") else token.lower()
    if len(prefix) < 8:
        print_error("Ambiguous id", "give at least 8 characters of the id `tokens list` shows")
        raise typer.Exit(2)

    matches = _with_store(data_dir, lambda store: store.revoke_tokens(prefix))
    if not matches:
        print_error("No such token", f"{token[:ID_LENGTH]}… is not a token of {data_dir}")
        raise typer.Exit(1)
    if len(matches) > 1:
        print_error("Ambiguous id", f"{prefix} starts {len(matches)} tokens: give more of it")
        raise typer.Exit(2)
    typer.echo(f"Revoked token {matches[0][:ID_LENGTH]}")


def _require_db(data_dir: pathlib.Path) -> None:
    if not (data_dir / "foretell.db").exists():
        print_error(
            "No database", f"{data_dir} is not a data dir a server has used (see --data-dir)"
        )
        raise typer.Exit(1)
