#!/usr/bin/env python3
"""A partner client for the billing gateway, standard library only (docs/partners.md).

It pages through every account the partner key reads, prints each account's billing
snapshot, then shows how a refused mutation comes back (a `UserError` in the result
union, not an HTTP error). It respects the gateway's limits: a 429 waits for
`Retry-After`, a page the cost budget refuses (QUERY_TOO_COSTLY) is asked for again at
half the size.

    python docs/partner_example.py --url http://127.0.0.1:8000/graphql --key bgw_...

Without --key it reads BILLING_PARTNER_KEY, then the demo's var/demo/demo-credentials.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ACCOUNTS_PAGE = """
query PartnerAccounts($first: Int!, $after: String) {
  viewer {
    role
    accounts(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id name email tier selfServiceEnabled
        subscription {
          status paidFeaturesEnabled nextBillingDate
          plan { name }
          nextBillingAmount { amount currency formatted }
        }
        defaultPaymentMethod { id brand last4 status }
        outstandingBalance { amount currency formatted }
        invoices(first: 3) {
          totalCount
          nodes { number status total { formatted } amountDue { amount currency } }
        }
      }
    }
  }
}
"""

# Harmless on purpose: making the current default card the default changes nothing, and
# a read-only partner key is refused with PERMISSION_DENIED.
MAKE_DEFAULT = """
mutation MakeDefault($id: ID!) {
  makeDefault(input: {paymentMethodId: $id}) {
    __typename
    ... on MakeDefaultSuccess { paymentMethod { id isDefault } }
    ... on UserError { code message field }
  }
}
"""


class ApiError(Exception):
    """A request the API refused as a whole (a top-level error): `code` says why."""

    def __init__(self, code: str | None, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class Client:
    def __init__(self, url: str, key: str, *, max_attempts: int = 5) -> None:
        self.url = url
        self.key = key
        self.max_attempts = max_attempts

    def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """POST one operation; returns `data`. Waits out 429s, raises ApiError otherwise."""
        body = json.dumps({"query": query, "variables": variables}).encode()
        for _ in range(self.max_attempts):
            request = urllib.request.Request(  # noqa: S310 - the URL is the caller's choice
                self.url,
                data=body,
                method="POST",
                headers={
                    "Authorization": f"Bearer {self.key}",
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    payload = json.load(response)
            except urllib.error.HTTPError as error:
                if error.code == 429:  # rate limited: wait as long as the server asks
                    wait = int(error.headers.get("Retry-After") or "1")
                    print(f"rate limited: waiting {wait}s (Retry-After)", file=sys.stderr)
                    time.sleep(wait)
                    continue
                payload = json.load(error)  # 400 and friends still answer GraphQL errors
            errors = payload.get("errors")
            if errors:
                first = errors[0]
                raise ApiError(first.get("extensions", {}).get("code"), first["message"])
            data: dict[str, Any] = payload["data"]
            return data
        raise ApiError("RATE_LIMITED", f"still rate limited after {self.max_attempts} tries")

    def accounts(self, page_size: int) -> Iterator[dict[str, Any]]:
        """Every account the key reads, page by page with cursors."""
        after: str | None = None
        pages = 0
        while True:
            try:
                data = self.execute(ACCOUNTS_PAGE, {"first": page_size, "after": after})
            except ApiError as error:
                if error.code == "QUERY_TOO_COSTLY" and page_size > 1:
                    page_size //= 2
                    print(f"QUERY_TOO_COSTLY: asking for pages of {page_size}", file=sys.stderr)
                    continue
                raise
            connection = data["viewer"]["accounts"]
            pages += 1
            print(
                f"page {pages}: {len(connection['nodes'])} of {connection['totalCount']} "
                f"account(s), hasNextPage={connection['pageInfo']['hasNextPage']}"
            )
            yield from connection["nodes"]
            if not connection["pageInfo"]["hasNextPage"]:
                return
            after = connection["pageInfo"]["endCursor"]

    def make_default(self, payment_method_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.execute(MAKE_DEFAULT, {"id": payment_method_id})[
            "makeDefault"
        ]
        return result


def snapshot(account: dict[str, Any]) -> str:
    """One line per account: tier, subscription, balance, newest invoice."""
    sub = account["subscription"]
    plan = "no subscription" if sub is None else f"{sub['plan']['name']} {sub['status']}"
    if sub is not None and not sub["paidFeaturesEnabled"]:
        plan += " (paid features off)"
    invoices = account["invoices"]
    newest = invoices["nodes"][0] if invoices["nodes"] else None
    history = f"{invoices['totalCount']} invoice(s)"
    if newest is not None:
        history += f", newest {newest['number']} {newest['status']} {newest['total']['formatted']}"
    card = account["defaultPaymentMethod"]
    card_text = "no card" if card is None else f"{card['brand']} *{card['last4']} {card['status']}"
    return (
        f"{account['name']} <{account['email']}>: {account['tier']}, {plan}, "
        f"owes {account['outstandingBalance']['formatted']}, {card_text}, {history}"
    )


def describe(result: dict[str, Any]) -> str:
    """Switch on `__typename`: the success type, or a UserError with its `code`."""
    if result["__typename"] == "MakeDefaultSuccess":
        return f"ok, default card is {result['paymentMethod']['id']}"
    match result["code"]:
        case "PERMISSION_DENIED":
            return f"refused PERMISSION_DENIED (read-only key): {result['message']}"
        case "SELF_SERVICE_UNAVAILABLE":
            return f"refused SELF_SERVICE_UNAVAILABLE (Enterprise): {result['message']}"
        case code:  # new codes may appear: keep a default branch
            return f"refused {code} ({result['__typename']}): {result['message']}"


def default_key() -> str | None:
    key = os.environ.get("BILLING_PARTNER_KEY")
    credentials = Path("var/demo/demo-credentials.json")
    if key is None and credentials.is_file():
        key = json.loads(credentials.read_text())["partner"]
    return key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=os.environ.get("BILLING_URL", "http://127.0.0.1:8000/graphql")
    )
    parser.add_argument("--key", default=None, help="a partner API key (bgw_...)")
    parser.add_argument("--page-size", type=int, default=2)
    args = parser.parse_args(argv)
    key = args.key or default_key()
    if not key:
        parser.error("no key: pass --key, set BILLING_PARTNER_KEY, or run the demo first")
    client = Client(args.url, key)

    accounts = []
    for account in client.accounts(args.page_size):
        accounts.append(account)
        print("  " + snapshot(account))
    print(f"read {len(accounts)} account(s)")

    with_card = next((a for a in accounts if a["defaultPaymentMethod"] is not None), None)
    if with_card is not None:
        result = client.make_default(with_card["defaultPaymentMethod"]["id"])
        print(f"makeDefault on {with_card['name']}: {describe(result)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
