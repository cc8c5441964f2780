"""`billing-gateway events tail --account EMAIL`: print an account's billing events live.

A small client of the public API, as a partner would write it: it finds the account's ID
with a GraphQL query, then follows `billingEvents` over GraphQL over SSE. On a dropped
connection it subscribes again `after` the last cursor it printed, so nothing is missed.
The key comes from --key, $BILLING_API_KEY, or the demo's credentials (the partner key).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from gateway.settings import Settings

SUBSCRIPTION = """subscription($a: ID, $after: String) {
  billingEvents(accountId: $a, after: $after) {
    cursor type occurredAt
    invoice { number status amountDue { formatted } }
    payment { status amount { formatted } failureMessage }
    paymentMethod { brand last4 status isDefault }
    subscription { status plan { name } }
  }
}"""
ACCOUNTS = "query($after: String) { viewer { accounts(first: 100, after: $after) { "
ACCOUNTS += "edges { node { id email } } pageInfo { hasNextPage endCursor } } } }"


def _key(args: argparse.Namespace) -> str | None:
    if args.key:
        return str(args.key)
    if os.environ.get("BILLING_API_KEY"):
        return os.environ["BILLING_API_KEY"]
    path = Path(args.data_dir) / "demo-credentials.json"
    if path.exists():
        credentials = json.loads(path.read_text())
        partner = credentials.get("partner")
        if partner:
            return str(partner)
        account = credentials.get("accounts", {}).get(args.account, {})
        return account.get("viewer") or account.get("admin")
    return None


async def _account_id(http: httpx.AsyncClient, email: str) -> str | None:
    after = None
    while True:
        response = await http.post(
            "/graphql", json={"query": ACCOUNTS, "variables": {"after": after}}
        )
        response.raise_for_status()
        page = response.json()["data"]["viewer"]["accounts"]
        for edge in page["edges"]:
            if edge["node"]["email"] == email:
                return str(edge["node"]["id"])
        if not page["pageInfo"]["hasNextPage"]:
            return None
        after = page["pageInfo"]["endCursor"]


async def _sse(http: httpx.AsyncClient, variables: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
    body = {"query": SUBSCRIPTION, "variables": variables}
    headers = {"Accept": "text/event-stream"}
    async with http.stream("POST", "/graphql", json=body, headers=headers, timeout=None) as r:
        r.raise_for_status()
        event = None
        async for line in r.aiter_lines():
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:") and event == "next":
                yield json.loads(line.partition(":")[2])
            elif event == "complete":
                return


def describe(event: dict[str, Any]) -> str:
    """One line per event, what a person tailing wants to see."""
    parts = [event["occurredAt"], f"{event['type']:<31}"]
    if event.get("invoice"):
        i = event["invoice"]
        parts.append(f"invoice {i['number']} {i['status']} due {i['amountDue']['formatted']}")
    if event.get("payment"):
        p = event["payment"]
        parts.append(f"payment {p['status']} {p['amount']['formatted']}")
        if p.get("failureMessage"):
            parts.append(f"({p['failureMessage']})")
    if event.get("paymentMethod"):
        c = event["paymentMethod"]
        default = ", default" if c["isDefault"] else ""
        parts.append(f"card {c['brand']} ****{c['last4']} {c['status']}{default}")
    if event.get("subscription"):
        s = event["subscription"]
        parts.append(f"subscription {s['plan']['name']} {s['status']}")
    return "  ".join(parts)


async def tail(url: str, key: str, email: str, after: str | None, *, once: bool = False) -> int:
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        account = await _account_id(http, email)
        if account is None:
            print(f"error: this key sees no account {email!r}", file=sys.stderr)
            return 2
        print(f"following {email} ({account}); Ctrl+C stops", file=sys.stderr, flush=True)
        while True:
            try:
                async for message in _sse(http, {"a": account, "after": after}):
                    if message.get("errors"):
                        error = message["errors"][0]
                        print(f"error: {error.get('message')}", file=sys.stderr)
                        return 1
                    event = message["data"]["billingEvents"]
                    after = event["cursor"]
                    print(describe(event), flush=True)
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                print(f"reconnecting after: {exc!r}", file=sys.stderr)
            if once:
                return 0
            await asyncio.sleep(1)


def cmd_events_tail(args: argparse.Namespace, settings: Settings) -> int:
    key = _key(args)
    if not key:
        print("error: pass --key (or set BILLING_API_KEY, or run the demo)", file=sys.stderr)
        return 2
    url = args.url or settings.public_url
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    try:
        return asyncio.run(tail(url, key, args.account, args.after))
    except KeyboardInterrupt:
        return 0


def add_event_commands(sub: Any) -> None:
    events = sub.add_parser("events", help="billing events (a client of the public API)")
    actions = events.add_subparsers(dest="events_command", required=True)
    tail_cmd = actions.add_parser("tail", help="print an account's billing events as they happen")
    tail_cmd.add_argument("--account", required=True, metavar="EMAIL")
    tail_cmd.add_argument("--url", help="the gateway (default: BILLING_PUBLIC_URL)")
    tail_cmd.add_argument("--key", help="an API key that reads the account")
    tail_cmd.add_argument("--after", metavar="CURSOR", help="replay the events after this cursor")
    tail_cmd.add_argument("--data-dir", default="var/demo", help="the demo's (for its keys)")
    tail_cmd.set_defaults(func=cmd_events_tail)
