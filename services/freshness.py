"""How far the billing-event log of some accounts has moved: what an ETag is built on.

Every change a caller can see on the fields the gateway lets a GET revalidate
(gateway/persisted.py, `COVERED`) commits together with its event
(services/events/log.py), so the log's state for the caller's accounts moves exactly
when one of those answers may change. The state is the pair (highest event id, number
of events): on PostgreSQL ids are handed out before commit, so a transaction holding
a lower id can commit after a higher one; the count still moves when it does.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.functions import Count, Max

from models.events import BillingEvent


async def log_position(account_ids: Iterable[int]) -> tuple[int, int]:
    """(highest event id, events) of these accounts, in one statement; (0, 0) for none."""
    ids = sorted(account_ids)
    if not ids:
        return 0, 0
    rows = (
        await BillingEvent.filter(account_id__in=ids)
        .annotate(last=Max("id"), events=Count("id"))
        .values("last", "events")
    )
    if not rows:
        return 0, 0
    return int(rows[0]["last"] or 0), int(rows[0]["events"] or 0)
