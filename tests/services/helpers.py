"""Assertions shared by the service tests: a refusal changes nothing anywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from models import Account, Invoice, Payment, PaymentMethod, Subscription
from services.errors import BillingError
from services.provider.recording import RecordingProvider

_MODELS = (Account, Subscription, PaymentMethod, Invoice, Payment)


async def db_rows() -> dict[str, list[dict[str, Any]]]:
    """Every row of the billing tables, in id order: equal before and after = untouched."""
    return {m.__name__: await m.all().order_by("id").values() for m in _MODELS}


@asynccontextmanager
async def refused(
    provider: RecordingProvider,
    error: type[BillingError],
    *,
    provider_calls: bool = False,
) -> AsyncIterator[pytest.ExceptionInfo[BillingError]]:
    """Expect `error` from the block, no provider call (unless allowed) and no row changed.

    async with refused(provider, NotFound) as info:
        await make_default(...)
    assert info.value.field == "paymentMethodId"
    """
    before = await db_rows()
    provider.reset()
    with pytest.raises(error) as info:
        yield info
    if not provider_calls:
        assert provider.calls == []
    assert await db_rows() == before


async def defaults_of(account: Account) -> list[int]:
    """Ids of the account's default cards (the rule: exactly one while it has cards)."""
    return list(
        await PaymentMethod.filter(account_id=account.id, is_default=True).values_list(
            "id", flat=True
        )
    )
