"""Bearer (or legacy Token) authentication: a token maps to one account."""

from __future__ import annotations

from starlette.requests import Request

from foretell.api.state import api_state
from foretell.core.accounts import Account, hash_token
from foretell.errors import Unauthenticated

_UNAUTHENTICATED = "You did not pass a valid authentication token"


async def authenticate(request: Request) -> Account:
    """The caller's account; 401 unless the header carries a known token."""
    state = api_state(request)
    if state.settings.no_auth:
        return await state.store.ensure_account(state.settings.default_account, "Local")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in ("bearer", "token") or not token.strip():
        raise Unauthenticated(_UNAUTHENTICATED)
    account = await state.store.account_for_token(hash_token(token.strip()))
    if account is None:
        raise Unauthenticated(_UNAUTHENTICATED)
    return account
