"""Bearer (or legacy Token) authentication: a token maps to one account."""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Callable

from starlette.requests import Request

from foretell.api.state import api_state
from foretell.core.accounts import Account, hash_token
from foretell.errors import Unauthenticated
from foretell.store.protocol import Store

_UNAUTHENTICATED = "You did not pass a valid authentication token"

#: seconds a token's account is remembered: a token revoked (by `foretell tokens revoke`, in
#: another process) stops working within this long. FORETELL_TOKEN_CACHE_TTL_S overrides it.
TOKEN_CACHE_TTL_S = 5.0
#: tokens remembered at most (least recently used first out)
TOKEN_CACHE_SIZE = 1024


class TokenCache:
    """Token hash -> Account, so most requests skip the store's token lookup.

    Only known tokens are kept, each for `ttl_s`: a token created a moment ago works on its
    first request, and a revoked one is refused once its entry expires.
    """

    def __init__(
        self,
        store: Store,
        ttl_s: float = TOKEN_CACHE_TTL_S,
        size: int = TOKEN_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl_s = ttl_s
        self._size = size
        self._clock = clock
        #: hash -> (expires at, account), least recently used first
        self._entries: collections.OrderedDict[str, tuple[float, Account]] = (
            collections.OrderedDict()
        )

    async def account(self, token_hash: str) -> Account | None:
        """The token's account, or None for a token the store doesn't know (now)."""
        now = self._clock()
        entry = self._entries.get(token_hash)
        if entry is not None and entry[0] > now:
            self._entries.move_to_end(token_hash)
            return entry[1]
        account = await self._store.account_for_token(token_hash)
        if account is None or self._ttl_s <= 0:
            self._entries.pop(token_hash, None)
            return account
        self._entries[token_hash] = (now + self._ttl_s, account)
        self._entries.move_to_end(token_hash)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return account


async def authenticate(request: Request) -> Account:
    """The caller's account; 401 unless the header carries a known token."""
    state = api_state(request)
    if state.settings.no_auth:
        return await state.store.ensure_account(state.settings.default_account, "Local")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not token.strip():
        raise Unauthenticated(_UNAUTHENTICATED)
    account = await _token_cache(request).account(hash_token(token.strip()))
    if account is None:
        raise Unauthenticated(_UNAUTHENTICATED)
    return account


def _token_cache(request: Request) -> TokenCache:
    """The app's cache, made on its first authenticated request."""
    app_state = request.app.state
    cache: TokenCache | None = getattr(app_state, "token_cache", None)
    if cache is None:
        ttl_s = float(os.environ.get("FORETELL_TOKEN_CACHE_TTL_S", TOKEN_CACHE_TTL_S))
        cache = app_state.token_cache = TokenCache(api_state(request).store, ttl_s)
    return cache
