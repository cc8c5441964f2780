"""API key lifecycle: peppered hashes, rotation, revocation, expiry, last use, partner
grants, and the CLI for each."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from models import ApiKey, ApiKeyRole
from services.api_keys import list_api_keys, revoke_api_key, rotate_api_key, upgrade_legacy_hashes
from services.auth import LAST_USED, KeyHasher, authenticate_key, create_api_key, create_partner_key
from services.errors import InvalidInput, Unauthenticated
from tests.conftest import NOW, database_kind
from tests.factories import api_key, gql, make_account
from tests.security.conftest import ROOT, AppClient

DEV = KeyHasher.development()
VIEWER = "query { viewer { role } }"
UPDATE = (
    'mutation($a: ID) { updateBillingInfo(input: {accountId: $a, name: "Partner"}) { __typename } }'
)


async def test_keys_are_stored_as_peppered_hashes(db: str) -> None:
    account = await make_account()
    secret = await api_key(account)

    row = await ApiKey.get(prefix=secret.split("_")[1])

    assert secret not in row.secret_hash
    assert row.secret_hash != hashlib.sha256(secret.encode()).hexdigest()
    assert row.hash_version == 2
    assert await authenticate_key(secret, hasher=DEV, now=NOW)
    with pytest.raises(Unauthenticated):
        await authenticate_key(secret, hasher=KeyHasher(b"another pepper entirely"), now=NOW)


async def test_legacy_sha256_keys_keep_working_and_are_upgraded(db: str) -> None:
    # given a key stored the old way (plain SHA-256, before the pepper)
    account = await make_account()
    secret = await api_key(account)
    prefix = secret.split("_")[1]
    await ApiKey.filter(prefix=prefix).update(
        secret_hash=hashlib.sha256(secret.encode()).hexdigest(), hash_version=1
    )
    second = await api_key(account, ApiKeyRole.VIEWER)
    await ApiKey.filter(prefix=second.split("_")[1]).update(
        secret_hash=hashlib.sha256(second.encode()).hexdigest(), hash_version=1
    )

    # when one signs in and the other is upgraded in bulk
    principal = await authenticate_key(secret, hasher=DEV, now=NOW)
    upgraded = await upgrade_legacy_hashes(DEV)

    # then both work, peppered
    assert principal.account_ids == {account.id}
    assert upgraded == 1
    assert set(await ApiKey.all().values_list("hash_version", flat=True)) == {2}
    assert await authenticate_key(secret, hasher=DEV, now=NOW)
    assert await authenticate_key(second, hasher=DEV, now=NOW)


async def test_rotation_keeps_two_keys_then_the_old_one_expires(db: str) -> None:
    account = await make_account()
    old = await api_key(account)

    new = await rotate_api_key(
        prefix=old.split("_")[1], now=NOW, overlap=timedelta(hours=1), hasher=DEV
    )

    assert (await authenticate_key(old, hasher=DEV, now=NOW)).account_ids == {account.id}
    assert (await authenticate_key(new, hasher=DEV, now=NOW)).account_ids == {account.id}
    later = NOW + timedelta(hours=1, seconds=1)
    with pytest.raises(Unauthenticated):
        await authenticate_key(old, hasher=DEV, now=later)
    assert await authenticate_key(new, hasher=DEV, now=later)


async def test_at_most_two_active_keys_per_principal(db: str) -> None:
    account = await make_account()
    first = await api_key(account)
    await api_key(account)

    with pytest.raises(InvalidInput):
        await api_key(account)
    with pytest.raises(InvalidInput):
        await rotate_api_key(prefix=first.split("_")[1], now=NOW, overlap=timedelta(0), hasher=DEV)
    # another role is another principal
    assert await api_key(account, ApiKeyRole.VIEWER)


async def test_revoked_and_expired_keys_are_refused(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    revoked = await api_key(account)
    expiring = await create_api_key(
        account_email=account.email,
        role=ApiKeyRole.VIEWER,
        now=NOW - timedelta(days=2),
        expires_in=timedelta(days=1),
    )

    assert await revoke_api_key(prefix=revoked.split("_")[1], now=NOW) is True
    assert await revoke_api_key(prefix=revoked.split("_")[1], now=NOW) is False

    for secret in (revoked, expiring):
        body = await gql(client, VIEWER, key=secret)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_last_used_is_recorded_at_most_once_a_minute(db: str) -> None:
    account = await make_account()
    secret = await api_key(account)
    prefix = secret.split("_")[1]

    await authenticate_key(secret, hasher=DEV, now=NOW)
    await authenticate_key(secret, hasher=DEV, now=NOW + timedelta(seconds=30))
    await LAST_USED.flush()  # written in the background, off the request path
    first = (await ApiKey.get(prefix=prefix)).last_used_at
    await authenticate_key(secret, hasher=DEV, now=NOW + timedelta(minutes=2))
    await LAST_USED.flush()
    second = (await ApiKey.get(prefix=prefix)).last_used_at

    assert first == NOW
    assert second == NOW + timedelta(minutes=2)
    [info] = await list_api_keys(now=NOW + timedelta(minutes=3), account_email=account.email)
    assert info.last_used_at == second
    assert info.status(NOW) == "active"


async def test_partner_keys_are_read_only_unless_granted(
    client: httpx.AsyncClient, db: str
) -> None:
    from tests.graphql.helpers import gid

    read_only = await make_account("ro@example.test")
    writable = await make_account("rw@example.test")
    key = await create_partner_key(
        account_emails=[read_only.email], writable_emails=[writable.email], now=NOW
    )

    refused = await gql(client, UPDATE, {"a": gid("Account", read_only.id)}, key=key)
    allowed = await gql(client, UPDATE, {"a": gid("Account", writable.id)}, key=key)

    assert refused["data"]["updateBillingInfo"]["__typename"] == "PermissionDeniedError"
    assert allowed["data"]["updateBillingInfo"]["__typename"] == "UpdateBillingInfoSuccess"
    await read_only.refresh_from_db()
    assert read_only.billing_name == "Alice Ltd"


async def test_production_refuses_to_start_without_a_pepper(app_client: AppClient) -> None:
    from gateway.security import check_security_settings
    from gateway.settings import Settings

    with pytest.raises(ValueError, match="BILLING_API_KEY_PEPPER"):
        check_security_settings(Settings(environment="production"))
    check_security_settings(
        Settings(environment="production", api_key_pepper="a-long-enough-pepper-value")
    )


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BILLING_DATABASE_URL": database_url, "BILLING_LOG_LEVEL": "WARNING"}
    return subprocess.run(  # noqa: S603 - our own CLI, fixed argv
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(database_kind() != "sqlite", reason="one pass is enough for the CLI")
async def test_cli_creates_lists_rotates_and_revokes(db: str) -> None:
    account = await make_account("cli@example.test")

    created = _cli(
        db,
        "create-api-key",
        "--account",
        account.email,
        "--role",
        "viewer",
        "--expires-in-days",
        "30",
    )
    secret = created.stdout.strip().splitlines()[-1]
    prefix = secret.split("_")[1]
    rotated = _cli(db, "rotate-api-key", prefix, "--overlap-hours", "2")
    successor = rotated.stdout.strip().splitlines()[-1]
    listed = _cli(db, "list-api-keys", "--account", account.email)
    revoked = _cli(db, "revoke-api-key", successor.split("_")[1])
    listed_all = _cli(db, "list-api-keys", "--all")
    unknown = _cli(db, "revoke-api-key", "nope")

    assert created.returncode == 0, created.stderr
    assert secret.startswith("bgw_")
    assert rotated.returncode == 0, rotated.stderr
    assert listed.stdout.count("active") == 2
    assert secret not in listed.stdout + listed_all.stdout  # secrets are shown once
    assert revoked.stdout.strip() == f"revoked {successor.split('_')[1]}"
    assert "revoked" in listed_all.stdout
    assert unknown.returncode == 1
    assert "No API key" in unknown.stderr


def test_key_commands_on_a_demo_database_count_from_the_demos_clock(tmp_path: Path) -> None:
    """After `clock advance`, a key created or rotated in the demo expires relative to the
    demo's now (the server's), not the wall clock's; any other database keeps real time."""
    from datetime import UTC, datetime

    from gateway.cli_keys import _now
    from gateway.demo_server import CLOCK_FILE
    from gateway.settings import Settings
    from services.clock import OffsetClock

    demo = Settings(database_url=f"sqlite://{tmp_path / 'demo.sqlite3'}")
    elsewhere = Settings(database_url=f"sqlite://{tmp_path / 'other' / 'billing.sqlite3'}")
    postgres = Settings(database_url="postgres://postgres@127.0.0.1:5432/x")
    wall = datetime.now(UTC)
    assert abs(_now(demo) - wall) < timedelta(minutes=1)  # no clock file yet
    OffsetClock(tmp_path / CLOCK_FILE).advance(timedelta(days=35))

    assert abs(_now(demo) - (wall + timedelta(days=35))) < timedelta(minutes=1)
    assert abs(_now(elsewhere) - wall) < timedelta(minutes=1)
    assert abs(_now(postgres) - wall) < timedelta(minutes=1)
