"""The one place the CLI prints errors and progress."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

#: Errors, logs and progress go to stderr so stdout carries only the output.
err_console = Console(stderr=True, highlight=False)


def print_error(title: str, message: str) -> None:
    """`Title: message` in red, like httpx's CLI."""
    # A model's message is text, not markup: `[...]` or `:-1:` must print as written.
    err_console.print(
        f"[bold red]{escape(title)}:[/] {escape(message)}", soft_wrap=True, emoji=False
    )


def print_note(message: str) -> None:
    """A dim progress or informational line."""
    err_console.print(f"[dim]{escape(message)}[/]", soft_wrap=True, emoji=False)
