"""Admitting a prediction's input: validated against the model's schema, file inputs planned.

The API runs these checks before anything is stored (an InvalidRequest is its 422); the model
host runs them again for a prediction accepted while its model was still starting (there the
InvalidRequest becomes the prediction's error). Both hand in the few things the checks need,
so this module depends on neither of them.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Protocol

from foretell.core.models import Model
from foretell.errors import InvalidField, InvalidRequest
from foretell.files.protocol import FileStore, InvalidKey
from foretell.files.urls import UrlSigner
from foretell.outbound import BlockedURL, OutboundPolicy, check_url_shape, parse_url
from foretell.predictor.errors import InvalidInput
from foretell.predictor.validate import validate_input
from foretell.store.protocol import FileRecord


class FileRecords(Protocol):
    """Uploaded files' records (the Store's read side)."""

    async def get_file(self, account: str | None, file_id: str) -> FileRecord | None:
        """A file of the account (any account when None), or None."""


@dataclass
class FilePlan:
    """Where each file input comes from: this server's own files (by FileStore key), or
    fetched by the guard."""

    #: input URL -> key of this server's own file
    keys: dict[str, str] = field(default_factory=dict)
    remote: list[str] = field(default_factory=list)


def check_input(model: Model, raw: dict[str, Any]) -> dict[str, Any]:
    """The input, validated; InvalidRequest with Replicate's invalid_fields otherwise."""
    try:
        cleaned = validate_input(model.openapi_schema, raw)
    except InvalidInput as exc:
        raise InvalidRequest(
            [_invalid_field(e.field, e.message, e.kind) for e in exc.errors]
        ) from exc
    return cleaned


@dataclass
class Admission:
    """Checks an input and plans its files, with the collaborators those checks read."""

    signer: UrlSigner
    files: FileStore
    records: FileRecords
    policy: OutboundPolicy
    max_data_uri_bytes: int

    async def plan_files(
        self, account: str, model: Model, raw: dict[str, Any], base: str
    ) -> FilePlan:
        """Check the input and the file inputs the request sent; say where each comes from.

        Not the model's own defaults (a default may be a file in its directory). `base` is
        the server's URL as the client reached it: its /v1/files URLs are read from storage,
        and output URLs this server signed (from any host name) are passed on without a
        fetch, so one model's output URL can be the next model's input.
        """
        cleaned = check_input(model, raw)
        sent = {name: value for name, value in cleaned.items() if name in raw}
        plan, bad = FilePlan(), []
        for name, url in model.file_urls(sent):
            try:
                if urllib.parse.urlsplit(url).scheme == "data":
                    self._check_data_uri(url)
                    continue
                parse_url(url)  # one syntax check for every URL, this server's own included
                key = await self._own_file(account, url, base)
                if key is not None:
                    plan.keys[url] = key
                else:
                    self._check_remote(url)
                    plan.remote.append(url)
            except ValueError as exc:
                bad.append(_invalid_field(name, str(exc), "format"))
        if bad:
            raise InvalidRequest(bad)
        return plan

    def _check_data_uri(self, url: str) -> None:
        limit = self.max_data_uri_bytes
        if len(url) > limit:
            raise ValueError(
                f"data: URIs may be at most {limit} bytes; upload larger files with POST /v1/files"
            )

    async def _own_file(self, account: str, url: str, base: str) -> str | None:
        """The key of the file a URL names if it is this server's own, else None."""
        parts = urllib.parse.urlsplit(url)
        path = parts.path if parts.path.startswith("/v1/") else "/v1" + parts.path
        if path.startswith("/v1/outputs/"):
            query = urllib.parse.parse_qs(parts.query)
            expiry, signature = query.get("expiry", [""])[0], query.get("signature", [""])[0]
            if self.signer.verify(path, expiry, signature):
                key = path.removeprefix("/v1/")
                if not await self._exists(key):
                    raise ValueError(f"this output file no longer exists: {url}")
                return key
            if url.startswith(base):
                raise ValueError(f"this output URL is invalid or has expired: {url}")
            return None
        if url.startswith(base + "/v1/files/"):
            file_id = path.removeprefix("/v1/files/").split("/", 1)[0]
            record = await self.records.get_file(account, file_id)
            if record is None:
                raise ValueError(f"no such file: {url}")
            return record.key
        return None

    async def _exists(self, key: str) -> bool:
        try:
            return await self.files.exists(key)
        except InvalidKey:  # we never sign such a key: treat it as gone
            return False

    def _check_remote(self, url: str) -> None:
        if urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https"):
            raise ValueError("must be an http(s) URL or a data: URI")
        try:
            check_url_shape(url, self.policy)
        except BlockedURL as exc:
            raise ValueError(str(exc)) from exc


def _invalid_field(name: str, message: str, kind: str) -> InvalidField:
    if kind == "required":  # Replicate names the parent for a missing key
        return InvalidField("required", "input", f"{name} is required")
    return InvalidField(kind, f"input.{name}" if name else "input", message)
