"""Turning Stripe SDK objects and errors into the provider dataclasses of `base.py`.

Kept apart from the client so the mapping can be read (and tested) on its own: every
optional field is read defensively because localstripe omits some that Stripe sends.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
import stripe

from services.provider.base import (
    CardDetails,
    ChargeRecord,
    ChargeResult,
    ChargeStatus,
    ProviderAddress,
    ProviderError,
    ProviderUnavailableError,
    SetupResult,
    SetupStatus,
)

logger = logging.getLogger("services.provider.stripe")

_FUNDING = {"credit": "credit", "debit": "debit", "prepaid": "prepaid"}

# Our own wording, so the portal says the same thing whatever the provider's text is.
_AUTH_FAILED = "The cardholder did not complete authentication."
_FAILURE_MESSAGES = {
    "card_declined": "The card was declined.",
    "insufficient_funds": "The card has insufficient funds.",
    "expired_card": "The card has expired.",
    "incorrect_cvc": "The card's security code is incorrect.",
    "processing_error": "The card could not be processed. Try again later.",
    "authentication_required": "The bank requires the cardholder to authenticate this payment.",
    "payment_intent_authentication_failure": _AUTH_FAILED,
    "setup_intent_authentication_failure": _AUTH_FAILED,
}

_CHARGE_STATUS: dict[str, ChargeStatus] = {
    "succeeded": "succeeded",
    "requires_action": "requires_action",
    "requires_source_action": "requires_action",
    "processing": "processing",
    # Not produced by our flows (we confirm at create, capture automatically); the
    # outcome is not final, so callers must poll rather than record a failure.
    "requires_confirmation": "processing",
    "requires_capture": "processing",
    "canceled": "canceled",
    "requires_payment_method": "failed",
    "requires_source": "failed",
}


def failure_message(code: str | None, provider_message: str | None) -> str:
    if code and code in _FAILURE_MESSAGES:
        return _FAILURE_MESSAGES[code]
    return provider_message or "The payment could not be completed."


def opt(obj: Any, name: str) -> Any:
    """Read an optional field: localstripe leaves some out, and StripeObject raises."""
    return None if obj is None else getattr(obj, name, None)


def opt_str(obj: Any, name: str) -> str | None:
    value = opt(obj, name)
    return None if value is None else str(value)


def ref_id(value: Any) -> str | None:
    """An expandable field is either an id or the expanded object."""
    return value if value is None or isinstance(value, str) else str(value.id)


def decline_code(exc: stripe.CardError) -> str:
    return opt_str(exc.error, "decline_code") or exc.code or "card_declined"


def is_unavailable(exc: Exception) -> bool:
    if isinstance(exc, (stripe.APIConnectionError, stripe.RateLimitError)):
        return True
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError, aiohttp.ClientError)):
        return True  # a timeout while reading the body escapes the SDK's wrapping
    if isinstance(exc, stripe.StripeError):
        status = exc.http_status
        return status is None or status == 409 or status >= 500
    return False


def map_error(op: str, exc: Exception) -> Exception:
    """Translate an SDK/network exception (not a decline we turn into a result)."""
    if is_unavailable(exc):
        request_id = getattr(exc, "request_id", None)
        logger.warning(
            "stripe %s: outcome unknown (%s, request %s)", op, type(exc).__name__, request_id
        )
        return ProviderUnavailableError(f"Stripe could not be reached or failed during {op}.")
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return ProviderError(f"Stripe refused our credentials during {op}.", code="authentication")
    if isinstance(exc, stripe.CardError):
        decline = decline_code(exc)
        return ProviderError(failure_message(decline, exc.user_message), code=decline)
    if isinstance(exc, stripe.StripeError):
        code = exc.code
        if code is None and exc.http_status == 404:
            code = "resource_missing"  # localstripe sends a bare 404 "Not Found"
        if code is None and isinstance(exc, stripe.IdempotencyError):
            code = "idempotency_error"
        message = exc.user_message or "request rejected"
        return ProviderError(f"Stripe rejected {op}: {message}", code=code or "invalid_request")
    return exc


def card_details(pm: Any) -> CardDetails:
    card = opt(pm, "card")
    if card is None:
        raise ProviderError("The payment method is not a card.", code="not_a_card")
    address = opt(opt(pm, "billing_details"), "address")
    fields = {f: opt_str(address, f) for f in ProviderAddress.__dataclass_fields__}
    billing = ProviderAddress(**fields) if any(fields.values()) else None
    return CardDetails(
        payment_method_id=str(pm.id),
        brand=str(opt(card, "brand") or "unknown"),
        last4=str(opt(card, "last4") or ""),
        exp_month=int(opt(card, "exp_month") or 0),
        exp_year=int(opt(card, "exp_year") or 0),
        funding=_FUNDING.get(str(opt(card, "funding")), "unknown"),
        customer_id=ref_id(opt(pm, "customer")),
        billing_address=billing,
    )


def setup_result(si: Any, *, card: CardDetails | None = None) -> SetupResult:
    raw = str(opt(si, "status"))
    error = opt(si, "last_setup_error")
    status: SetupStatus
    if raw in ("succeeded", "processing", "requires_action"):
        status = raw  # type: ignore[assignment]
    elif raw == "canceled" or error is not None:
        status = "failed"
    else:  # requires_payment_method / requires_confirmation: the browser's turn
        status = "requires_action"
    code = (opt_str(error, "decline_code") or opt_str(error, "code")) if error else None
    next_action = opt(si, "next_action")
    return SetupResult(
        setup_intent_id=str(si.id),
        status=status,
        client_secret=opt_str(si, "client_secret"),
        customer_id=ref_id(opt(si, "customer")),
        payment_method_id=ref_id(opt(si, "payment_method")),
        card=card,
        redirect_url=opt_str(opt(next_action, "redirect_to_url"), "url"),
        failure_code=code,
        failure_message=failure_message(code, opt_str(error, "message")) if error else None,
    )


def setup_declined(
    exc: stripe.CardError, setup_intent_id: str, customer_id: str, pm_id: str
) -> SetupResult:
    """Stripe returns the failed SetupIntent in the error; localstripe does not."""
    si = opt(exc.error, "setup_intent")
    if si is not None and not isinstance(si, str) and opt(si, "status"):
        result = setup_result(si)
        if result.status == "failed":
            return result
    code = decline_code(exc)
    return SetupResult(
        setup_intent_id=setup_intent_id,
        status="failed",
        client_secret=None,
        customer_id=customer_id,
        payment_method_id=pm_id,
        failure_code=code,
        failure_message=failure_message(code, exc.user_message),
    )


def charge_result(pi: Any) -> ChargeResult:
    raw = str(opt(pi, "status"))
    status = _CHARGE_STATUS.get(raw, "processing")
    error = opt(pi, "last_payment_error")
    code = message = None
    if status == "failed":
        code = opt_str(error, "decline_code") or opt_str(error, "code") or "card_declined"
        message = failure_message(code, opt_str(error, "message"))
    next_action = opt(pi, "next_action")
    return ChargeResult(
        payment_intent_id=str(pi.id),
        status=status,
        amount=int(opt(pi, "amount") or 0),
        currency=str(opt(pi, "currency") or "").upper(),
        client_secret=opt_str(pi, "client_secret") if status == "requires_action" else None,
        redirect_url=opt_str(opt(next_action, "redirect_to_url"), "url"),
        failure_code=code,
        failure_message=message,
    )


def charge_record(pi: Any) -> ChargeRecord:
    """A PaymentIntent with its owner, metadata and refunds (`latest_charge` expanded, as
    localstripe always sends it; an unexpanded id counts as nothing refunded)."""
    raw_meta = opt(pi, "metadata")
    metadata = raw_meta.to_dict() if hasattr(raw_meta, "to_dict") else dict(raw_meta or {})
    latest = opt(pi, "latest_charge")
    refunded = 0 if latest is None or isinstance(latest, str) else opt(latest, "amount_refunded")
    return ChargeRecord(
        charge=charge_result(pi),
        metadata={str(k): str(v) for k, v in metadata.items()},
        created=datetime.fromtimestamp(int(opt(pi, "created") or 0), UTC),
        customer_id=ref_id(opt(pi, "customer")),
        amount_refunded=int(refunded or 0),
    )
