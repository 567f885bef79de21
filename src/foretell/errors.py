"""Errors the server raises; each becomes one problem-details HTTP response.

ForetellError
 ├── BadRequest        malformed request: bad JSON, wrong content type, bad header   400
 │    └── InvalidCursor  a list cursor this server did not hand out                   400
 ├── Unauthenticated   missing or unknown token                                      401
 ├── NotFound          no such prediction, model, version or file (for this account) 404
 ├── TooLarge          body or upload over the configured limit                      413
 ├── InvalidRequest    the body is well-formed but invalid (422, with invalid_fields)
 ├── StoreError        the database failed (each engine maps its own errors to it)   500
 │    └── StoreUnavailable  the database can't be reached right now (Retry-After)   503
 └── Unavailable       the model can't take work right now                           503

Engines translate their failures here, each in one place: SQLiteStore._run turns every
sqlite3.Error into StoreError; store/postgres_pool.Pool.run turns a lost or unreachable
PostgreSQL into StoreUnavailable and any other psycopg error into StoreError;
store/codec.py raises InvalidCursor for a cursor it can't read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InvalidField:
    """One entry of a 422's `invalid_fields` (Replicate's shape)."""

    type: str
    field: str
    description: str


class ForetellError(Exception):
    """Base error: an HTTP `status`, a short `title` and a `detail` a user can act on."""

    status = 500
    title = "Internal server error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BadRequest(ForetellError):
    """The request can't be read: bad JSON, wrong content type, a malformed header."""

    status = 400
    title = "Bad request"


class InvalidCursor(BadRequest):
    """A list's `cursor` isn't one this server handed out (or it was altered)."""


class Unauthenticated(ForetellError):
    """No token, or a token that matches no account."""

    status = 401
    title = "Unauthenticated"


class Forbidden(ForetellError):
    """The caller may see the resource but not change it (another account's model)."""

    status = 403
    title = "Forbidden"


class NotFound(ForetellError):
    """The resource doesn't exist, or belongs to another account."""

    status = 404
    title = "Not found"


class Conflict(ForetellError):
    """The request contradicts what exists (a name taken, a model that still has versions)."""

    status = 409
    title = "Conflict"


class TooLarge(ForetellError):
    """The body or an uploaded file is larger than the configured limit."""

    status = 413
    title = "Request too large"


class InvalidRequest(ForetellError):
    """The request is well-formed but some fields are invalid; lists each one."""

    status = 422

    def __init__(self, fields: list[InvalidField], title: str = "Input validation failed") -> None:
        self.fields = fields
        self.title = title
        super().__init__("".join(f"- {f.field}: {f.description}\n" for f in fields))


class StoreError(ForetellError):
    """The database failed (disk full, corrupt file); the message says which operation."""

    status = 500
    title = "Storage error"


class StoreUnavailable(StoreError):
    """The database can't be reached (down, restarting, out of connections): the request
    may be sent again after `retry_after` seconds; the store reconnects by itself."""

    status = 503
    title = "Database unavailable"
    retry_after = 1


class Unavailable(ForetellError):
    """The model exists but can't run predictions (setup failed, defunct)."""

    status = 503
    title = "Model unavailable"
