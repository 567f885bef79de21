"""The one place the CLI prints errors and progress."""

from __future__ import annotations

from rich.console import Console

#: Errors, logs and progress go to stderr so stdout carries only the output.
err_console = Console(stderr=True, highlight=False)


def print_error(title: str, message: str) -> None:
    """`Title: message` in red, like httpx's CLI."""
    err_console.print(f"[bold red]{title}:[/] {message}", soft_wrap=True)


def print_note(message: str) -> None:
    """A dim progress or informational line."""
    err_console.print(f"[dim]{message}[/]", soft_wrap=True)
