"""POST /webhooks/stripe: verify the signature, then hand the event to the services.

A bad or missing signature answers 400 and touches nothing. Verification uses the
SDK's helper (HMAC over "timestamp.payload", with a replay tolerance). A good
signature only earns the event a look: services/webhooks.py reads the object back
from the provider and applies what the provider says. When the provider cannot be
reached for that, the answer is 503 and nothing is recorded, so the provider retries.
"""

from __future__ import annotations

import json
import logging
import time

import stripe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.provider.base import ProviderUnavailableError
from services.webhooks import handle_event

log = logging.getLogger("gateway.webhooks")

MAX_BODY = 1_000_000


async def stripe_webhook(request: Request) -> Response:
    settings = request.app.state.settings
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    header = request.headers.get("stripe-signature")
    if not header:
        return JSONResponse({"error": "missing Stripe-Signature"}, status_code=400)
    try:
        payload = body.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            payload,
            header,
            settings.stripe_webhook_secret.get_secret_value(),
            tolerance=settings.stripe_webhook_tolerance_seconds,
        )
        if _signed_at(header) > time.time() + settings.stripe_webhook_tolerance_seconds:
            raise ValueError("signed in the future")  # the SDK only bounds the past
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        return JSONResponse({"error": "invalid signature or payload"}, status_code=400)
    if not isinstance(event, dict):
        return JSONResponse({"error": "invalid payload"}, status_code=400)
    try:
        outcome = await handle_event(request.app.state.services, event)
    except ProviderUnavailableError:
        log.warning("webhook %s: the provider could not be asked; retry later", event.get("type"))
        return JSONResponse(
            {"error": "the payment provider could not be reached; retry"},
            status_code=503,
            headers={"Retry-After": "60"},
        )
    log.info("webhook %s: %s", event.get("type"), outcome)
    return JSONResponse({"status": outcome})


def _signed_at(header: str) -> int:
    """The `t=` of a Stripe-Signature header (verified by then); 0 when absent."""
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            return int(value)
    return 0
