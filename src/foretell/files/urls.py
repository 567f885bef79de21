"""Signed, expiring file URLs: readable without an Authorization header (as clients expect)."""

from __future__ import annotations

import base64
import hmac
import time

_MAX_EXPIRY_DIGITS = 18


class UrlSigner:
    """HMAC-SHA256 signatures over a path and an expiry time."""

    def __init__(self, key: bytes, ttl_s: float = 3600.0) -> None:
        self._key = key
        self.ttl_s = ttl_s

    def sign(self, path: str, now: float | None = None) -> str:
        """`path?expiry=...&signature=...`, valid for ttl_s."""
        expiry = int((now if now is not None else time.time()) + self.ttl_s)
        return f"{path}?expiry={expiry}&signature={self._signature(path, expiry)}"

    def verify(self, path: str, expiry: str, signature: str, now: float | None = None) -> bool:
        """Whether the signature is ours and the URL has not expired."""
        if not (expiry.isascii() and expiry.isdigit() and len(expiry) <= _MAX_EXPIRY_DIGITS):
            return False
        expires = int(expiry)
        if expires < (now if now is not None else time.time()):
            return False
        return same_tag(self._signature(path, expires), signature)

    def _signature(self, path: str, expiry: int) -> str:
        return self.mac(f"{path}\n{expiry}")

    def mac(self, text: str) -> str:
        """An unguessable tag for `text` (URL-safe base64 of its HMAC-SHA256)."""
        digest = hmac.digest(self._key, text.encode(), "sha256")  # one-shot: C all the way
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def check_mac(self, text: str, tag: str) -> bool:
        """Whether `tag` is mac(text), in constant time."""
        return same_tag(self.mac(text), tag)


def same_tag(expected: str, given: str) -> bool:
    """Constant-time equality of a tag we made and one a client sent. Compared as UTF-8
    bytes: compare_digest raises on non-ASCII str, and such a tag is simply not ours."""
    return hmac.compare_digest(expected.encode(), given.encode(errors="surrogateescape"))
