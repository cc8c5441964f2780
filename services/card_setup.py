"""Adding a card, both ways the provider's JS allows (DESIGN.md, "Adding a card").

Setup first: `start_setup` gives the browser a SetupIntent client secret, the browser
collects the card and runs 3-D Secure, then `add_payment_method("seti_...")` stores the
card once the provider says the setup succeeded for this account's customer.
Token first: the browser makes a `pm_...`, `add_payment_method` attaches and confirms
it; when 3-D Secure is needed the card is stored REQUIRES_ACTION until
`confirm_payment_method` sees the setup succeed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from models import Account, CardFunding, PaymentMethod, PaymentMethodStatus
from models.events import BillingEventType as EV
from services.access import check_billing_change, scoped_payment_method, writable_account
from services.addresses import Address
from services.auth import Principal
from services.context import ServiceContext
from services.customers import ensure_customer
from services.errors import (
    CardDeclined,
    InvalidInput,
    NotFound,
    PaymentMethodNotUsable,
    ProviderUnavailable,
)
from services.events import log as events
from services.payment_methods import detach_quietly, is_expired, lock_account, set_default
from services.provider.base import (
    CardDetails,
    ProviderError,
    ProviderUnavailableError,
    SetupResult,
)

_TOKEN = re.compile(r"^(pm|seti)_[A-Za-z0-9_]{4,120}$")


@dataclass(frozen=True)
class NextAction:
    """What the browser must do next (3-D Secure): hand `client_secret` to Stripe.js."""

    type: str
    client_secret: str | None
    redirect_url: str | None = None


@dataclass(frozen=True)
class SetupStarted:
    setup_intent_id: str
    client_secret: str


async def start_setup(
    ctx: ServiceContext, principal: Principal, account_id: int | None
) -> SetupStarted:
    account = await writable_account(principal, account_id)
    customer_id = await ensure_customer(ctx, account)
    try:
        result = await ctx.provider.create_setup_intent(customer_id=customer_id)
    except ProviderUnavailableError as exc:
        raise ProviderUnavailable() from exc
    assert result.client_secret is not None
    return SetupStarted(setup_intent_id=result.setup_intent_id, client_secret=result.client_secret)


async def add_payment_method(
    ctx: ServiceContext,
    principal: Principal,
    account_id: int | None,
    provider_token: str,
    *,
    make_default: bool = False,
    billing_address: Address | None = None,
) -> tuple[PaymentMethod, NextAction | None]:
    account = await writable_account(principal, account_id)
    token = provider_token.strip()
    if not _TOKEN.match(token):
        raise InvalidInput(
            "providerToken must be a payment method (pm_...) or setup (seti_...) id "
            "from the provider's JS.",
            field="providerToken",
        )
    address = billing_address.cleaned("billingAddress") if billing_address else None
    existing = (
        await PaymentMethod.filter(account_id=account.id)
        .exclude(status=PaymentMethodStatus.DELETED)
        .filter(
            **({"provider_id": token} if token.startswith("pm_") else {"setup_intent_id": token})
        )
        .first()
    )
    if existing is not None:  # the same token twice: answer with the card already stored
        return existing, _next_action(existing)
    customer_id = await ensure_customer(ctx, account)
    try:
        if token.startswith("pm_"):
            result = await ctx.provider.setup_payment_method(
                customer_id=customer_id,
                payment_method_id=token,
                idempotency_key=f"gw-setup-{account.id}-{token}",
            )
        else:
            result = await _finished_setup(ctx, token, customer_id)
    except ProviderUnavailableError as exc:
        raise ProviderUnavailable() from exc
    except ProviderError as exc:
        raise InvalidInput(
            "The provider did not accept this card token; collect the card again.",
            field="providerToken",
        ) from exc
    if result.card is None and result.status in ("requires_action", "processing"):
        # A setup the browser has not confirmed: nothing was refused, it is not done yet.
        raise PaymentMethodNotUsable(
            "This card setup is not confirmed yet: finish the card form (and your bank's "
            "3-D Secure check, if asked), then add the card again.",
            field="providerToken",
            status=PaymentMethodStatus.REQUIRES_ACTION.value,
        )
    if result.status == "failed" or result.card is None:
        raise CardDeclined(result.failure_message, decline_code=result.failure_code)
    if is_expired(result.card.exp_month, result.card.exp_year, ctx.clock.now()):
        # Stripe refuses an expired card when it is tokenized; a provider that let one
        # through gets it back: detached if it is on the customer, nothing stored.
        if result.card.customer_id is not None or token.startswith("pm_"):
            await detach_quietly(ctx, result.card.payment_method_id)
        raise expired_card(result.card)
    status = (
        PaymentMethodStatus.ACTIVE
        if result.status == "succeeded"
        else PaymentMethodStatus.REQUIRES_ACTION
    )
    pm = await _store_card(
        account, result, result.card, status, make_default, address, ctx.clock.now()
    )
    return pm, _next_action(pm)


async def _finished_setup(ctx: ServiceContext, setup_id: str, customer_id: str) -> SetupResult:
    """A setup the browser confirmed: it must be this customer's, then attach its card
    (not an expired one: it is refused before it is attached)."""
    try:
        result = await ctx.provider.retrieve_setup_intent(setup_id)
    except ProviderError as exc:  # unknown: worded as another customer's setup
        raise NotFound(field="providerToken") from exc
    if result.customer_id != customer_id:
        raise NotFound(field="providerToken")
    if result.card is not None and is_expired(
        result.card.exp_month, result.card.exp_year, ctx.clock.now()
    ):
        return result
    if result.status == "succeeded" and result.payment_method_id:
        # The sandbox leaves a browser-confirmed card unattached; Stripe has attached it.
        card = await ctx.provider.attach_payment_method(
            payment_method_id=result.payment_method_id, customer_id=customer_id
        )
        return SetupResult(
            setup_intent_id=result.setup_intent_id,
            status="succeeded",
            client_secret=result.client_secret,
            customer_id=customer_id,
            payment_method_id=result.payment_method_id,
            card=card,
        )
    return result


async def _store_card(
    account: Account,
    result: SetupResult,
    card: CardDetails,
    status: PaymentMethodStatus,
    make_default: bool,
    address: Address | None,
    now: datetime,
) -> PaymentMethod:
    if address is None and card.billing_address is not None:
        address = Address(**vars(card.billing_address))
    async with in_transaction():
        await lock_account(account.id)
        dup = (
            await PaymentMethod.filter(account_id=account.id, provider_id=card.payment_method_id)
            .exclude(status=PaymentMethodStatus.DELETED)
            .first()
        )
        if dup is not None:
            return dup
        has_default = await PaymentMethod.filter(account_id=account.id, is_default=True).exists()
        pm = await PaymentMethod.create(
            account_id=account.id,
            provider_id=card.payment_method_id,
            setup_intent_id=result.setup_intent_id,
            setup_client_secret=result.client_secret
            if status is not PaymentMethodStatus.ACTIVE
            else None,
            brand=card.brand,
            last4=card.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            funding=_funding(card.funding),
            status=status,
            make_default_on_confirm=make_default or not has_default,
            created_at=now,
            **(address.columns() if address else {}),  # type: ignore[arg-type]
        )
        await events.append(
            EV.PAYMENT_METHOD_ADDED, account_id=account.id, payment_method_id=pm.id, now=now
        )
        if status is PaymentMethodStatus.ACTIVE and (make_default or not has_default):
            await set_default(account.id, pm.id, now)
        await pm.refresh_from_db()
    return pm


async def confirm_payment_method(
    ctx: ServiceContext, principal: Principal, pm_id: int
) -> tuple[PaymentMethod, NextAction | None]:
    """Finish a card that needed 3-D Secure, once the provider says the setup succeeded."""
    pm = await scoped_payment_method(principal, pm_id)
    account = await Account.get(id=pm.account_id)
    check_billing_change(principal, account)
    if pm.status is not PaymentMethodStatus.REQUIRES_ACTION or pm.setup_intent_id is None:
        return pm, None
    try:
        result = await ctx.provider.retrieve_setup_intent(pm.setup_intent_id)
    except ProviderUnavailableError as exc:
        raise ProviderUnavailable() from exc
    except ProviderError as exc:
        raise NotFound(field="paymentMethodId") from exc
    if result.status in ("requires_action", "processing"):
        return pm, _next_action(pm)
    if result.status == "succeeded" and is_expired(pm.exp_month, pm.exp_year, ctx.clock.now()):
        # Verified too late: the card expired while it waited for 3-D Secure.
        await settle_card_setup(pm.id, succeeded=False, now=ctx.clock.now())
        await detach_quietly(ctx, pm.provider_id)
        raise expired_card(pm)
    if result.status == "succeeded" and result.card is not None and result.card.customer_id is None:
        # Setup first, 3-D Secure finished later: the sandbox leaves the card unattached
        # (Stripe has attached it), so it could not be charged for this customer.
        try:
            await ctx.provider.attach_payment_method(
                payment_method_id=pm.provider_id, customer_id=await ensure_customer(ctx, account)
            )
        except ProviderUnavailableError as exc:
            raise ProviderUnavailable() from exc
        except ProviderError as exc:
            raise CardDeclined(decline_code=exc.code) from exc
    current = await settle_card_setup(
        pm.id, succeeded=result.status != "failed", now=ctx.clock.now()
    )
    if current.status is not PaymentMethodStatus.DELETED and current.status is not (
        PaymentMethodStatus.ACTIVE
    ):
        return current, _next_action(current)
    if result.status == "failed":
        await detach_quietly(ctx, pm.provider_id)
        raise CardDeclined(result.failure_message, decline_code=result.failure_code)
    await pm.refresh_from_db()
    return pm, None


async def settle_card_setup(pm_id: int, *, succeeded: bool, now: datetime) -> PaymentMethod:
    """A REQUIRES_ACTION card's setup ended (confirm call or webhook): apply it once.

    Under the account lock; a card already settled is returned unchanged. A card that
    becomes ACTIVE is the default if it asked to be or the account has none; one that
    expired while it waited is removed instead, so it can never become the default.
    """
    pm = await PaymentMethod.get(id=pm_id)
    async with in_transaction():
        await lock_account(pm.account_id)
        current = await PaymentMethod.get(id=pm_id)
        if current.status is not PaymentMethodStatus.REQUIRES_ACTION:
            return current
        if is_expired(current.exp_month, current.exp_year, now):
            succeeded = False  # verified too late: an expired card is never added
        if not succeeded:
            await PaymentMethod.filter(id=pm_id).update(
                status=PaymentMethodStatus.DELETED, deleted_at=now, is_default=False
            )
            await events.append(
                EV.PAYMENT_METHOD_REMOVED,
                account_id=current.account_id,
                payment_method_id=pm_id,
                now=now,
            )
        else:
            await PaymentMethod.filter(id=pm_id).update(
                status=PaymentMethodStatus.ACTIVE, setup_client_secret=None
            )
            await events.append(
                EV.PAYMENT_METHOD_UPDATED,
                account_id=current.account_id,
                payment_method_id=pm_id,
                now=now,
            )
            has_default = await PaymentMethod.filter(
                account_id=current.account_id, is_default=True
            ).exists()
            if current.make_default_on_confirm or not has_default:
                await set_default(current.account_id, pm_id, now)
        await current.refresh_from_db()
    return current


def expired_card(card: CardDetails | PaymentMethod) -> CardDeclined:
    """CARD_DECLINED with Stripe's own code for it: the add-card form asks for another card."""
    return CardDeclined(
        f"This card expired at the end of {card.exp_month:02d}/{card.exp_year}; use another card.",
        decline_code="expired_card",
    )


def _next_action(pm: PaymentMethod) -> NextAction | None:
    if pm.status is not PaymentMethodStatus.REQUIRES_ACTION:
        return None
    return NextAction(type="use_stripe_sdk", client_secret=pm.setup_client_secret)


def _funding(value: str) -> CardFunding:
    try:
        return CardFunding(value.upper())
    except ValueError:
        return CardFunding.UNKNOWN
