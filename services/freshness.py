"""How far the billing state of some accounts has moved: what an ETag is built on.

Every change a caller can see on the fields the gateway lets a GET revalidate
(gateway/persisted.py, `COVERED`) commits together with its event
(services/events/log.py), except a payment's first steps: a claimed payment is
PENDING before the provider answers (and stays so while the provider is unreachable)
and may turn PROCESSING; neither writes an event. So the position is the log's state
for the caller's accounts (highest event id, number of events: on PostgreSQL ids are
handed out before commit, so a transaction holding a lower id can commit after a higher
one; the count still moves when it does) plus their payments' (highest id, and how
many are PENDING and PROCESSING): it moves whenever one of those answers may change.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise import connections

from models.enums import PaymentStatus

Position = tuple[int, int, int, int, int]


async def log_position(account_ids: Iterable[int]) -> Position:
    """The accounts' position, in one statement; all zeros for none.

    Plain SQL: it runs before every revalidated GET, and Tortoise's aggregate query
    building cost a third of a 304 (bench/NOTES.md).
    """
    ids = sorted(account_ids)
    if not ids:
        return 0, 0, 0, 0, 0
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    # numbered placeholders, each id sent once and used by every subquery
    marks = ", ".join(f"${n}" if postgres else f"?{n}" for n in range(1, len(ids) + 1))
    n = len(ids)
    pending, processing = (f"${n + 1}", f"${n + 2}") if postgres else (f"?{n + 1}", f"?{n + 2}")
    mine = f'"account_id" IN ({marks})'
    sql = (  # only placeholders are interpolated; the values go as parameters
        f'SELECT (SELECT MAX("id") FROM "billing_event" WHERE {mine}), '  # noqa: S608
        f'(SELECT COUNT(*) FROM "billing_event" WHERE {mine}), '
        f'(SELECT MAX("id") FROM "payment" WHERE {mine}), '
        f'(SELECT COUNT(*) FROM "payment" WHERE {mine} AND "status" = {pending}), '
        f'(SELECT COUNT(*) FROM "payment" WHERE {mine} AND "status" = {processing})'
    )
    params = [*ids, PaymentStatus.PENDING.value, PaymentStatus.PROCESSING.value]
    _, rows = await conn.execute_query(sql, params)
    values = tuple(int(v or 0) for v in rows[0]) if rows else (0, 0, 0, 0, 0)
    last, events, payment, pendings, processings = values
    return last, events, payment, pendings, processings
