"""Content negotiation between the playground's HTML and its markdown."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

MARKDOWN = "text/markdown; charset=utf-8"


def _quality(accept: str, media_type: str) -> float:
    """The q of `media_type` in an Accept header (0 when absent; wildcards don't count)."""
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        if kind.lower() == media_type:
            for param in params:
                key, _, value = param.partition("=")
                if key.strip() == "q":
                    try:
                        return float(value)
                    except ValueError:
                        return 0.0
            return 1.0
    return 0.0


def wants_markdown(request: Request) -> bool:
    """Whether the caller asked for markdown at least as much as for HTML."""
    accept = request.headers.get("accept", "")
    markdown = _quality(accept, "text/markdown")
    return markdown > 0 and markdown >= _quality(accept, "text/html")


def markdown_response(text: str) -> Response:
    """Markdown; `Vary: Accept` because the same URL also serves HTML."""
    return Response(text, media_type=MARKDOWN, headers={"Vary": "Accept"})
