"""Choosing markdown or HTML from the Accept header."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from foretell.web.negotiate import wants_markdown


def request(accept: str | None) -> Request:
    headers = [(b"accept", accept.encode())] if accept is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("accept", "markdown"),
    [
        ("text/markdown", True),
        ("text/markdown, text/html;q=0.9", True),
        ("text/html, text/markdown", True),  # equal preference: markdown (agents ask for it)
        ("text/html, text/markdown;q=0.5", False),
        ("text/html,application/xhtml+xml,*/*;q=0.8", False),  # a browser
        ("*/*", False),
        ("text/markdown;q=bogus", False),
        (None, False),
    ],
)
def test_markdown_only_when_asked_for(accept: str | None, markdown: bool) -> None:
    """Markdown is served when Accept prefers it at least as much as HTML, never on */*."""
    assert wants_markdown(request(accept)) is markdown
