"""Provider events: hints to go and look, each applied once, in whatever order they come.

A signed event is not the truth about money: its secret may have leaked (or been left
at a public default), so an event only says "look at this object". Before anything is
settled, the object is read back from the provider through the `PaymentProvider`
interface, by the id *we* stored where we have one, and checked to be ours (amount,
currency, customer, our payment id in its metadata). What the provider answers is
applied; the event's body never is. An event whose object is not ours, or that
changes no row, answers "ignored".

The provider is asked before the event id is recorded and outside any transaction;
when it cannot be reached, `ProviderUnavailableError` propagates and nothing is
recorded, so the provider's retry gets another chance. The id is then inserted in
the same transaction that applies the event, so a second delivery (even a concurrent
one: it waits on the unique key, then fails) changes nothing. Ordering needs no
bookkeeping: every change goes through settlement's conditional transitions, so a
late `payment_failed` cannot undo a success and a PAID invoice never goes back to OPEN.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Account, Payment, PaymentMethod, PaymentMethodStatus, WebhookEvent
from models.events import BillingEventType as EV
from services.card_setup import settle_card_setup
from services.context import ServiceContext
from services.events import log as events
from services.payment_methods import lock_account, remove_card
from services.provider.base import ChargeRecord, ChargeResult, ProviderError
from services.settlement import apply_charge_result

log = logging.getLogger(__name__)

Outcome = Literal["applied", "duplicate", "ignored"]
#: Applies what the provider said, inside the event's transaction; True when a row changed.
Apply = Callable[[], Awaitable[bool]]
T = TypeVar("T")

#: What each event claims; only compared with what the provider says, for the log.
_CLAIMED_STATUS = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "payment_intent.requires_action": "requires_action",
    "payment_intent.processing": "processing",
    "payment_intent.canceled": "canceled",
}
_SETUP_EVENTS = ("setup_intent.succeeded", "setup_intent.setup_failed")


async def handle_event(ctx: ServiceContext, event: dict[str, Any]) -> Outcome:
    """Check one signed event against the provider and apply what the provider says.

    Returns "applied" (a row changed), "duplicate" (this id was handled before) or
    "ignored"; raises `ProviderUnavailableError`, recording nothing, when the provider
    cannot be asked.
    """
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") if isinstance(event.get("data"), dict) else None
    if not event_id or not isinstance(obj, dict):
        return "ignored"
    if await WebhookEvent.exists(id=event_id):
        return "duplicate"  # a replay costs no provider call
    apply = await _verified(ctx, event_id, event_type, obj)
    try:
        async with in_transaction():
            await WebhookEvent.create(id=event_id, type=event_type, received_at=ctx.clock.now())
            applied = await apply() if apply is not None else False
    except IntegrityError:
        return "duplicate"
    return "applied" if applied else "ignored"


async def _verified(
    ctx: ServiceContext, event_id: str, event_type: str, obj: dict[str, Any]
) -> Apply | None:
    """Read the event's object from the provider; None when there is nothing of ours."""
    if event_type in _CLAIMED_STATUS:
        return await _charge_event(ctx, event_id, event_type, obj)
    if event_type == "charge.refunded":
        return await _refund_event(ctx, event_id, obj)
    if event_type in _SETUP_EVENTS:
        return await _setup_event(ctx, event_id, event_type, obj)
    if event_type == "payment_method.detached":
        return await _detach_event(ctx, event_id, obj)
    return None


# -- payments ---------------------------------------------------------------------------


async def _charge_event(
    ctx: ServiceContext, event_id: str, event_type: str, obj: dict[str, Any]
) -> Apply | None:
    payment = await _payment_for(obj.get("id"), obj.get("metadata"))
    record = await _our_intent(ctx, event_id, payment, obj.get("id"))
    if payment is None or record is None:
        return None
    claimed = _CLAIMED_STATUS[event_type]
    if record.charge.status != claimed:
        log.warning(
            "webhook %s (%s) for payment %s: the provider says %s; applying that",
            event_id,
            event_type,
            payment.id,
            record.charge.status,
        )

    async def apply() -> bool:
        return await _settle(ctx, payment.id, record.charge)

    return apply


async def _refund_event(ctx: ServiceContext, event_id: str, obj: dict[str, Any]) -> Apply | None:
    payment = await _payment_for(obj.get("payment_intent"), obj.get("metadata"))
    if payment is not None and payment.provider_payment_id is None:
        return None  # never recorded as charged: nothing of ours to refund
    record = await _our_intent(ctx, event_id, payment, None)
    if payment is None or record is None:
        return None
    refunded = min(record.amount_refunded, payment.amount)
    if _int(obj.get("amount_refunded")) != refunded:
        log.warning(
            "webhook %s (charge.refunded) for payment %s: the provider's refunded total "
            "differs from the event's; applying the provider's",
            event_id,
            payment.id,
        )

    async def apply() -> bool:
        # Refund totals only grow; an older event arriving late cannot lower them.
        changed = await Payment.filter(id=payment.id, amount_refunded__lt=refunded).update(
            amount_refunded=refunded, updated_at=ctx.clock.now()
        )
        if changed:
            await events.append(
                EV.PAYMENT_REFUNDED,
                account_id=payment.account_id,
                payment_id=payment.id,
                invoice_id=payment.invoice_id,
                now=ctx.clock.now(),
            )
        return changed > 0

    return apply


async def _payment_for(intent_id: Any, metadata: Any) -> Payment | None:
    """Our payment the event points at: by intent id, else by our id in its metadata."""
    if intent_id:
        payment = await Payment.get_or_none(provider_payment_id=str(intent_id))
        if payment is not None:
            return payment
    raw = metadata.get("payment_id") if isinstance(metadata, dict) else None
    if raw is not None and str(raw).isdigit():
        return await Payment.get_or_none(id=int(raw))
    return None


async def _our_intent(
    ctx: ServiceContext, event_id: str, payment: Payment | None, event_intent_id: Any
) -> ChargeRecord | None:
    """The payment's PaymentIntent as the provider has it, when it is really ours.

    Read by the id we stored; the event's id only for a payment whose charge answer
    was lost (a crash between the provider call and recording it)."""
    if payment is None:
        return None
    intent_id = payment.provider_payment_id or (str(event_intent_id) if event_intent_id else "")
    if not intent_id:
        return None
    record = await _ask(event_id, ctx.provider.retrieve_payment_intent(intent_id))
    if record is None:
        return None
    account = await Account.get(id=payment.account_id)
    mismatch = _mismatch(payment, account, intent_id, record)
    if mismatch:
        log.warning(
            "webhook %s: PaymentIntent %s is not payment %s's (%s); nothing applied",
            event_id,
            intent_id,
            payment.id,
            mismatch,
        )
        return None
    return record


def _mismatch(payment: Payment, account: Account, intent_id: str, record: ChargeRecord) -> str:
    """What does not match our payment, or "" when everything does."""
    charge, meta = record.charge, record.metadata
    if charge.payment_intent_id != intent_id:
        return "id"
    if charge.amount != payment.amount or charge.currency.upper() != payment.currency.upper():
        return "amount or currency"
    if meta.get("payment_id") != str(payment.id):
        return "metadata payment_id"
    if "payment_key" in meta and meta["payment_key"] != payment.provider_idempotency_key:
        return "metadata payment_key"
    if account.provider_customer_id and record.customer_id != account.provider_customer_id:
        return "customer"
    return ""


async def _settle(ctx: ServiceContext, payment_id: int, result: ChargeResult) -> bool:
    """Apply the provider's result; True when the payment row changed."""
    before = await Payment.get(id=payment_id)
    snapshot = _state(before)
    after, _ = await apply_charge_result(before, result, ctx.clock.now(), ctx.policy)
    return _state(after) != snapshot


def _state(payment: Payment) -> tuple[Any, ...]:
    return (
        payment.status,
        payment.provider_payment_id,
        payment.next_action,
        payment.failure_code,
        payment.amount_refunded,
    )


# -- cards ------------------------------------------------------------------------------


async def _setup_event(
    ctx: ServiceContext, event_id: str, event_type: str, obj: dict[str, Any]
) -> Apply | None:
    setup_intent_id = str(obj.get("id") or "")
    pm = await PaymentMethod.get_or_none(
        setup_intent_id=setup_intent_id, status=PaymentMethodStatus.REQUIRES_ACTION
    )
    if not setup_intent_id or pm is None:
        return None
    result = await _ask(event_id, ctx.provider.retrieve_setup_intent(setup_intent_id))
    if result is None:
        return None
    account = await Account.get(id=pm.account_id)
    card_id = result.payment_method_id
    if (account.provider_customer_id and result.customer_id != account.provider_customer_id) or (
        card_id and pm.provider_id and card_id != pm.provider_id
    ):
        log.warning("webhook %s: SetupIntent is not card %s's; nothing applied", event_id, pm.id)
        return None
    if result.status not in ("succeeded", "failed"):
        log.warning(
            "webhook %s (%s): the provider says %s; nothing to apply",
            event_id,
            event_type,
            result.status,
        )
        return None
    succeeded = result.status == "succeeded"

    async def apply() -> bool:
        current = await settle_card_setup(pm.id, succeeded=succeeded, now=ctx.clock.now())
        return current.status is not PaymentMethodStatus.REQUIRES_ACTION

    return apply


async def _detach_event(ctx: ServiceContext, event_id: str, obj: dict[str, Any]) -> Apply | None:
    """Detached at the provider (e.g. from its dashboard): it can no longer be charged."""
    provider_id = str(obj.get("id") or "")
    pm = (
        await PaymentMethod.filter(provider_id=provider_id)
        .exclude(status=PaymentMethodStatus.DELETED)
        .first()
        if provider_id
        else None
    )
    if pm is None:
        return None
    card = await _ask(event_id, ctx.provider.retrieve_payment_method(provider_id))
    if card is None:
        return None
    account = await Account.get(id=pm.account_id)
    if card.customer_id is not None and card.customer_id == account.provider_customer_id:
        log.warning("webhook %s: card %s is still attached; nothing applied", event_id, pm.id)
        return None

    async def apply() -> bool:
        await lock_account(pm.account_id)
        # Read again under the lock: a concurrent delete or makeDefault may have moved it.
        current = await PaymentMethod.get(id=pm.id)
        if current.status is PaymentMethodStatus.DELETED:
            return False
        await remove_card(current, ctx.clock.now())
        return True

    return apply


# -- helpers ----------------------------------------------------------------------------


async def _ask(event_id: str, call: Awaitable[T]) -> T | None:
    """A provider read; a refusal (unknown id, not a card) means nothing of ours to apply.
    `ProviderUnavailableError` propagates: the event must be retried, not recorded."""
    try:
        return await call
    except ProviderError as exc:
        log.warning("webhook %s: the provider refused the lookup (%s)", event_id, exc.code)
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
