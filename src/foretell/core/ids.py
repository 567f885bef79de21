"""Identifiers in Replicate's shapes: predictions, files, versions, tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase, no i/l/o/u
#: every two-character string of the alphabet, by the 10 bits it encodes
_PAIRS = [high + low for high in _ALPHABET for low in _ALPHABET]


def prediction_id() -> str:
    """A 26-character lowercase base32 id, like Replicate's `gm3qorzdhgbfurvjtvhg6dckhu`:
    the time in milliseconds (48 bits), then 82 random bits, as a ULID is made.

    Time first, so that ids made one after another sort together: each new row goes to the
    end of the store's id index instead of a random page of it (random ids make every
    insert read and rewrite a page that is no longer cached once the table is large)."""
    # 130 bits as 13 pairs of characters: a third of the cost of base64.b32encode (pure
    # Python), and ids are made on every request
    bits = (time.time_ns() // 1_000_000) << 82 | secrets.randbits(82)
    return "".join([_PAIRS[(bits >> shift) & 1023] for shift in range(120, -1, -10)])


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
