"""Signed, expiring file URLs: readable without an Authorization header (as clients expect)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


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
        try:
            expires = int(expiry)
        except ValueError:
            return False
        if expires < (now if now is not None else time.time()):
            return False
        return hmac.compare_digest(self._signature(path, expires), signature)

    def _signature(self, path: str, expiry: int) -> str:
        return self.mac(f"{path}\n{expiry}")

    def mac(self, text: str) -> str:
        """An unguessable tag for `text` (URL-safe base64 of its HMAC-SHA256)."""
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def check_mac(self, text: str, tag: str) -> bool:
        """Whether `tag` is mac(text), in constant time."""
        return hmac.compare_digest(self.mac(text), tag)
