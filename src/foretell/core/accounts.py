"""Accounts and API tokens: tokens are stored only as hashes."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    """Who owns predictions and files; one webhook signing secret each."""

    username: str
    name: str
    webhook_secret: str
    type: str = "user"


def hash_token(token: str) -> str:
    """The stored form of a token (SHA-256; tokens are long random strings, so no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two token hashes."""
    return hmac.compare_digest(a, b)
