"""Every error becomes Replicate's problem-details JSON, in this one place."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from foretell.api.responses import JSONResponse
from foretell.errors import ForetellError, InvalidRequest, StoreUnavailable

PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem-details response."""
    body = {"title": title, "detail": detail, "status": status, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


async def foretell_error(request: Request, exc: Exception) -> Response:
    """ForetellError -> its status, title and detail (422s list invalid_fields)."""
    assert isinstance(exc, ForetellError)
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidRequest):
        extra["invalid_fields"] = [f.__dict__ for f in exc.fields]
    response = problem(exc.status, exc.title, exc.detail, **extra)
    if isinstance(exc, StoreUnavailable):  # a client may try again: say when
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 in the same shape."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        detail = "The requested resource could not be found."
        return problem(404, "Not found", detail)
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
        return problem(405, "Method not allowed", detail)
    return problem(exc.status_code, "Error", str(exc.detail))


HANDLERS = {ForetellError: foretell_error, HTTPException: http_error}
