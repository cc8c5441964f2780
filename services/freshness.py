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

from tortoise import connections


async def log_position(account_ids: Iterable[int]) -> tuple[int, int]:
    """(highest event id, events) of these accounts, in one statement; (0, 0) for none.

    Plain SQL: it runs before every revalidated GET, and Tortoise's aggregate query
    building cost a third of a 304 (bench/NOTES.md).
    """
    ids = sorted(account_ids)
    if not ids:
        return 0, 0
    conn = connections.get("default")
    postgres = conn.capabilities.dialect == "postgres"
    marks = ", ".join(f"${n}" if postgres else "?" for n in range(1, len(ids) + 1))
    # only placeholders are interpolated; the ids go as parameters
    sql = f'SELECT MAX("id"), COUNT(*) FROM "billing_event" WHERE "account_id" IN ({marks})'  # noqa: S608
    _, rows = await conn.execute_query(sql, ids)
    last, events = tuple(rows[0]) if rows else (0, 0)
    return int(last or 0), int(events or 0)
