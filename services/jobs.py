"""Claiming work rows so several workers never run the same job.

On PostgreSQL the candidates are read with `FOR UPDATE SKIP LOCKED`, so concurrent
workers pick disjoint rows without waiting; on SQLite (one writer at a time) the
lock is a no-op. Either way the claim itself is a conditional UPDATE that moves the
row's `next_attempt_at` (a lease): only one caller's UPDATE matches.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

M = TypeVar("M", bound=Model)


async def claim(
    candidates: QuerySet[M], *, lease_until: datetime, limit: int, **claim_fields: Any
) -> list[M]:
    """Claim up to `limit` rows of `candidates` by pushing their `next_attempt_at`."""
    won: list[M] = []
    async with in_transaction():
        rows = (
            await candidates.select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
            .limit(limit)
        )
        for row in rows:
            model = type(row)
            changed = await model.filter(
                pk=row.pk,
                next_attempt_at=row.next_attempt_at,  # type: ignore[attr-defined]
            ).update(next_attempt_at=lease_until, **claim_fields)
            if changed:
                won.append(row)
    return won
