"""`foretell tokens create`: API tokens for an account."""

from __future__ import annotations

import asyncio
import pathlib
from typing import Annotated

import typer

DEFAULT_ACCOUNT = "local"  # the account `foretell serve` gives its first token

tokens_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


@tokens_app.command("create")
def create_command(
    data_dir: Annotated[
        pathlib.Path, typer.Option(help="The server's data directory.")
    ] = pathlib.Path(".foretell"),
    account: Annotated[str, typer.Option(help="Account the token belongs to.")] = DEFAULT_ACCOUNT,
) -> None:
    """Create an API token and print it (the last word of the output)."""

    from foretell.server import create_token
    from foretell.store.sqlite import SQLiteStore

    async def create() -> str:
        store = SQLiteStore(data_dir / "foretell.db")
        await store.open()
        try:
            return await create_token(store, account)
        finally:
            await store.close()

    token = asyncio.run(create())
    typer.echo(f"Created a token for account {account}: {token}")
