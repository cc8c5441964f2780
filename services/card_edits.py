"""Editing a card on file: its expiry and billing address ("Edit your existing payment
method"). The provider is told first, outside any transaction; only once it accepted
is the change recorded here, so our copy never claims what the provider refused.
An EXPIRED card given a future expiry reads ACTIVE again (the status is computed from
the expiry, services/payment_methods.py)."""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from models import Account, PaymentMethod, PaymentMethodStatus
from models.events import BillingEventType as EV
from services import notifications
from services.access import check_billing_change, scoped_payment_method
from services.addresses import Address
from services.auth import Principal
from services.context import ServiceContext
from services.errors import CardDeclined, InvalidInput, NotFound, ProviderUnavailable
from services.events import log as events
from services.provider.base import ProviderAddress, ProviderError, ProviderUnavailableError

#: Cards are not issued for longer than this many years ahead.
MAX_YEARS_AHEAD = 20


def checked_expiry(
    pm: PaymentMethod, exp_month: int | None, exp_year: int | None, now: datetime
) -> tuple[int, int]:
    """The card's expiry after the edit; InvalidInput when it is not a real future month."""
    if exp_month is not None and not 1 <= exp_month <= 12:
        raise InvalidInput("expMonth must be between 1 and 12.", field="expMonth")
    if exp_year is not None and not now.year <= exp_year <= now.year + MAX_YEARS_AHEAD:
        raise InvalidInput(
            f"expYear must be a four-digit year from {now.year} to {now.year + MAX_YEARS_AHEAD}.",
            field="expYear",
        )
    month = exp_month if exp_month is not None else pm.exp_month
    year = exp_year if exp_year is not None else pm.exp_year
    if (year, month) < (now.year, now.month) and exp_month is None and exp_year is None:
        raise InvalidInput(
            f"This card expired in {month:02d}/{year}: give a new expiry (expMonth, expYear)"
            " with the address.",
            field="expMonth",
        )
    if (year, month) < (now.year, now.month):
        raise InvalidInput(
            "That expiry date is in the past.",
            field="expYear" if exp_year is not None else "expMonth",
        )
    return month, year


async def update_payment_method(
    ctx: ServiceContext,
    principal: Principal,
    pm_id: int,
    *,
    exp_month: int | None = None,
    exp_year: int | None = None,
    billing_address: Address | None = None,
) -> PaymentMethod:
    pm = await scoped_payment_method(principal, pm_id)
    check_billing_change(principal, await Account.get(id=pm.account_id))
    if exp_month is None and exp_year is None and billing_address is None:
        raise InvalidInput(
            "Give a new expiry (expMonth, expYear) or a billingAddress.", field="paymentMethodId"
        )
    now = ctx.clock.now()
    month, year = checked_expiry(pm, exp_month, exp_year, now)
    address = billing_address.cleaned("billingAddress") if billing_address is not None else None
    if address is not None and not any(address.as_dict().values()):
        # Stored as is, an empty address would erase the card's current one.
        raise InvalidInput(
            "billingAddress is empty: give at least one part (e.g. country) or leave it out.",
            field="billingAddress",
        )
    try:
        await ctx.provider.update_payment_method(
            payment_method_id=pm.provider_id,
            exp_month=month if exp_month is not None or exp_year is not None else None,
            exp_year=year if exp_month is not None or exp_year is not None else None,
            billing_address=ProviderAddress(**address.as_dict()) if address else None,
        )
    except ProviderUnavailableError as exc:
        raise ProviderUnavailable() from exc
    except ProviderError as exc:
        raise CardDeclined(
            "The card issuer refused this change; check the details or add the card again.",
            decline_code=exc.code,
        ) from exc
    changes: dict[str, object] = {"exp_month": month, "exp_year": year}
    if address is not None:
        changes.update(address.columns())
    async with in_transaction():
        changed = (
            await PaymentMethod.filter(id=pm.id)
            .exclude(status=PaymentMethodStatus.DELETED)
            .update(**changes)
        )
        if changed:
            await events.append(
                EV.PAYMENT_METHOD_UPDATED,
                account_id=pm.account_id,
                payment_method_id=pm.id,
                now=now,
            )
            await notifications.enqueue(
                template="payment_method_updated",
                account=await Account.get(id=pm.account_id),
                dedupe_key=f"payment-method-updated:{pm.id}:{now.isoformat()}",
                context={
                    "card": f"{pm.brand.title()} card ending {pm.last4}",
                    "expiry": f"{month:02d}/{year}",
                    "country": address.country if address is not None else None,
                    "portal_url": ctx.policy.portal_url,
                },
                now=now,
            )
    if not changed:  # deleted while the provider was being told
        raise NotFound(field="paymentMethodId")
    return await PaymentMethod.get(id=pm.id)
