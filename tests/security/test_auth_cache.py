"""API keys cached per process (services/auth_cache.py): fewer statements per request,
revocation and rotation still taking effect within the documented bound, last use
written off the request path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from models import ApiKey, ApiKeyRole
from services import auth
from services.api_keys import revoke_api_key, rotate_api_key
from services.auth import KeyHasher, create_api_key
from services.auth_cache import KEY_CACHE, TTL_SECONDS
from services.clock import FixedClock
from tests.conftest import NOW
from tests.factories import api_key, gql, make_account
from tests.sql_counter import count_statements

VIEWER = "query { viewer { role } }"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMonotonic]:
    fake = FakeMonotonic()
    monkeypatch.setattr(KEY_CACHE, "monotonic", fake)
    KEY_CACHE.clear()
    yield fake
    KEY_CACHE.clear()


async def _role(client: httpx.AsyncClient, key: str) -> str:
    body = await gql(client, VIEWER, key=key)
    if "errors" in body:
        code: str = body["errors"][0]["extensions"]["code"]
        return code
    role: str = body["data"]["viewer"]["role"]
    return role


async def test_a_cached_key_costs_no_statement(
    client: httpx.AsyncClient, db: str, monotonic: FakeMonotonic
) -> None:
    secret = await api_key(await make_account(), ApiKeyRole.VIEWER)
    with count_statements() as cold:
        assert await _role(client, secret) == "VIEWER"
    await auth.LAST_USED.flush()
    with count_statements() as warm:
        assert await _role(client, secret) == "VIEWER"
    monotonic.now += TTL_SECONDS
    with count_statements() as expired:
        assert await _role(client, secret) == "VIEWER"

    assert any(s.lstrip().upper().startswith("SELECT") for s in cold)
    assert warm == []
    assert len(expired) == 1, expired  # asked again after the TTL; no last_used write


async def test_a_key_revoked_by_another_process_is_refused_within_the_ttl(
    client: httpx.AsyncClient, db: str, monotonic: FakeMonotonic
) -> None:
    secret = await api_key(await make_account())
    assert await _role(client, secret) == "ADMIN"

    # another process (a second worker, the CLI) revokes it: this one cannot know
    await ApiKey.filter(prefix=secret.split("_")[1]).update(revoked_at=NOW)

    monotonic.now += TTL_SECONDS - 0.1
    assert await _role(client, secret) == "ADMIN"  # the documented bound, no more
    monotonic.now += 0.1 + 0.001
    assert await _role(client, secret) == "UNAUTHENTICATED"


async def test_revoking_in_this_process_takes_effect_at_once(
    client: httpx.AsyncClient, db: str, monotonic: FakeMonotonic
) -> None:
    secret = await api_key(await make_account())
    assert await _role(client, secret) == "ADMIN"

    await revoke_api_key(prefix=secret.split("_")[1], now=NOW)

    assert await _role(client, secret) == "UNAUTHENTICATED"


async def test_rotation_ends_the_old_key_at_its_new_expiry_though_cached(
    client: httpx.AsyncClient, db: str, clock: FixedClock, monotonic: FakeMonotonic
) -> None:
    old = await api_key(await make_account())
    assert await _role(client, old) == "ADMIN"

    new = await rotate_api_key(
        prefix=old.split("_")[1],
        now=NOW,
        overlap=timedelta(seconds=1),
        hasher=KeyHasher.development(),
    )
    assert await _role(client, old) == "ADMIN"  # inside the overlap
    assert await _role(client, new) == "ADMIN"
    clock.advance(timedelta(seconds=2))  # no monotonic time passes: the expiry alone

    assert await _role(client, old) == "UNAUTHENTICATED"
    assert await _role(client, new) == "ADMIN"


async def test_a_key_expiring_while_cached_is_refused(
    client: httpx.AsyncClient, db: str, clock: FixedClock, monotonic: FakeMonotonic
) -> None:
    account = await make_account()
    secret = await create_api_key(
        account_email=account.email, role=ApiKeyRole.VIEWER, now=NOW, expires_in=timedelta(hours=1)
    )
    assert await _role(client, secret) == "VIEWER"

    clock.advance(timedelta(hours=1))

    assert await _role(client, secret) == "UNAUTHENTICATED"


async def test_last_used_is_written_off_the_request_path(
    client: httpx.AsyncClient,
    db: str,
    clock: FixedClock,
    monotonic: FakeMonotonic,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = await api_key(await make_account())
    prefix = secret.split("_")[1]
    release = asyncio.Event()
    written: list[datetime] = []
    original = auth._write_last_used

    async def slow_write(key_id: int, now: datetime) -> None:
        await release.wait()
        written.append(now)
        await original(key_id, now)

    monkeypatch.setattr(auth, "_write_last_used", slow_write)

    # the request answers while its last_used write still waits
    assert await _role(client, secret) == "ADMIN"
    assert written == []
    # within the minute, cached or not, no second write is scheduled
    clock.advance(timedelta(seconds=59))
    monotonic.now += TTL_SECONDS
    assert await _role(client, secret) == "ADMIN"
    release.set()
    await auth.LAST_USED.flush()

    assert written == [NOW]
    assert (await ApiKey.get(prefix=prefix)).last_used_at == NOW
    clock.advance(timedelta(seconds=2))  # past the minute: once more
    assert await _role(client, secret) == "ADMIN"
    await auth.LAST_USED.flush()
    assert written == [NOW, NOW + timedelta(seconds=61)]
    assert (await ApiKey.get(prefix=prefix)).last_used_at == NOW + timedelta(seconds=61)


async def test_a_wrong_secret_for_a_cached_prefix_is_refused(
    client: httpx.AsyncClient, db: str, monotonic: FakeMonotonic
) -> None:
    secret = await api_key(await make_account())
    assert await _role(client, secret) == "ADMIN"  # cached now

    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")

    assert await _role(client, forged) == "UNAUTHENTICATED"
    assert await _role(client, secret) == "ADMIN"
