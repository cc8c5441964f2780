"""Settle payments a crash or a timeout left unfinished.

A PENDING payment may or may not have reached the provider: it is sent again with
its own idempotency key, which the provider answers with the first outcome (or
processes now, once). A PROCESSING payment is looked up. Both then go through
settlement's conditional transitions, so racing a webhook or a customer is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from models import Account, Payment, PaymentMethod, PaymentStatus
from services.charging import charge_claimed
from services.context import ServiceContext
from services.errors import BillingError, PaymentDeclined, ProviderUnavailable
from services.provider.base import ProviderUnavailableError
from services.settlement import apply_charge_result, record_failure

log = logging.getLogger(__name__)

#: Re-sends keep failing this long: read the provider's list instead (a stored 5xx).
LOOKUP_AFTER = timedelta(hours=1)
#: Older than this, a re-send is unsafe: the provider may have expired the key.
KEY_EXPIRY_GUARD = timedelta(hours=23)
#: How far before our row's timestamp to list provider charges (clock skew margin).
LOOKUP_WINDOW = timedelta(days=1)


@dataclass
class ReconcileReport:
    examined: int = 0
    settled: int = 0
    errors: list[str] = field(default_factory=list)


async def settle_stale(ctx: ServiceContext, *, limit: int = 50) -> ReconcileReport:
    now = ctx.clock.now()
    cutoff = now - ctx.policy.reconcile_after
    report = ReconcileReport()
    stale = (
        await Payment.filter(
            status__in=[PaymentStatus.PENDING, PaymentStatus.PROCESSING], updated_at__lt=cutoff
        )
        .order_by("updated_at", "id")
        .limit(limit)
    )
    for payment in stale:
        # Lease the row: of two reconcilers, only the one whose UPDATE matches goes on.
        if not await Payment.filter(id=payment.id, updated_at=payment.updated_at).update(
            updated_at=now
        ):
            continue
        report.examined += 1
        try:
            await settle_payment(ctx, payment)
        except (BillingError, ProviderUnavailableError) as exc:
            report.errors.append(getattr(exc, "code", type(exc).__name__))
            continue
        await payment.refresh_from_db()
        if payment.status not in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
            report.settled += 1
    return report


async def settle_payment(ctx: ServiceContext, payment: Payment) -> None:
    """Settle one unfinished payment: the PROCESSING are looked up, the PENDING are
    re-sent under their own key while that is safe, else looked up by payment key.

    Every stale re-send goes through here (the API's retries too), so the key-expiry
    guard holds whoever notices the payment first.
    """
    if payment.status is PaymentStatus.PROCESSING and payment.provider_payment_id:
        result = await ctx.provider.retrieve_charge(payment.provider_payment_id)
        await apply_charge_result(payment, result, ctx.clock.now(), ctx.policy)
        return
    age = ctx.clock.now() - payment.created_at
    pm = (
        await PaymentMethod.get_or_none(id=payment.payment_method_id)
        if payment.payment_method_id
        else None
    )
    if pm is None or age >= KEY_EXPIRY_GUARD:
        # No card to re-send with, or the provider may have forgotten the key (Stripe
        # keeps them 24 h): a re-send could charge again, so look the charge up.
        await _settle_by_lookup(ctx, payment, missing_means_never_sent=True)
        return
    account = await Account.get(id=payment.account_id)
    try:
        await charge_claimed(ctx, payment, pm, account)
    except PaymentDeclined:
        pass  # a decline is an outcome too: recorded on the payment, so it is settled
    except ProviderUnavailable:
        # A stored 5xx is replayed for the key forever; after a while, stop trusting
        # re-sends and read the provider's books instead.
        if age < LOOKUP_AFTER or not await _settle_by_lookup(
            ctx, payment, missing_means_never_sent=False
        ):
            raise


async def _settle_by_lookup(
    ctx: ServiceContext, payment: Payment, *, missing_means_never_sent: bool
) -> bool:
    """Find the payment's PaymentIntent by the payment key in its metadata and apply it.

    Returns whether the payment was settled. When nothing carries our id, the charge
    never reached the provider: with `missing_means_never_sent` it is recorded as failed.
    """
    since = payment.created_at - LOOKUP_WINDOW
    records = [
        r
        for r in await ctx.provider.list_charges(since=since)
        if r.metadata.get("payment_key") == payment.provider_idempotency_key
    ]
    succeeded = [r for r in records if r.charge.status == "succeeded"]
    chosen = succeeded[0] if succeeded else (records[-1] if records else None)
    if chosen is not None:
        await apply_charge_result(payment, chosen.charge, ctx.clock.now(), ctx.policy)
        return True
    if not missing_means_never_sent:
        return False
    await record_failure(
        payment,
        code="not_sent",
        message="The payment never reached the provider; nothing was charged.",
        now=ctx.clock.now(),
        policy=ctx.policy,
    )
    return True
