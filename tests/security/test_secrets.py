"""No card number, CVC, API key, webhook secret or provider secret lands in the logs, the
database or a response, on the happy path or the failure paths."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from gateway.sandbox import Sandbox
from gateway.settings import Settings
from services.context import ServiceContext
from services.provider.recording import RecordingProvider
from tests.factories import (
    DECLINING_CARD,
    OK_CARD,
    REFUSED_CARD,
    THREE_DS_CARD,
    api_key,
    make_account,
    make_invoice,
    subscribe,
)
from tests.graphql.helpers import gid
from tests.sandbox_browser import create_card_payment_method

CVC = "737"
CARDS = (OK_CARD, DECLINING_CARD, REFUSED_CARD, THREE_DS_CARD)
ADD = """mutation($token: String!) { addPaymentMethod(input: {providerToken: $token}) {
  __typename ... on AddPaymentMethodSuccess { paymentMethod { id last4 } }
  ... on UserError { code message } } }"""
PAY = """mutation($inv: ID!, $pm: ID) { payInvoice(input: {invoiceId: $inv, paymentMethodId: $pm}) {
  __typename ... on UserError { code message } } }"""


async def _dump_every_table() -> str:
    rows = []
    for model in Tortoise.apps["models"].values():
        for row in await model.all().values():
            rows.append(f"{model.__name__}: {row!r}")
    return "\n".join(rows)


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    lines = [caplog.text]
    for record in caplog.records:
        lines.append(str(record.msg))
        lines.append(json.dumps(record.__dict__, default=str))
    return "\n".join(lines)


async def test_no_secret_anywhere_after_cards_and_failures(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    account = await make_account()
    sub = await subscribe(account)
    invoice = await make_invoice(account, subscription=sub)
    key = await api_key(account)
    auth = {"Authorization": f"Bearer {key}"}
    responses: list[str] = []

    async def post(body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = await client.post("/graphql", json=body, headers=headers or auth)
        responses.append(response.text + json.dumps(dict(response.headers)))
        result: dict[str, Any] = response.json()
        return result

    # cards added through GraphQL: working, declining, refused at attach, 3-D Secure
    card_ids = {}
    for number in CARDS:
        token = await create_card_payment_method(sandbox, number, cvc=CVC)
        body = await post({"query": ADD, "variables": {"token": token}})
        result = body["data"]["addPaymentMethod"]
        if result["__typename"] == "AddPaymentMethodSuccess":
            card_ids[number] = result["paymentMethod"]["id"]
    assert OK_CARD in card_ids and DECLINING_CARD in card_ids

    # failure paths: a declined charge, forged keys, a forged webhook, a bad query
    declined = await post(
        {
            "query": PAY,
            "variables": {"inv": gid("Invoice", invoice.id), "pm": card_ids[DECLINING_CARD]},
        }
    )
    assert declined["data"]["payInvoice"]["__typename"] == "PaymentDeclinedError"
    for forged in (key[:-4] + "AAAA", f"bgw_{key.split('_')[1]}_x", "eyJ.x.y"):
        await post({"query": "{ viewer { role } }"}, {"Authorization": f"Bearer {forged}"})
    await post({"query": "{ viewer { role } }", "variables": {"card": OK_CARD, "cvc": CVC}})
    settings = Settings()
    webhook_secret = settings.stripe_webhook_secret.get_secret_value()
    payload = json.dumps({"id": "evt_1", "type": "payment_intent.succeeded", "data": {}})
    t = int(time.time())
    bad_mac = hmac.new(b"not-the-secret", f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    forged_webhook = await client.post(
        "/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": f"t={t},v1={bad_mac}", "Content-Type": "application/json"},
    )
    responses.append(forged_webhook.text)
    assert forged_webhook.status_code == 400

    # then none of the secrets is in the logs, the tables or the responses
    secrets = {
        "API key": key,
        "API key secret part": key.split("_", 2)[2],
        "webhook secret": webhook_secret,
        "provider secret": sandbox.secret_key,
        **{f"card {n[-4:]}": n for n in CARDS},
    }
    places = {
        "logs": _log_text(caplog),
        "database": await _dump_every_table(),
        "responses": "\n".join(responses),
    }
    found = [
        f"{name} in {place}"
        for place, text in places.items()
        for name, secret in secrets.items()
        if secret in text
    ]
    cvc = re.compile(rf"(?i)cv[cv2][^0-9a-z]{{0,12}}{CVC}\b")
    found += [f"CVC in {place}" for place, text in places.items() if cvc.search(text)]
    assert not found, found
    # and the logs did record the requests (the scan looked at something)
    assert "graphql request" in places["logs"]
    assert "key:" in places["logs"]  # the caller, by key prefix only
