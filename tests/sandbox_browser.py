"""What a browser running Stripe.js does, done over plain HTTP against the sandbox.

The gateway never sees card numbers: the page hands them to Stripe.js, which talks to
Stripe directly. Tests have no browser, so these helpers make the same requests the
localstripe Stripe.js stand-in makes (see localstripe-v3.js): browser-side endpoints
authenticate with `key=pk_...` in the body, not with the secret key.

One exception: localstripe's `stripe.createPaymentMethod()` is a no-op stub and its
`POST /v1/payment_methods` does not accept a publishable key, so
`create_card_payment_method` uses the secret key. The request is the same one Stripe.js
would send to real Stripe with the publishable key.
"""

from __future__ import annotations

from typing import Any, Protocol

import aiohttp

__all__ = [
    "BrowserError",
    "authenticate_payment",
    "complete_setup_3ds",
    "confirm_card_setup",
    "create_card_payment_method",
]

_TIMEOUT = aiohttp.ClientTimeout(total=10)


class SandboxLike(Protocol):
    api_base: str
    secret_key: str
    publishable_key: str


class BrowserError(Exception):
    """What Stripe.js would hand the page as `result.error`."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        self.status = status
        self.code: str | None = error.get("code")
        self.error = error
        super().__init__(f"{status} {self.code or ''} {error.get('message', '')}".strip())


async def _post(
    sandbox: SandboxLike,
    path: str,
    *,
    json: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    secret: bool = False,
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {sandbox.secret_key}"} if secret else {}
    async with (
        aiohttp.ClientSession(timeout=_TIMEOUT) as session,
        session.post(sandbox.api_base + path, json=json, data=form, headers=headers) as resp,
    ):
        body: dict[str, Any] = await resp.json(content_type=None)
        if resp.status != 200 or "error" in body:
            raise BrowserError(resp.status, body.get("error") or {})
        return body


def _intent_id(client_secret: str) -> str:
    return client_secret.split("_secret_", 1)[0]


async def create_card_payment_method(
    sandbox: SandboxLike,
    number: str,
    exp_month: int = 12,
    exp_year: int = 2030,
    cvc: str = "123",
) -> str:
    """`stripe.createPaymentMethod({type: "card", card})` -> "pm_..." (not attached)."""
    form = {
        "type": "card",
        "card[number]": number,
        "card[exp_month]": str(exp_month),
        "card[exp_year]": str(exp_year),
        "card[cvc]": cvc,
    }
    body = await _post(sandbox, "/v1/payment_methods", form=form, secret=True)
    return str(body["id"])


async def complete_setup_3ds(
    sandbox: SandboxLike, setup_intent_id: str, client_secret: str, *, success: bool = True
) -> dict[str, Any]:
    """Answer the 3-D Secure modal for a SetupIntent in `requires_action`.

    localstripe's Stripe.js confirms the SetupIntent again to succeed and cancels it
    to fail (it has no `_authenticate` for SetupIntents). Returns the SetupIntent.
    """
    action = "confirm" if success else "cancel"
    return await _post(
        sandbox,
        f"/v1/setup_intents/{setup_intent_id}/{action}",
        json={
            "key": sandbox.publishable_key,
            "use_stripe_sdk": True,
            "client_secret": client_secret,
        },
    )


async def confirm_card_setup(
    sandbox: SandboxLike,
    setup_intent_client_secret: str,
    number: str,
    *,
    exp_month: int = 12,
    exp_year: int = 2030,
    cvc: str = "123",
    authenticate: bool | None = True,
) -> str:
    """`stripe.confirmCardSetup(clientSecret, {payment_method: {card}})` -> "seti_...".

    A 3-D Secure card is authenticated (`authenticate=True`), failed (`False`, the
    SetupIntent ends canceled) or left in `requires_action` (`None`). A card refused
    outright raises `BrowserError` (code "card_declined"), as Stripe.js returns an error.
    Note the sandbox leaves the new payment method unattached (Stripe attaches it).
    """
    seti = _intent_id(setup_intent_client_secret)
    body = await _post(
        sandbox,
        f"/v1/setup_intents/{seti}/confirm",
        json={
            "key": sandbox.publishable_key,
            "use_stripe_sdk": True,
            "client_secret": setup_intent_client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {
                    "number": number,
                    "exp_month": exp_month,
                    "exp_year": exp_year,
                    "cvc": cvc,
                },
            },
        },
    )
    if body.get("status") == "requires_action" and authenticate is not None:
        await complete_setup_3ds(sandbox, seti, setup_intent_client_secret, success=authenticate)
    return seti


async def authenticate_payment(
    sandbox: SandboxLike, payment_intent_id: str, client_secret: str, success: bool
) -> dict[str, Any]:
    """`stripe.confirmCardPayment(clientSecret)` after the 3-D Secure modal.

    `success=False` is the cardholder failing the challenge: the PaymentIntent goes
    back to `requires_payment_method` with `payment_intent_authentication_failure`.
    Returns the PaymentIntent.
    """
    return await _post(
        sandbox,
        f"/v1/payment_intents/{payment_intent_id}/_authenticate",
        json={
            "key": sandbox.publishable_key,
            "client_secret": client_secret,
            "success": success,
        },
    )
