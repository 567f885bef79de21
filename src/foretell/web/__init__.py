"""The web playground and the markdown docs (llms.txt): routes served after the API's."""

from __future__ import annotations

import pathlib

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from foretell.web import pages

__all__ = ["routes"]


def routes() -> list[BaseRoute]:
    """The playground's routes; mount them after the API's so that the API always wins."""
    static = pathlib.Path(__file__).parent / "static"
    return [
        Route("/", pages.index, methods=["GET"]),
        Route("/llms.txt", pages.server_llms, methods=["GET"]),
        Mount("/static", StaticFiles(directory=static), name="static"),
        Route("/p", pages.history_page, methods=["GET"]),
        Route("/p/{id}", pages.prediction_page, methods=["GET"]),
        Route("/{owner}/{name}/llms.txt", pages.model_llms, methods=["GET"]),
        Route("/{owner}/{name}", pages.model_page, methods=["GET"]),
    ]
