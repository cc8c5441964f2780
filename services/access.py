"""Scoped lookups: every record is found through the caller's accounts.

A record of another account is NotFound, never PermissionDenied, so ids leak nothing.
The write checks run in a fixed order: found, then role, then Enterprise.
"""

from __future__ import annotations

from models import (
    Account,
    Invoice,
    Notification,
    Payment,
    PaymentMethod,
    PaymentMethodStatus,
    PlanTier,
    Subscription,
)
from services.auth import Principal
from services.errors import InvalidInput, NotFound, PermissionDenied, SelfServiceUnavailable


async def readable_account(principal: Principal, account_id: int | None) -> Account:
    """The account named, or the caller's only account when none is named."""
    if account_id is None:
        if len(principal.account_ids) != 1:
            raise InvalidInput("This key sees several accounts: pass accountId.", field="accountId")
        (account_id,) = principal.account_ids
    if not principal.sees(account_id):
        raise NotFound(field="accountId")
    account = await Account.get_or_none(id=account_id)
    if account is None:
        raise NotFound(field="accountId")
    return account


def check_billing_change(principal: Principal, account: Account) -> None:
    """Raise unless this caller may change this account's billing."""
    if not principal.can_write_to(account.id):
        raise PermissionDenied()
    if account.tier is PlanTier.ENTERPRISE:
        raise SelfServiceUnavailable()


async def writable_account(principal: Principal, account_id: int | None) -> Account:
    account = await readable_account(principal, account_id)
    check_billing_change(principal, account)
    return account


async def scoped_payment_method(principal: Principal, payment_method_id: int) -> PaymentMethod:
    pm = (
        await PaymentMethod.filter(id=payment_method_id, account_id__in=list(principal.account_ids))
        .exclude(status=PaymentMethodStatus.DELETED)
        .first()
    )
    if pm is None:
        raise NotFound(field="paymentMethodId")
    return pm


async def scoped_invoice(principal: Principal, invoice_id: int) -> Invoice:
    invoice = await Invoice.filter(
        id=invoice_id, account_id__in=list(principal.account_ids)
    ).first()
    if invoice is None:
        raise NotFound(field="invoiceId")
    return invoice


async def scoped_payment(principal: Principal, payment_id: int) -> Payment:
    payment = await Payment.filter(
        id=payment_id, account_id__in=list(principal.account_ids)
    ).first()
    if payment is None:
        raise NotFound(field="paymentId")
    return payment


async def scoped_notification(principal: Principal, notification_id: int) -> Notification:
    note = (
        await Notification.filter(id=notification_id, account_id__in=list(principal.account_ids))
        .select_related("meter")
        .first()
    )
    if note is None:
        raise NotFound()
    return note


async def scoped_subscription(principal: Principal, subscription_id: int) -> Subscription:
    sub = await Subscription.filter(
        id=subscription_id, account_id__in=list(principal.account_ids)
    ).first()
    if sub is None:
        raise NotFound()
    return sub
