"""The token cache: known tokens are remembered a few seconds, unknown ones never."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest

from foretell.api.auth import TOKEN_CACHE_TTL_S, TokenCache
from foretell.core.accounts import Account, hash_token
from foretell.store.sqlite import SQLiteStore


class CountingStore(SQLiteStore):
    """A SQLite store that counts token lookups (each one a round trip to its thread)."""

    lookups = 0

    async def account_for_token(self, token_hash: str) -> Account | None:
        self.lookups += 1
        return await super().account_for_token(token_hash)


class Clock:
    """A manual clock: time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: pathlib.Path) -> AsyncIterator[CountingStore]:
    opened = CountingStore(tmp_path / "foretell.db")
    await opened.open()
    await opened.ensure_account("ann", "Ann")
    yield opened
    await opened.close()


async def test_a_revoked_token_is_refused_once_the_ttl_has_passed(store: CountingStore) -> None:
    """Revoked elsewhere (another process's store): refused within the TTL, not before."""
    clock = Clock()
    cache = TokenCache(store, clock=clock)
    await store.add_token("ann", hash_token("r8_ann"))
    account = await cache.account(hash_token("r8_ann"))
    assert account is not None and account.username == "ann"
    assert await store.revoke_tokens(hash_token("r8_ann")) == [hash_token("r8_ann")]
    clock.now += TOKEN_CACHE_TTL_S - 0.1
    assert await cache.account(hash_token("r8_ann")) == account  # still remembered
    clock.now += 0.2
    assert await cache.account(hash_token("r8_ann")) is None


async def test_a_new_token_works_at_once_and_repeats_skip_the_store(
    store: CountingStore,
) -> None:
    """An unknown token isn't remembered, so one created a moment later works on its first
    request; a known one is looked up once per TTL."""
    clock = Clock()
    cache = TokenCache(store, clock=clock)
    assert await cache.account(hash_token("r8_new")) is None
    await store.add_token("ann", hash_token("r8_new"))
    assert await cache.account(hash_token("r8_new")) is not None
    before = store.lookups
    for _ in range(5):
        assert await cache.account(hash_token("r8_new")) is not None
    assert store.lookups == before
    clock.now += TOKEN_CACHE_TTL_S
    assert await cache.account(hash_token("r8_new")) is not None
    assert store.lookups == before + 1


async def test_the_least_recently_used_token_goes_first(store: CountingStore) -> None:
    """Past `size` tokens, the one used longest ago is looked up again; the others aren't."""
    cache = TokenCache(store, size=2, clock=Clock())
    for token in ("r8_a", "r8_b", "r8_c"):
        await store.add_token("ann", hash_token(token))
    await cache.account(hash_token("r8_a"))
    await cache.account(hash_token("r8_b"))
    await cache.account(hash_token("r8_a"))  # a is now the most recently used
    await cache.account(hash_token("r8_c"))  # b goes
    before = store.lookups
    await cache.account(hash_token("r8_a"))
    await cache.account(hash_token("r8_c"))
    assert store.lookups == before
    await cache.account(hash_token("r8_b"))
    assert store.lookups == before + 1


async def test_a_zero_ttl_remembers_nothing(store: CountingStore) -> None:
    """FORETELL_TOKEN_CACHE_TTL_S=0: every request asks the store (a revoke acts at once)."""
    cache = TokenCache(store, ttl_s=0, clock=Clock())
    await store.add_token("ann", hash_token("r8_z"))
    assert await cache.account(hash_token("r8_z")) is not None
    await store.revoke_tokens(hash_token("r8_z"))
    assert await cache.account(hash_token("r8_z")) is None
