"""Helpers for the GraphQL tests: global IDs, a snapshot of every billing table."""

from __future__ import annotations

from typing import Any

from models import Account, Invoice, InvoiceLine, Payment, PaymentMethod, Subscription
from resolvers.ids import to_global_id

_TABLES = (Account, Subscription, PaymentMethod, Invoice, InvoiceLine, Payment)


def gid(type_name: str, pk: int) -> str:
    """The Relay ID a client would have read from an earlier response."""
    return to_global_id(type_name, pk)


async def db_state() -> dict[str, list[dict[str, Any]]]:
    """Every row of the billing tables, to assert a refused request changed nothing."""
    return {
        model.__name__: await model.all().order_by("id").values() for model in _TABLES
    }
