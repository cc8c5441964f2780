"""The `billingEvents` subscription over SSE and graphql-transport-ws: live delivery,
replay with `after` (no gap, no duplicate, also under concurrent commits), isolation,
auth at connect and revocation, limits."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
import websockets
from tortoise.transactions import in_transaction

from models import Account, ApiKeyRole, BillingEvent, BillingEventType
from services.api_keys import revoke_api_key
from services.auth import create_partner_key
from services.billing_info import update_billing_info
from services.events import fanout, log
from tests.conftest import NOW
from tests.events.conftest import SUBSCRIPTION, Gateway, sse, streams_open
from tests.factories import admin_of, api_key, make_account
from tests.graphql.helpers import gid

pytestmark = pytest.mark.usefixtures("db")
INFO_UPDATED = BillingEventType.BILLING_INFO_UPDATED
WS = ["graphql-transport-ws"]


def _init(key: str) -> str:
    return json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})


async def _append(account: Account, n: int = 1) -> list[int]:
    ids = []
    for _ in range(n):
        async with in_transaction():
            ids.append(
                await log.append(
                    BillingEventType.BILLING_INFO_UPDATED, account_id=account.id, now=NOW
                )
            )
    return ids


async def test_a_change_reaches_a_live_sse_subscriber(gateway: Gateway) -> None:
    alice = await make_account()
    async with sse(gateway, await api_key(alice)) as stream:
        await update_billing_info(admin_of(alice), alice.id, name="Alice GmbH", now=NOW)

        message = await stream.next_message()

    event = message["data"]["billingEvents"]
    assert event["type"] == "BILLING_INFO_UPDATED"
    assert event["account"]["id"] == gid("Account", alice.id)


async def test_after_replays_then_goes_live_without_gap_or_duplicate(gateway: Gateway) -> None:
    # given five events, and a cursor after the second
    alice = await make_account()
    ids = await _append(alice, 5)
    page = await log.list_events(alice.id, first=2)
    cursor = log.encode_cursor(log.Position.of(page.events[-1]))

    # when a client resumes after it while more events commit concurrently
    async def writer() -> list[int]:
        written = []
        for _ in range(30):
            written += await _append(alice)
            await asyncio.sleep(0)
        return written

    received: list[int] = []
    async with sse(gateway, await api_key(alice), {"after": cursor}) as stream:
        more = await writer()
        expected = ids[2:] + more
        while len(received) < len(expected):
            message = await stream.next_message()
            event_id = message["data"]["billingEvents"]["id"]
            received.append(int(_pk(event_id)))

    # then every event after the cursor arrives once, in log order
    assert received == expected


async def test_isolation_between_accounts_and_partner_scope(gateway: Gateway) -> None:
    alice = await make_account()
    bob = await make_account("bob@example.test", name="Bob")
    carol = await make_account("carol@example.test", name="Carol")
    partner = await create_partner_key(account_emails=[alice.email, bob.email], now=NOW)
    async with (
        sse(gateway, await api_key(alice, ApiKeyRole.VIEWER)) as alices,
        sse(gateway, partner) as partners,
    ):
        await _append(carol)
        await _append(bob)
        await _append(alice)

        alice_sees = await alices.next_message()
        first, second = await partners.next_message(), await partners.next_message()

    assert alice_sees["data"]["billingEvents"]["account"]["id"] == gid("Account", alice.id)
    assert [m["data"]["billingEvents"]["account"]["id"] for m in (first, second)] == [
        gid("Account", bob.id),
        gid("Account", alice.id),
    ]


async def test_another_accounts_id_is_not_found(gateway: Gateway) -> None:
    alice = await make_account()
    bob = await make_account("bob@example.test", name="Bob")
    async with sse(
        gateway, await api_key(alice), {"a": gid("Account", bob.id)}, live=False
    ) as stream:
        message = await stream.next_message()
    assert message["data"] is None
    assert message["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_revoked_key_ends_the_stream_within_seconds(gateway: Gateway) -> None:
    alice = await make_account()
    key = await api_key(alice)
    async with sse(gateway, key) as stream:
        await revoke_api_key(prefix=key.split("_")[1], now=NOW)

        message = await stream.next_message(within=3)
        end = await stream.next_message(within=3)

    assert message["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert end == {"complete": True}


async def test_graphql_transport_ws_authenticates_at_connect_and_streams(gateway: Gateway) -> None:
    alice = await make_account()
    key = await api_key(alice)
    async with websockets.connect(gateway.ws_url, subprotocols=WS) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        )
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        before = fanout.current().stream_count
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        )
        await streams_open(before + 1)
        await _append(alice)

        message = json.loads(await asyncio.wait_for(ws.recv(), 5))

    assert message["type"] == "next" and message["id"] == "1"
    assert message["payload"]["data"]["billingEvents"]["type"] == "BILLING_INFO_UPDATED"


async def test_graphql_transport_ws_refuses_a_bad_key_and_closes_on_revocation(
    gateway: Gateway,
) -> None:
    alice = await make_account()
    async with websockets.connect(gateway.ws_url, subprotocols=WS) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer bgw_x_y"}})
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

    key = await api_key(alice)
    async with websockets.connect(gateway.ws_url, subprotocols=WS) as ws:
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}})
        )
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        await revoke_api_key(prefix=key.split("_")[1], now=NOW)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_a_slow_consumer_is_closed_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "STREAM_BUFFER", 3)
    alice = await make_account()
    tail = fanout.Fanout()
    await tail.start()
    try:
        stream = tail.open("key:a", frozenset({alice.id}))
        await _append(alice, 5)
        for _ in range(100):
            if stream.overflowed:
                break
            await asyncio.sleep(0.02)
        with pytest.raises(fanout.SlowConsumer):
            for _ in range(5):
                await stream.next(0.1)
    finally:
        await tail.stop()


async def test_stop_ends_the_tailer_even_when_a_wake_up_lands_with_the_cancel() -> None:
    """The hang of the reconnect test: a NOTIFY set the wake-up just before stop()
    cancelled the tailer, asyncio.wait_for (Python 3.11) swallowed the cancel, and
    stop() waited on a tailer that went on forever."""
    tail = fanout.Fanout()
    await tail.start()
    tailer = tail._task
    assert tailer is not None
    await asyncio.sleep(0)  # the tailer waits for a wake-up

    tail._wake.set()  # and stop() cancels it before it resumes
    async with asyncio.timeout(10):
        await tail.stop()

    assert tailer.cancelled()


async def test_a_stream_wait_cancelled_as_its_wake_up_lands_is_cancelled() -> None:
    stream = fanout.Fanout().open("key:a", frozenset({1}))
    waiting = asyncio.create_task(stream.next(60))
    await asyncio.sleep(0)  # it waits for a wake-up

    stream.wake.set()  # and its consumer is cancelled (a client gone) before it resumes
    waiting.cancel()
    await asyncio.wait({waiting}, timeout=5)

    assert waiting.cancelled()


async def test_a_key_holds_a_bounded_number_of_streams() -> None:
    tail = fanout.Fanout()
    streams = [tail.open("key:a", frozenset({1})) for _ in range(fanout.MAX_STREAMS_PER_CALLER)]
    with pytest.raises(fanout.TooManyStreams):
        tail.open("key:a", frozenset({1}))
    tail.open("key:b", frozenset({1}))  # another key is not affected
    tail.close(streams[0])
    tail.open("key:a", frozenset({1}))


def _pk(global_id: str) -> str:
    import base64

    return base64.b64decode(global_id).decode().split(":")[1]


async def test_events_tail_prints_an_accounts_events_as_they_happen(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    from gateway.cli_events import tail

    alice = await make_account()
    before = fanout.current().stream_count
    task = asyncio.create_task(tail(gateway.base_url, await api_key(alice), alice.email, None))
    try:
        await streams_open(before + 1)
        await update_billing_info(admin_of(alice), alice.id, name="Alice GmbH", now=NOW)
        for _ in range(100):
            if "BILLING_INFO_UPDATED" in capsys.readouterr().out:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("events tail printed nothing")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_no_gap_and_no_duplicate_when_transactions_commit_out_of_order() -> None:
    """Writers whose transactions overlap (an id taken early, committed late) while a
    stream replays from the start and then follows live: every event arrives once."""
    import random

    alice = await make_account()
    rng = random.Random(7)
    await _append(alice, 5)  # some history to replay
    tail = fanout.Fanout()
    await tail.start()
    written: list[int] = []

    async def writer() -> None:
        for _ in range(8):
            async with in_transaction():
                written.append(await log.append(INFO_UPDATED, account_id=alice.id, now=NOW))
                await asyncio.sleep(rng.random() * 0.03)  # commit late, after others
            await asyncio.sleep(rng.random() * 0.01)

    received: list[int] = []

    async def reader() -> None:
        async for event in fanout.follow(
            tail, caller="key:r", account_ids=frozenset({alice.id}), after=log.START, idle_s=0.05
        ):
            if event is not None:
                received.append(event.id)
            if len(received) >= 5 + 6 * 8:
                return

    try:
        reading = asyncio.create_task(reader())
        await asyncio.gather(*(writer() for _ in range(6)))
        await asyncio.wait_for(reading, 15)
    finally:
        await tail.stop()

    assert len(received) == len(set(received)) == 5 + 6 * 8
    assert set(written) <= set(received)


async def test_sse_without_a_valid_credential_is_refused_before_streaming(gateway: Gateway) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=gateway.base_url) as http:
        for headers in ({}, {"Authorization": "Bearer bgw_nope_nope"}):
            response = await http.post(
                "/graphql",
                json={"query": SUBSCRIPTION},
                headers={"Accept": "text/event-stream", **headers},
            )
            assert response.status_code == 401, response.text
    assert fanout.current().stream_count == 0


@pytest.mark.postgres
async def test_the_fanout_listens_again_after_its_connection_drops(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a NOTIFY wakes this tailer (no poll within the test, no in-process wake-up: as
    in another gateway process), so the last event arrives only if it LISTENs again."""
    from tortoise import connections

    monkeypatch.setattr(fanout, "POLL_INTERVAL_S", 600.0)
    monkeypatch.setattr(log, "on_append", lambda _callback: lambda: None)
    reads = 0
    read_after = log.read_after

    async def counted_read_after(*args: Any, **kwargs: Any) -> list[BillingEvent]:
        nonlocal reads
        reads += 1
        return await read_after(*args, **kwargs)

    monkeypatch.setattr(log, "read_after", counted_read_after)

    async def tailer_idle() -> None:
        """Until the tailer stops reading on its own (its retries after a wake-up end)."""
        async with asyncio.timeout(30):
            seen = -1
            while seen != reads:
                seen = reads
                await asyncio.sleep(0.3)

    alice = await make_account()
    tail = fanout.Fanout(database_url)
    await tail.start()
    try:
        stream = tail.open("key:a", frozenset({alice.id}))
        await _append(alice)
        assert await stream.next(5) is not None  # heard through LISTEN/NOTIFY

        # when the server drops the LISTEN connection (a restart, a failover)
        old_pid = tail._listener.get_server_pid()
        await connections.get("default").execute_query("SELECT pg_terminate_backend($1)", [old_pid])
        for _ in range(200):
            listener = tail._listener
            if not listener.is_closed() and listener.get_server_pid() != old_pid:
                break
            await asyncio.sleep(0.025)
        else:
            raise AssertionError("the fanout did not LISTEN again within 5 s of the drop")
        await tailer_idle()  # the catch-up reads after the drop are over

        # then an event committed now arrives, and only a NOTIFY can have woken the tailer
        await _append(alice)
        assert await stream.next(5) is not None
    finally:
        async with asyncio.timeout(10):
            await tail.stop()
