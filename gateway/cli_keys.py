"""`billing-gateway` commands for API keys: create, list, rotate, revoke, re-hash.

Secrets are printed once, on the last line of stdout; everything else goes to stderr,
so `KEY=$(billing-gateway create-api-key ...)` captures only the key.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from gateway import db
from gateway.security import check_security_settings, key_hasher
from gateway.settings import Settings

T = TypeVar("T")


def _run(settings: Settings, body: Callable[[], Awaitable[T]]) -> T:
    async def run() -> T:
        await db.init_db(db.settings_url(settings))
        try:
            return await body()
        finally:
            await db.close_db()

    return asyncio.run(run())


def _guarded(command: Callable[[argparse.Namespace, Settings], int]) -> Any:
    """Service refusals and bad settings print one line and exit 1."""
    from services.errors import BillingError

    def wrapper(args: argparse.Namespace, settings: Settings) -> int:
        try:
            check_security_settings(settings)
            return command(args, settings)
        except BillingError as exc:
            print(f"error: {exc.message}", file=sys.stderr)
            return 1
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return wrapper


def _lifetime(args: argparse.Namespace) -> timedelta | None:
    days = getattr(args, "expires_in_days", None)
    return None if days is None else timedelta(days=days)


def _now(settings: Settings) -> Any:
    """The time the gateway on this database sees: a demo database (SQLite, with the
    demo's movable clock file beside it) runs on that clock, so a key's expiry or
    overlap counts from the demo's "now", not the wall clock's."""
    from gateway.demo_server import CLOCK_FILE
    from services.clock import OffsetClock, SystemClock

    url = settings.database_url
    if url.startswith("sqlite://"):
        clock_file = Path(url.removeprefix("sqlite://")).parent / CLOCK_FILE
        if clock_file.exists():
            return OffsetClock(clock_file).now()
    return SystemClock().now()


@_guarded
def cmd_create_api_key(args: argparse.Namespace, settings: Settings) -> int:
    from models import ApiKeyRole
    from services.auth import create_api_key

    key = _run(
        settings,
        lambda: create_api_key(
            account_email=args.account,
            role=ApiKeyRole(args.role),
            now=_now(settings),
            label=args.label,
            expires_in=_lifetime(args),
            hasher=key_hasher(settings),
        ),
    )
    print(f"{args.role} key for {args.account} (shown once, store it now):", file=sys.stderr)
    print(key)
    return 0


@_guarded
def cmd_create_partner_key(args: argparse.Namespace, settings: Settings) -> int:
    from services.auth import create_partner_key

    key = _run(
        settings,
        lambda: create_partner_key(
            account_emails=args.account,
            writable_emails=args.writable_account,
            now=_now(settings),
            label=args.label,
            expires_in=_lifetime(args),
            hasher=key_hasher(settings),
        ),
    )
    count = len(set(args.account) | set(args.writable_account))
    writes = f", writes to {len(set(args.writable_account))}" if args.writable_account else ""
    print(f"partner key for {count} account(s){writes} (shown once):", file=sys.stderr)
    print(key)
    return 0


@_guarded
def cmd_list_api_keys(args: argparse.Namespace, settings: Settings) -> int:
    from services.api_keys import list_api_keys

    now = _now(settings)
    keys = _run(
        settings,
        lambda: list_api_keys(now=now, account_email=args.account, include_inactive=args.all),
    )
    print(
        "prefix        role     status   created           expires           last used"
        "         accounts (writable*)  label"
    )

    def when(value: Any) -> str:
        return "-" if value is None else f"{value:%Y-%m-%d %H:%M}"

    for key in keys:
        accounts = ",".join(f"{a}*" if a in key.writable_accounts else a for a in key.accounts)
        print(
            f"{key.prefix:<13} {key.role.value:<8} {key.status(now):<8} {when(key.created_at):<17} "
            f"{when(key.expires_at):<17} {when(key.last_used_at):<17} {accounts}  {key.label}"
        )
    return 0


@_guarded
def cmd_rotate_api_key(args: argparse.Namespace, settings: Settings) -> int:
    from services.api_keys import rotate_api_key

    hours = args.overlap_hours
    if hours is None:
        hours = settings.api_key_rotation_overlap_hours
    key = _run(
        settings,
        lambda: rotate_api_key(
            prefix=args.prefix,
            now=_now(settings),
            overlap=timedelta(hours=hours),
            hasher=key_hasher(settings),
        ),
    )
    print(
        f"new key for the principal of {args.prefix}; the old one stops working in {hours} h "
        "(shown once):",
        file=sys.stderr,
    )
    print(key)
    return 0


@_guarded
def cmd_create_service_key(args: argparse.Namespace, settings: Settings) -> int:
    from services.auth import create_service_key

    key = _run(
        settings,
        lambda: create_service_key(
            now=_now(settings),
            label=args.label,
            expires_in=_lifetime(args),
            hasher=key_hasher(settings),
        ),
    )
    print(
        "service key (reports usage for any account, reads usage only; shown once):",
        file=sys.stderr,
    )
    print(key)
    return 0


@_guarded
def cmd_revoke_api_key(args: argparse.Namespace, settings: Settings) -> int:
    from services.api_keys import revoke_api_key

    changed = _run(settings, lambda: revoke_api_key(prefix=args.prefix, now=_now(settings)))
    print(f"revoked {args.prefix}" if changed else f"{args.prefix} was already revoked")
    return 0


@_guarded
def cmd_rehash_api_keys(args: argparse.Namespace, settings: Settings) -> int:
    from services.api_keys import upgrade_legacy_hashes

    count = _run(settings, lambda: upgrade_legacy_hashes(key_hasher(settings)))
    print(f"peppered {count} legacy key hash(es)")
    return 0


def add_key_commands(sub: Any) -> None:
    """Register the key commands on the CLI's subparsers."""
    key = sub.add_parser("create-api-key", help="create a key for one account; prints it once")
    key.add_argument("--account", required=True, metavar="EMAIL")
    key.add_argument("--role", required=True, choices=["admin", "viewer"])
    key.add_argument("--label", default="")
    key.add_argument("--expires-in-days", type=int, metavar="DAYS")
    key.set_defaults(func=cmd_create_api_key)

    partner = sub.add_parser(
        "create-partner-key", help="create a partner key over accounts (read-only unless granted)"
    )
    partner.add_argument("--account", required=True, action="append", metavar="EMAIL")
    partner.add_argument(
        "--writable-account",
        action="append",
        default=[],
        metavar="EMAIL",
        help="also let it change this account's billing",
    )
    partner.add_argument("--label", default="")
    partner.add_argument("--expires-in-days", type=int, metavar="DAYS")
    partner.set_defaults(func=cmd_create_partner_key)

    service = sub.add_parser(
        "create-service-key",
        help="create a key for the product's backend: reports usage for any account",
    )
    service.add_argument("--label", default="")
    service.add_argument("--expires-in-days", type=int, metavar="DAYS")
    service.set_defaults(func=cmd_create_service_key)

    listing = sub.add_parser("list-api-keys", help="list keys (never their secrets)")
    listing.add_argument("--account", metavar="EMAIL", help="only keys that reach this account")
    listing.add_argument("--all", action="store_true", help="include revoked and expired keys")
    listing.set_defaults(func=cmd_list_api_keys)

    rotate = sub.add_parser(
        "rotate-api-key", help="a new key for the same principal; the old one expires later"
    )
    rotate.add_argument("prefix")
    rotate.add_argument(
        "--overlap-hours",
        type=int,
        help="how long the old key keeps working (default BILLING_API_KEY_ROTATION_OVERLAP_HOURS)",
    )
    rotate.set_defaults(func=cmd_rotate_api_key)

    revoke = sub.add_parser("revoke-api-key", help="stop a key at once")
    revoke.add_argument("prefix")
    revoke.set_defaults(func=cmd_revoke_api_key)

    sub.add_parser(
        "rehash-api-keys", help="pepper the hashes of keys made before the pepper existed"
    ).set_defaults(func=cmd_rehash_api_keys)
