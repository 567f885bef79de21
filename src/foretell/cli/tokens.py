"""`foretell tokens create|list|revoke`: API tokens in a server's database."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from foretell.cli.engines import DatabaseOption, engine_urls
from foretell.cli.render import print_error, print_note
from foretell.core.accounts import hash_token
from foretell.engines import open_store, sqlite_path
from foretell.errors import StoreError

if TYPE_CHECKING:
    from foretell.store.protocol import Store

T = TypeVar("T")

DEFAULT_ACCOUNT = "local"  # the account `foretell serve` gives its first token
#: how many hex digits of a token's hash name it in `list` and `revoke`
ID_LENGTH = 12

tokens_app = typer.Typer(
    help="Manage API tokens (in a server's data directory or database).", no_args_is_help=True
)

DataDirOption = Annotated[
    pathlib.Path,
    typer.Option(
        metavar="DIR",
        help="The server's data directory (`foretell serve --data-dir`); its database, "
        "unless --database names one.",
    ),
]


@dataclass(frozen=True)
class _Database:
    """The database the options name, and how messages name it."""

    url: str
    #: the data dir when the database is the one under it, else the URL
    where: str
    is_data_dir: bool

    @classmethod
    def of(cls, data_dir: pathlib.Path, database: str | None) -> _Database:
        url = engine_urls(data_dir, database=database).database
        return cls(url, database or str(data_dir), database is None)

    @property
    def embedded(self) -> bool:
        return self.url.startswith("sqlite:")

    def exists(self) -> bool:
        """Whether it was made already (a server's database, PostgreSQL's, always is: its
        tables are made on first open)."""
        return not self.embedded or sqlite_path(self.url).exists()


def _with_store(database: _Database, work: Callable[[Store], Awaitable[T]]) -> T:
    async def run() -> T:
        store = open_store(database.url)
        await store.open()
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except StoreError as exc:  # a database that can't be reached: say so, no traceback
        print_error("Database unavailable", str(exc))
        raise typer.Exit(1) from exc


@tokens_app.command("create")
def create_command(
    data_dir: DataDirOption = pathlib.Path(".foretell"),
    database: DatabaseOption = None,
    account: Annotated[
        str, typer.Option(metavar="NAME", help="Account the token belongs to.")
    ] = DEFAULT_ACCOUNT,
) -> None:
    """Create an API token and print it (the last word of the output)."""
    from foretell.server import create_token

    db = _Database.of(data_dir, database)
    is_new = db.embedded and not db.exists()
    token = _with_store(db, lambda store: create_token(store, account))
    if is_new:  # scripts rely on this working, but a mistyped path should be noticed
        made = (
            f"a new data dir at {data_dir.resolve()}"
            if db.is_data_dir
            else f"a new database at {sqlite_path(db.url)}"
        )
        print_note(f"created {made}; no server has used it yet")
    typer.echo(f"Created a token for account {account}: {token}")


@tokens_app.command("list")
def list_command(
    data_dir: DataDirOption = pathlib.Path(".foretell"), database: DatabaseOption = None
) -> None:
    """Every token: its id (the start of its hash; the token itself is never stored)."""
    db = _require_db(data_dir, database)

    found = _with_store(db, lambda store: store.list_tokens())
    table = Table(title=f"{len(found)} token(s) in {db.where}")
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
    database: DatabaseOption = None,
) -> None:
    """Revoke a token: servers refuse it (401) within a few seconds (their token cache)."""
    db = _require_db(data_dir, database)
    prefix = hash_token(token) if token.startswith("r8_") else token.lower()
    if len(prefix) < 8:
        print_error("Ambiguous id", "give at least 8 characters of the id `tokens list` shows")
        raise typer.Exit(2)

    matches = _with_store(db, lambda store: store.revoke_tokens(prefix))
    if not matches:
        print_error("No such token", f"{token[:ID_LENGTH]}… is not a token of {db.where}")
        raise typer.Exit(1)
    if len(matches) > 1:
        print_error("Ambiguous id", f"{prefix} starts {len(matches)} tokens: give more of it")
        raise typer.Exit(2)
    typer.echo(f"Revoked token {matches[0][:ID_LENGTH]}")


def _require_db(data_dir: pathlib.Path, database: str | None) -> _Database:
    """The database, which a server (or `tokens create`) must have made already."""
    db = _Database.of(data_dir, database)
    if not db.exists():
        hint = "a data dir a server has used (see --data-dir)" if db.is_data_dir else "a database"
        print_error("No database", f"{db.where} is not {hint}")
        raise typer.Exit(1)
    return db
