"""Signed provider events for the webhook tests, and the sandbox's side of a refund."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any

import aiohttp
import httpx

from gateway.sandbox import Sandbox
from gateway.settings import Settings
from models import Payment

SECRET = Settings().stripe_webhook_secret.get_secret_value()
_ids = itertools.count(1)


def event(type_: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_test_{next(_ids)}",
        "object": "event",
        "type": type_,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def signed(payload: str, *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    """The Stripe-Signature header: t=timestamp, v1=HMAC-SHA256(secret, "t.payload")."""
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={mac}", "Content-Type": "application/json"}


async def post(client: httpx.AsyncClient, evt: dict[str, Any], **sign: Any) -> httpx.Response:
    payload = json.dumps(evt)
    return await client.post("/webhooks/stripe", content=payload, headers=signed(payload, **sign))


def intent(payment: Payment, status: str, **extra: Any) -> dict[str, Any]:
    """What a PaymentIntent event body claims about one of our payments."""
    return {
        "id": payment.provider_payment_id,
        "object": "payment_intent",
        "status": status,
        "amount": payment.amount,
        "currency": payment.currency.lower(),
        "metadata": {"invoice_id": str(payment.invoice_id), "payment_id": str(payment.id)},
        **extra,
    }


def charge(payment: Payment, refunded: int) -> dict[str, Any]:
    """A `charge.refunded` body claiming `refunded` minor units back."""
    return {
        "id": "ch_test_1",
        "object": "charge",
        "payment_intent": payment.provider_payment_id,
        "amount": payment.amount,
        "amount_refunded": refunded,
        "refunded": refunded == payment.amount,
        "metadata": {"payment_id": str(payment.id)},
    }


async def refund_at_provider(sandbox: Sandbox, payment_intent_id: str, amount: int) -> None:
    """What the provider's dashboard does: refund part of a charge."""
    headers = {"Authorization": f"Bearer {sandbox.secret_key}"}
    form = {"payment_intent": payment_intent_id, "amount": str(amount)}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.post(f"{sandbox.api_base}/v1/refunds", data=form) as response,
    ):
        assert response.status == 200, await response.text()
