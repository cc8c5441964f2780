"""The billing event log: `append` in the caller's transaction, like the email outbox.

Call `append` next to the state change it announces, inside the same transaction and
only after the change won (a conditional UPDATE that matched), so an event exists
exactly when its change committed:

    async with in_transaction():
        changed = await Invoice.filter(id=..., status=OPEN).update(status=PAID, ...)
        if changed:
            await events.append(INVOICE_PAID, account_id=..., invoice_id=..., now=now)

Order: readers order the log by (txid, id). On PostgreSQL `txid` is the writing
transaction's id and readers see only rows below a horizon: the oldest transaction of
this database still running (or, when none runs, the next id to be assigned), so a row
that commits late can never land behind a cursor a reader already handed out. The
horizon is read before the rows, in its own statements (see `_horizon`). Other
databases on the cluster never hold it back; a long transaction in this one delays
readers (not writers) until it ends. SQLite has one writer at a time: ids are in
commit order.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models.events import BillingEvent, BillingEventType
from services.auth import Principal
from services.errors import InvalidInput, NotFound

#: The PostgreSQL channel every append notifies (at commit) and every fanout listens on.
CHANNEL = "billing_events"
MAX_PAGE = 100
DEFAULT_PAGE = 20

_listeners: list[Callable[[], None]] = []

_COLUMNS = (
    "account_id, type, occurred_at, invoice_id, payment_id, payment_method_id, "
    "subscription_id, notification_id, data"
)


def on_append(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` (synchronously, before commit) after each append in this process;
    returns the function that unregisters it. The in-process fanout's wake-up."""
    _listeners.append(callback)
    return lambda: _listeners.remove(callback)


def _db() -> BaseDBAsyncClient:
    # The connection the caller's `in_transaction()` bound, else the default one.
    return BillingEvent._choose_db(for_write=True)


def is_postgres(db: BaseDBAsyncClient | None = None) -> bool:
    return (db or _db()).capabilities.dialect == "postgres"


async def append(
    type: BillingEventType,
    *,
    account_id: int,
    now: datetime,
    invoice_id: int | None = None,
    payment_id: int | None = None,
    payment_method_id: int | None = None,
    subscription_id: int | None = None,
    notification_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Write one event in the caller's transaction; returns its id.

    On PostgreSQL one statement inserts the row with its transaction id and queues a
    NOTIFY, which PostgreSQL delivers only if (and when) the transaction commits.
    """
    db = _db()
    values: list[Any] = [
        account_id,
        BillingEventType(type).value,
        now,
        invoice_id,
        payment_id,
        payment_method_id,
        subscription_id,
        notification_id,
        json.dumps(data or {}, separators=(",", ":"), default=str),
    ]
    if is_postgres(db):
        sql = (
            f"WITH ins AS (INSERT INTO billing_event (txid, {_COLUMNS}) VALUES "  # noqa: S608
            "(pg_current_xact_id()::text::bigint, $1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb) "
            f"RETURNING id) SELECT id, pg_notify('{CHANNEL}', '') FROM ins"
        )
        rows = await db.execute_query_dict(sql, values)
    else:
        sql = (
            f"INSERT INTO billing_event (txid, {_COLUMNS}) "  # noqa: S608
            "VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
        )
        rows = await db.execute_query_dict(sql, values)
    for callback in list(_listeners):
        callback()
    return int(rows[0]["id"])


@dataclass(frozen=True, order=True)
class Position:
    """A place in the log: after (txid, id). (0, 0) is before the first event."""

    txid: int = 0
    id: int = 0

    @classmethod
    def of(cls, event: BillingEvent) -> Position:
        return cls(int(event.txid), int(event.id))


START = Position()


def encode_cursor(position: Position) -> str:
    raw = f"ev:{position.txid}:{position.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, *, field: str = "after") -> Position:
    try:
        kind, txid, ident = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        position = Position(int(txid), int(ident))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("Invalid cursor.", field=field) from exc
    if kind != "ev" or position.txid < 0 or not 0 <= position.id < 2**63:
        raise InvalidInput("Invalid cursor.", field=field)
    return position


async def read_after(
    position: Position,
    *,
    account_ids: Iterable[int] | None,
    types: Iterable[BillingEventType] | None = None,
    limit: int = 500,
    until: Position | None = None,
) -> list[BillingEvent]:
    """Events after `position` (up to `until`, inclusive), oldest first, that no
    transaction still running can precede. `account_ids=None` reads every account."""
    db = _db()
    where = ["(txid > {p} OR (txid = {p} AND id > {p}))"]
    params: list[Any] = [position.txid, position.txid, position.id]
    if until is not None:
        where.append("(txid < {p} OR (txid = {p} AND id <= {p}))")
        params += [until.txid, until.txid, until.id]
    if account_ids is not None:
        ids = sorted(set(account_ids))
        if not ids:
            return []
        where.append("account_id IN (" + ", ".join("{p}" for _ in ids) + ")")
        params += ids
    type_list = sorted({BillingEventType(t).value for t in types or ()})
    if type_list:
        where.append("type IN (" + ", ".join("{p}" for _ in type_list) + ")")
        params += type_list
    if is_postgres(db):
        where.append("txid < {p}")
        params.append(await _horizon(db))
    sql = (
        "SELECT id FROM billing_event WHERE "  # noqa: S608
        + " AND ".join(where)
        + f" ORDER BY txid, id LIMIT {int(limit)}"
    )
    sql = _placeholders(sql, is_postgres(db))
    rows = await db.execute_query_dict(sql, params)
    ids_in_order = [int(r["id"]) for r in rows]
    if not ids_in_order:
        return []
    by_id = {e.id: e for e in await BillingEvent.filter(id__in=ids_in_order)}
    return [by_id[i] for i in ids_in_order if i in by_id]


async def head() -> Position:
    """The position of the newest event every reader can see now (START when none)."""
    db = _db()
    stable, params = "", []
    if is_postgres(db):
        stable, params = " WHERE txid < $1", [await _horizon(db)]
    rows = await db.execute_query_dict(
        f"SELECT txid, id FROM billing_event{stable} ORDER BY txid DESC, id DESC LIMIT 1",  # noqa: S608
        params,
    )
    return Position(int(rows[0]["txid"]), int(rows[0]["id"])) if rows else START


async def _horizon(db: BaseDBAsyncClient) -> int:
    """PostgreSQL: every row with a txid below this is committed or never will be.

    First the next transaction id to be assigned (X), then the oldest transaction of this
    database still running (each in its own statement, in this order): a transaction with
    an id below X is either seen running by the second read, or has ended before it, and
    then its rows are visible to the rows' read that follows. Read committed only.
    """
    rows = await db.execute_query_dict(
        "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS x"
    )
    next_xid = int(rows[0]["x"])
    rows = await db.execute_query_dict(
        "SELECT min(backend_xid::text::bigint) AS x FROM pg_stat_activity "
        "WHERE datname = current_database() AND backend_xid IS NOT NULL "
        "AND pid <> pg_backend_pid()"
    )
    running = rows[0]["x"]
    return next_xid if running is None else min(next_xid, int(running))


def _placeholders(sql: str, postgres: bool) -> str:
    """Number the `{p}` markers as $1.. (asyncpg) or ? (SQLite), in order."""
    out: list[str] = []
    n = 0
    parts = sql.split("{p}")
    for i, part in enumerate(parts):
        out.append(part)
        if i < len(parts) - 1:
            n += 1
            out.append(f"${n}" if postgres else "?")
    return "".join(out)


@dataclass(frozen=True)
class EventPage:
    events: list[BillingEvent]
    has_next_page: bool
    has_previous_page: bool


#: The one answer to `types: []`, wherever an event-type filter is taken.
EMPTY_TYPES = "Give at least one type, or omit types for all."


def type_filter(
    types: Iterable[BillingEventType] | None, *, field: str = "types"
) -> tuple[BillingEventType, ...] | None:
    """None (types left out): every type. An empty list is refused: read as "every type"
    it would give a client that selected nothing everything."""
    if types is None:
        return None
    chosen = tuple(types)
    if not chosen:
        raise InvalidInput(EMPTY_TYPES, field=field)
    return chosen


async def list_events(
    account_id: int,
    *,
    first: int | None = None,
    after: str | None = None,
    types: Iterable[BillingEventType] | None = None,
) -> EventPage:
    """One account's events, oldest first, after a cursor (catch-up and polling)."""
    types = type_filter(types)
    size = DEFAULT_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE}.", field="first")
    position = decode_cursor(after) if after else START
    rows = await read_after(position, account_ids=[account_id], types=types, limit=size + 1)
    return EventPage(
        events=rows[:size], has_next_page=len(rows) > size, has_previous_page=position != START
    )


async def account_head(account_id: int) -> Position:
    """The position of the account's newest event readers can see now (START if none):
    following `after` it misses nothing that commits later."""
    db = _db()
    where, params = "account_id = {p}", [account_id]
    if is_postgres(db):
        where += " AND txid < {p}"
        params.append(await _horizon(db))
    sql = _placeholders(
        f"SELECT txid, id FROM billing_event WHERE {where} "  # noqa: S608
        "ORDER BY txid DESC, id DESC LIMIT 1",
        is_postgres(db),
    )
    rows = await db.execute_query_dict(sql, params)
    return Position(int(rows[0]["txid"]), int(rows[0]["id"])) if rows else START


async def scoped_event(principal: Principal, event_id: int) -> BillingEvent:
    """An event of an account the caller sees; NotFound otherwise (no existence leak)."""
    event = await BillingEvent.filter(
        id=event_id, account_id__in=sorted(principal.account_ids)
    ).first()
    if event is None:
        raise NotFound()
    return event
