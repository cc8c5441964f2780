"""The provider-side customer behind each account, created on first need."""

from __future__ import annotations

from models import Account
from services.context import ServiceContext
from services.errors import ProviderUnavailable
from services.provider.base import ProviderUnavailableError


async def ensure_customer(ctx: ServiceContext, account: Account) -> str:
    """Return the account's provider customer id, creating the customer once.

    The idempotency key is fixed per account, so two concurrent first calls get the
    same customer from the provider; the conditional UPDATE keeps the first id stored.
    """
    if account.provider_customer_id:
        return account.provider_customer_id
    try:
        customer_id = await ctx.provider.create_customer(
            email=account.billing_email or account.email,
            name=account.billing_name or account.name,
            idempotency_key=f"gw-customer-{account.id}-{int(account.created_at.timestamp())}",
        )
    except ProviderUnavailableError as exc:
        raise ProviderUnavailable() from exc
    await Account.filter(id=account.id, provider_customer_id=None).update(
        provider_customer_id=customer_id
    )
    await account.refresh_from_db(fields=["provider_customer_id"])
    assert account.provider_customer_id is not None
    return account.provider_customer_id
