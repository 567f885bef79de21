"""Identifiers in Replicate's shapes: predictions, files, versions, tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase, no i/l/o/u
_FROM_RFC4648 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET)


def prediction_id() -> str:
    """A 26-character lowercase base32 id, like Replicate's `gm3qorzdhgbfurvjtvhg6dckhu`."""
    # 130 random bits from one read, encoded in C: ids are made on every request
    return base64.b32encode(secrets.token_bytes(20)).decode()[:26].translate(_FROM_RFC4648)


def file_id() -> str:
    """An opaque, URL-safe file id."""
    return prediction_id()


def version_id(schema_bytes: bytes, model: str) -> str:
    """A 64-hex version id derived from the model name and its schema, so it is stable."""
    return hashlib.sha256(model.encode() + b"\0" + schema_bytes).hexdigest()


def api_token() -> str:
    """A new API token: `r8_` and 37 characters, like Replicate's."""
    return "r8_" + secrets.token_urlsafe(28)[:37]


def webhook_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
