"""`PaymentProvider` on the official Stripe SDK (works against Stripe and localstripe).

Why it looks the way it does:

* Services must never see SDK objects, so every answer is turned into the frozen
  dataclasses of `base.py` here, with upper-case currencies.
* A decline is an answer, not an error: `CardError`s on charge/setup become results
  with status "failed". Everything where we cannot know the outcome (network, timeout,
  429, 5xx, 409 idempotent request in flight) becomes `ProviderUnavailableError`, so the
  caller keeps the payment open and retries with the *same* idempotency key.
* Stripe objects are not dicts, and localstripe omits some fields Stripe always sends
  (e.g. `last_setup_error`), so optional fields are read with `getattr(..., None)`.
* Messages never carry card data or keys: we only ever send payment method ids, and
  error texts are built from codes plus Stripe's own (already redacted) message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, TypeVar

import aiohttp
import stripe
from stripe.params import SetupIntentCreateParams

from services.provider._stripe_mapping import (
    card_details,
    charge_record,
    charge_result,
    decline_code,
    failure_message,
    map_error,
    opt,
    opt_str,
    ref_id,
    setup_declined,
    setup_result,
)
from services.provider.base import (
    CardDetails,
    ChargeRecord,
    ChargeResult,
    ProviderAddress,
    ProviderError,
    ProviderUnavailableError,
    SetupResult,
)

__all__ = ["StripeProvider"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


class StripeProvider:
    """Stripe (or localstripe, via `api_base`) behind the `PaymentProvider` protocol."""

    def __init__(
        self,
        api_key: str,
        publishable_key: str,
        api_base: str | None = None,
        js_url: str = "https://js.stripe.com/v3/",
        timeout_s: float = 20,
        name: str = "stripe",
        max_network_retries: int = 2,
        localstripe: bool | None = None,
    ) -> None:
        """`localstripe=None` guesses from `api_base`: any non-stripe.com base is the sandbox
        (or a test proxy in front of it)."""
        self.name = name
        self.publishable_key = publishable_key
        self.js_url = js_url
        # One total budget per HTTP attempt; connect gets a shorter leash so a dead
        # host fails fast into ProviderUnavailableError instead of hanging a request.
        timeout = aiohttp.ClientTimeout(total=timeout_s, connect=min(5.0, timeout_s))
        self._http = stripe.AIOHTTPClient(timeout=timeout)
        kwargs: dict[str, Any] = {}
        if api_base:
            kwargs["base_addresses"] = {"api": api_base.rstrip("/")}
        # The SDK retries connection errors and 409/429/5xx with the same idempotency key.
        self._client = stripe.StripeClient(
            api_key, http_client=self._http, max_network_retries=max_network_retries, **kwargs
        )
        self._v1 = self._client.v1
        if localstripe is None:
            localstripe = api_base is not None and "stripe.com" not in api_base
        self._localstripe = localstripe

    def _card_only(self) -> dict[str, Any]:
        """Restrict intents to cards, so Stripe never asks for a `return_url`.

        The SDK's pinned API version (2026-10-28) refuses `payment_method_types`
        (`payment_method_types_no_longer_supported`) and wants
        `allowed_payment_method_types`; localstripe knows only the former and rejects
        unknown parameters, and is card-only anyway: send nothing there.
        """
        return {} if self._localstripe else {"allowed_payment_method_types": ["card"]}

    def _setup_params(self, customer_id: str) -> SetupIntentCreateParams:
        params: SetupIntentCreateParams = {"customer": customer_id, "usage": "off_session"}
        if not self._localstripe:
            params["allowed_payment_method_types"] = ["card"]
        return params

    async def _call(self, op: str, aw: Awaitable[T], *, declines: bool = False) -> T:
        """Await an SDK call, translating errors; `declines=True` lets CardError through
        for callers that turn a decline into a "failed" result."""
        try:
            return await aw
        except Exception as exc:
            if declines and isinstance(exc, stripe.CardError):
                raise
            mapped = map_error(op, exc)
            if mapped is exc:
                raise
            raise mapped from exc

    async def create_customer(self, *, email: str, name: str, idempotency_key: str) -> str:
        customer = await self._call(
            "create_customer",
            self._v1.customers.create_async(
                {"email": email, "name": name}, {"idempotency_key": idempotency_key}
            ),
        )
        return str(customer.id)

    async def create_setup_intent(self, *, customer_id: str) -> SetupResult:
        """A fresh SetupIntent waits for the browser; we report it as "requires_action"."""
        params = self._setup_params(customer_id)
        si = await self._call("create_setup_intent", self._v1.setup_intents.create_async(params))
        return setup_result(si)

    async def retrieve_setup_intent(self, setup_intent_id: str) -> SetupResult:
        si = await self._call(
            "retrieve_setup_intent", self._v1.setup_intents.retrieve_async(setup_intent_id)
        )
        card: CardDetails | None = None
        pm_id = ref_id(opt(si, "payment_method"))
        if pm_id:
            pm = await self._call(
                "retrieve_payment_method", self._v1.payment_methods.retrieve_async(pm_id)
            )
            card = card_details(pm)
        return setup_result(si, card=card)

    async def setup_payment_method(
        self, *, customer_id: str, payment_method_id: str, idempotency_key: str
    ) -> SetupResult:
        """Token-first: create the SetupIntent, attach the card, confirm with it.

        The SetupIntent comes first so a card refused at attach still yields a "failed"
        result with an id. The card is attached before confirming because localstripe
        rejects `SetupIntent.create(payment_method=...)` and does not attach on confirm;
        on Stripe the explicit attach is harmless. Each request gets its own derived
        idempotency key (Stripe binds a key to one endpoint and parameter set).
        """
        si = await self._call(
            "setup_payment_method",
            self._v1.setup_intents.create_async(
                self._setup_params(customer_id), {"idempotency_key": f"{idempotency_key}:seti"}
            ),
        )
        try:
            card = await self._attach(payment_method_id, customer_id)
        except stripe.CardError as exc:
            await self._cancel_setup_quietly(si.id)
            return setup_declined(exc, si.id, customer_id, payment_method_id)
        try:
            si = await self._call(
                "setup_payment_method",
                self._v1.setup_intents.confirm_async(
                    si.id,
                    {"payment_method": payment_method_id},
                    {"idempotency_key": f"{idempotency_key}:confirm"},
                ),
                declines=True,
            )
        except stripe.CardError as exc:
            return setup_declined(exc, si.id, customer_id, payment_method_id)
        return setup_result(si, card=card)

    async def attach_payment_method(
        self, *, payment_method_id: str, customer_id: str
    ) -> CardDetails:
        try:
            return await self._attach(payment_method_id, customer_id)
        except stripe.CardError as exc:
            raise map_error("attach_payment_method", exc) from exc

    async def _attach(self, payment_method_id: str, customer_id: str) -> CardDetails:
        """Attach unless already attached to this customer; CardError passes through."""
        pm = await self._call(
            "attach_payment_method", self._v1.payment_methods.retrieve_async(payment_method_id)
        )
        owner = ref_id(opt(pm, "customer"))
        if owner == customer_id:
            return card_details(pm)
        if owner is not None:
            raise ProviderError(
                "The payment method belongs to another customer.",
                code="payment_method_attached_elsewhere",
            )
        pm = await self._call(
            "attach_payment_method",
            self._v1.payment_methods.attach_async(payment_method_id, {"customer": customer_id}),
            declines=True,
        )
        return card_details(pm)

    async def detach_payment_method(self, payment_method_id: str) -> None:
        """Idempotent: Stripe errors on detaching a detached card, we do not."""
        pm = await self._call(
            "detach_payment_method", self._v1.payment_methods.retrieve_async(payment_method_id)
        )
        if opt(pm, "customer") is None:
            return
        await self._call(
            "detach_payment_method", self._v1.payment_methods.detach_async(payment_method_id)
        )

    async def update_payment_method(
        self,
        *,
        payment_method_id: str,
        exp_month: int | None = None,
        exp_year: int | None = None,
        billing_address: ProviderAddress | None = None,
    ) -> None:
        params: dict[str, Any] = {}
        card = {
            k: v for k, v in (("exp_month", exp_month), ("exp_year", exp_year)) if v is not None
        }
        if card and self._localstripe:
            # localstripe replaces the whole `card` object on update (Stripe merges):
            # send what it has with the new expiry, so last4 and brand survive.
            current = await self._call(
                "update_payment_method", self._v1.payment_methods.retrieve_async(payment_method_id)
            )
            kept = opt(current, "card")
            kept_fields = kept.to_dict() if kept is not None else {}
            card = {
                **{k: v for k, v in kept_fields.items() if not isinstance(v, dict | list)},
                **card,
            }
        if card:
            params["card"] = card
        if billing_address is not None:
            params["billing_details"] = {
                "address": {
                    f: getattr(billing_address, f) or ""
                    for f in ProviderAddress.__dataclass_fields__
                }
            }
        if not params:
            return
        await self._call(
            "update_payment_method",
            self._v1.payment_methods.update_async(payment_method_id, params),  # type: ignore[arg-type]
        )

    async def _cancel_setup_quietly(self, setup_intent_id: str) -> None:
        try:
            await self._v1.setup_intents.cancel_async(setup_intent_id)
        except Exception:  # tidying up only; a dangling SetupIntent costs nothing
            logger.info("stripe: could not cancel setup intent %s", setup_intent_id)

    async def charge(
        self,
        *,
        customer_id: str,
        payment_method_id: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        off_session: bool,
        metadata: dict[str, str],
    ) -> ChargeResult:
        """Create+confirm in one request (localstripe cannot confirm with a new card)."""
        params: dict[str, Any] = {
            "customer": customer_id,
            "payment_method": payment_method_id,
            "amount": amount,
            "currency": currency.lower(),
            "confirm": True,
            "metadata": dict(metadata),
            **self._card_only(),
        }
        if off_session:
            params["off_session"] = True  # localstripe accepts but ignores it
        try:
            pi = await self._call(
                "charge",
                self._v1.payment_intents.create_async(
                    params,  # type: ignore[arg-type]
                    {"idempotency_key": idempotency_key},
                ),
                declines=True,
            )
        except stripe.CardError as exc:
            return await self._charge_declined(exc, amount, currency)
        return charge_result(pi)

    async def _charge_declined(
        self, exc: stripe.CardError, amount: int, currency: str
    ) -> ChargeResult:
        """Stripe puts the PaymentIntent in the error; localstripe only the charge id."""
        pi = opt(exc.error, "payment_intent")
        if pi is None and (charge_id := opt_str(exc.error, "charge")):
            try:
                charge = await self._v1.charges.retrieve_async(charge_id)
                if pi_id := ref_id(opt(charge, "payment_intent")):
                    pi = await self._v1.payment_intents.retrieve_async(pi_id)
            except Exception:
                logger.info("stripe: could not read the intent of declined charge %s", charge_id)
        if pi is not None and not isinstance(pi, str) and opt(pi, "status"):
            result = charge_result(pi)
            if result.status == "failed":
                return result
        code = decline_code(exc)
        return ChargeResult(
            payment_intent_id=ref_id(pi) or "",
            status="failed",
            amount=amount,
            currency=currency.upper(),
            failure_code=code,
            failure_message=failure_message(code, exc.user_message),
        )

    async def retrieve_charge(self, payment_intent_id: str) -> ChargeResult:
        pi = await self._call(
            "retrieve_charge", self._v1.payment_intents.retrieve_async(payment_intent_id)
        )
        return charge_result(pi)

    async def retrieve_payment_intent(self, payment_intent_id: str) -> ChargeRecord:
        pi = await self._call(
            "retrieve_payment_intent",
            self._v1.payment_intents.retrieve_async(
                payment_intent_id, {"expand": ["latest_charge"]}
            ),
        )
        return charge_record(pi)

    async def retrieve_payment_method(self, payment_method_id: str) -> CardDetails:
        pm = await self._call(
            "retrieve_payment_method", self._v1.payment_methods.retrieve_async(payment_method_id)
        )
        return card_details(pm)

    async def cancel_charge(self, payment_intent_id: str) -> ChargeResult:
        """Idempotent: cancelling an already canceled intent returns it."""
        try:
            pi = await self._v1.payment_intents.cancel_async(payment_intent_id)
        except stripe.InvalidRequestError as exc:
            current = await self._call(
                "cancel_charge", self._v1.payment_intents.retrieve_async(payment_intent_id)
            )
            if opt(current, "status") == "canceled":
                return charge_result(current)
            raise map_error("cancel_charge", exc) from exc
        except Exception as exc:
            raise map_error("cancel_charge", exc) from exc
        return charge_result(pi)

    async def list_charges(self, *, since: datetime | None = None) -> list[ChargeRecord]:
        """Page through PaymentIntents. localstripe has no `created` filter on this list,
        so there the cut-off is applied here."""
        params: dict[str, Any] = {"limit": 100}
        cutoff = int(since.timestamp()) if since is not None else None
        if cutoff is not None and not self._localstripe:
            params["created"] = {"gte": cutoff}
        records: list[ChargeRecord] = []
        while True:
            listing = self._v1.payment_intents.list_async(params)  # type: ignore[arg-type]
            page = await self._call("list_charges", listing)
            data = list(opt(page, "data") or [])
            for pi in data:
                if cutoff is not None and int(opt(pi, "created") or 0) < cutoff:
                    continue
                records.append(charge_record(pi))
            if not data or not opt(page, "has_more"):
                break
            params["starting_after"] = opt(data[-1], "id")
        records.sort(key=lambda r: r.created)
        return records

    async def ping(self) -> None:
        """Cheapest authenticated read both Stripe and localstripe serve."""
        try:
            await self._v1.balance.retrieve_async()
        except Exception as exc:
            logger.warning("stripe ping failed: %s", type(exc).__name__)
            raise ProviderUnavailableError("Stripe could not be reached.") from exc

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]
