"""Outgoing webhooks: registration (roles, isolation, the SSRF guard), signed delivery a
Standard Webhooks receiver accepts, retries with backoff, every attempt readable, secret
rotation, an endpoint disabled after days of failure (with an email), at-least-once
through a worker killed mid-delivery."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web
from standardwebhooks import Webhook

from models import (
    ApiKeyRole,
    OutboxMessage,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from services.auth import create_partner_key
from services.billing_info import update_billing_info
from services.clock import FixedClock
from services.context import ServiceContext
from services.errors import InvalidInput
from services.events import targets, webhooks
from services.events.targets import TargetPolicy
from tests.conftest import NOW
from tests.factories import admin_of, api_key, gql, make_account
from tests.graphql.helpers import db_state, gid

pytestmark = pytest.mark.usefixtures("db")

LOOPBACK = TargetPolicy(require_https=False, allowed=("127.0.0.0/8",))
PRODUCTION = TargetPolicy(require_https=True)

CREATE = """mutation($url: String!, $a: ID, $types: [BillingEventType!]) {
  createWebhookEndpoint(input: {url: $url, accountId: $a, types: $types}) {
    __typename ... on UserError { code message field }
    ... on WebhookEndpointSecretSuccess { secret endpoint { id url types enabled account { id } } }
  }
}"""
DELIVERIES = """{ viewer { webhookEndpoints { id url deliveries(first: 10) { edges { node {
  eventId type status attempts responseStatus lastError nextAttemptAt
  attemptLog { responseStatus error }
} } } } } }"""


@dataclass
class Sink:
    """A webhook receiver on loopback: records each request; `fail` answers 500 that many
    times; `hang` holds every request open."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    fail: int = 0
    hang: bool = False
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.received.append({"headers": dict(request.headers), "body": body})
        self.arrived.set()
        if self.hang:
            await self.released.wait()
        if self.fail > 0:
            self.fail -= 1
            return web.Response(status=500)
        return web.Response(status=204)


@pytest.fixture
async def sink() -> AsyncIterator[Sink]:
    recorder = Sink()
    app = web.Application()
    app.router.add_post("/hooks", recorder.handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    recorder.url = f"http://127.0.0.1:{port}/hooks"
    try:
        yield recorder
    finally:
        recorder.released.set()
        await runner.cleanup()


@pytest.fixture
def loopback_services(services: ServiceContext) -> ServiceContext:
    policy = dataclasses.replace(
        services.policy, webhook_require_https=False, webhook_allowed_targets=("127.0.0.0/8",)
    )
    return dataclasses.replace(services, policy=policy)


@pytest.fixture
async def loopback_client(
    loopback_services: ServiceContext, db: str, render_pool: Any
) -> AsyncIterator[httpx.AsyncClient]:
    from gateway.app import create_app
    from gateway.settings import Settings

    app = create_app(
        Settings(database_url=db), services=loopback_services, manage_db=False, renderer=render_pool
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        yield http


async def _endpoint(
    account: Any, sink: Sink, types: tuple[Any, ...] | None = None
) -> tuple[int, str]:
    endpoint, secret = await webhooks_endpoints().create_endpoint(
        admin_of(account), url=sink.url, types=types, account_id=None, policy=LOOPBACK, now=NOW
    )
    return endpoint.id, secret


def webhooks_endpoints() -> Any:
    from services.events import endpoints

    return endpoints


async def _work(now: Any = NOW, policy: TargetPolicy = LOOPBACK) -> webhooks.DeliveryReport:
    await webhooks.dispatch(now)
    return await webhooks.deliver_due(now, policy)


async def test_an_admin_registers_an_endpoint_and_sees_its_secret_once(
    loopback_client: httpx.AsyncClient, sink: Sink
) -> None:
    alice = await make_account()
    key = await api_key(alice)

    body = await gql(loopback_client, CREATE, {"url": sink.url, "types": ["INVOICE_PAID"]}, key=key)

    created = body["data"]["createWebhookEndpoint"]
    assert created["__typename"] == "CreateWebhookEndpointSuccess"
    assert created["secret"].startswith("whsec_")
    assert created["endpoint"]["account"]["id"] == gid("Account", alice.id)
    assert created["endpoint"]["types"] == ["INVOICE_PAID"]
    listed = await gql(loopback_client, "{ viewer { webhookEndpoints { id url } } }", key=key)
    assert listed["data"]["viewer"]["webhookEndpoints"] == [
        {"id": created["endpoint"]["id"], "url": sink.url}
    ]
    assert created["secret"] not in json.dumps(listed)


async def test_a_viewer_key_may_not_register(
    loopback_client: httpx.AsyncClient, sink: Sink
) -> None:
    alice = await make_account()
    before = await db_state()
    for key in (await api_key(alice, ApiKeyRole.VIEWER),):
        body = await gql(loopback_client, CREATE, {"url": sink.url}, key=key)
        assert body["data"]["createWebhookEndpoint"]["code"] == "PERMISSION_DENIED"
    assert await WebhookEndpoint.all().count() == 0
    assert await db_state() == before


@pytest.mark.parametrize(
    ("url", "policy"),
    [
        ("http://example.com/hooks", PRODUCTION),  # plain http in production
        ("https://10.0.0.8/hooks", PRODUCTION),  # private
        ("https://127.0.0.1/hooks", PRODUCTION),  # loopback
        ("https://[::1]/hooks", PRODUCTION),
        ("https://[::ffff:127.0.0.1]/hooks", PRODUCTION),  # loopback, IPv4-mapped
        ("https://169.254.169.254/latest/meta-data", PRODUCTION),  # cloud metadata
        ("https://100.64.0.1/hooks", PRODUCTION),  # carrier-grade NAT
        ("https://0.0.0.0/hooks", PRODUCTION),
        ("https://localhost/hooks", PRODUCTION),  # a name that resolves to loopback
        ("https://user:pw@example.com/hooks", PRODUCTION),  # credentials in the URL
        ("ftp://example.com/hooks", LOOPBACK),
        ("https://10.0.0.8/hooks", LOOPBACK),  # the allow-list names loopback only
    ],
)
async def test_registration_refuses_internal_targets(url: str, policy: TargetPolicy) -> None:
    with pytest.raises(InvalidInput) as refused:
        await targets.validate_target(url, policy)
    assert refused.value.field == "url"


async def test_an_allow_listed_loopback_sink_is_accepted(sink: Sink) -> None:
    assert await targets.validate_target(sink.url, LOOPBACK) == sink.url


async def test_a_delivery_is_signed_as_standard_webhooks_receivers_verify(sink: Sink) -> None:
    alice = await make_account()
    _, secret = await _endpoint(alice, sink)
    await update_billing_info(admin_of(alice), alice.id, name="Alice GmbH", now=NOW)

    report = await _work()

    assert report.succeeded == 1
    (request,) = sink.received
    payload = Webhook(secret).verify(request["body"], request["headers"])
    assert payload["type"] == "billing_info.updated"
    assert payload["data"]["account"] == gid("Account", alice.id)
    assert request["headers"]["webhook-id"] == payload["data"]["id"]
    assert (await WebhookDelivery.get()).status is WebhookDeliveryStatus.SUCCEEDED


async def test_only_the_owners_accounts_and_types_are_delivered(sink: Sink) -> None:
    from models import BillingEventType

    alice = await make_account()
    bob = await make_account("bob@example.test", name="Bob")
    carol = await make_account("carol@example.test", name="Carol")
    await _endpoint(alice, sink, types=(BillingEventType.INVOICE_PAID,))
    partner_key = await create_partner_key(account_emails=[alice.email, bob.email], now=NOW)
    from services.auth import authenticate

    partner = await authenticate(f"Bearer {partner_key}", now=NOW)
    await webhooks_endpoints().create_endpoint(
        partner, url=sink.url, types=None, account_id=None, policy=LOOPBACK, now=NOW
    )
    for account in (alice, bob, carol):
        await update_billing_info(admin_of(account), account.id, name="New", now=NOW)

    await _work()

    accounts = sorted(json.loads(r["body"])["data"]["account"] for r in sink.received)
    assert accounts == sorted([gid("Account", alice.id), gid("Account", bob.id)])


async def test_a_failed_attempt_is_retried_after_about_five_seconds_then_with_growing_gaps(
    loopback_client: httpx.AsyncClient, sink: Sink
) -> None:
    alice = await make_account()
    await _endpoint(alice, sink)
    sink.fail = 2
    await update_billing_info(admin_of(alice), alice.id, name="Alice GmbH", now=NOW)

    await _work()
    delivery = await WebhookDelivery.get()
    assert delivery.status is WebhookDeliveryStatus.PENDING and delivery.attempts == 1
    assert delivery.next_attempt_at == NOW + timedelta(seconds=5)
    await _work(NOW + timedelta(seconds=4))  # not due yet
    assert len(sink.received) == 1
    await _work(NOW + timedelta(seconds=5))
    await delivery.refresh_from_db()
    assert delivery.next_attempt_at == NOW + timedelta(seconds=5 + 30)
    await _work(NOW + timedelta(seconds=35))

    await delivery.refresh_from_db()
    assert delivery.status is WebhookDeliveryStatus.SUCCEEDED and delivery.attempts == 3
    ids = {r["headers"]["webhook-id"] for r in sink.received}
    assert len(sink.received) == 3 and len(ids) == 1  # the same message each time
    body = await gql(loopback_client, DELIVERIES, key=await api_key(alice))
    (endpoint,) = body["data"]["viewer"]["webhookEndpoints"]
    (edge,) = endpoint["deliveries"]["edges"]
    assert edge["node"]["status"] == "SUCCEEDED" and edge["node"]["attempts"] == 3
    assert [a["responseStatus"] for a in edge["node"]["attemptLog"]] == [500, 500, 204]


def test_the_retry_schedule_spans_about_three_days() -> None:
    total = sum(webhooks.RETRY_GAPS, timedelta())
    assert webhooks.RETRY_GAPS[0] == timedelta(seconds=5)
    assert list(webhooks.RETRY_GAPS[:9]) == sorted(webhooks.RETRY_GAPS[:9])
    assert timedelta(days=2.5) <= total <= timedelta(days=3.5)


async def test_an_endpoint_failing_for_days_is_disabled_and_its_owner_emailed(sink: Sink) -> None:
    alice = await make_account()
    endpoint_id, _ = await _endpoint(alice, sink)
    sink.fail = 10_000
    await update_billing_info(admin_of(alice), alice.id, name="Alice GmbH", now=NOW)

    now = NOW
    for gap in (timedelta(0), *webhooks.RETRY_GAPS):
        now += gap
        await _work(now)

    endpoint = await WebhookEndpoint.get(id=endpoint_id)
    delivery = await WebhookDelivery.get()
    assert not endpoint.enabled and endpoint.disabled_reason
    assert delivery.status is WebhookDeliveryStatus.FAILED
    (mail,) = await OutboxMessage.filter(template="webhook_endpoint_disabled")
    assert mail.to_email == alice.email and mail.context["url"] == sink.url
    attempts = len(sink.received)
    await update_billing_info(admin_of(alice), alice.id, name="Again", now=now)
    await _work(now + timedelta(days=1))
    assert len(sink.received) == attempts  # nothing more goes to a disabled endpoint


async def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(sink: Sink) -> None:
    alice = await make_account()
    endpoint_id, old = await _endpoint(alice, sink)
    _, new = await webhooks_endpoints().rotate_secret(admin_of(alice), endpoint_id, NOW)
    await update_billing_info(admin_of(alice), alice.id, name="Alice GmbH", now=NOW)

    await _work()

    (request,) = sink.received
    Webhook(old).verify(request["body"], request["headers"])
    Webhook(new).verify(request["body"], request["headers"])
    assert old != new


async def test_delivery_refuses_an_address_that_is_no_longer_allowed(sink: Sink) -> None:
    alice = await make_account()
    await _endpoint(alice, sink)  # registered while loopback was allowed
    await update_billing_info(admin_of(alice), alice.id, name="Alice GmbH", now=NOW)

    await _work(policy=TargetPolicy(require_https=False))

    assert sink.received == []
    delivery = await WebhookDelivery.get()
    assert delivery.last_error is not None and delivery.last_error.startswith("refused")


async def test_another_accounts_endpoint_is_not_found(
    loopback_client: httpx.AsyncClient, sink: Sink
) -> None:
    alice = await make_account()
    mallory = await make_account("mallory@example.test", name="Mallory")
    endpoint_id, _ = await _endpoint(alice, sink)
    before = await WebhookEndpoint.all().values()
    for role in (ApiKeyRole.ADMIN, ApiKeyRole.VIEWER):
        key = await api_key(mallory, role)
        for name in ("rotateWebhookSecret", "deleteWebhookEndpoint"):
            document = f"""mutation($e: ID!) {{ {name}(input: {{endpointId: $e}}) {{
                __typename ... on UserError {{ code }} }} }}"""
            body = await gql(
                loopback_client, document, {"e": gid("WebhookEndpoint", endpoint_id)}, key=key
            )
            assert body["data"][name]["code"] == "NOT_FOUND", (role, name, body)
    assert await WebhookEndpoint.all().values() == before


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = """
import asyncio, sys
from datetime import datetime
from gateway.db import init_db
from services.events import webhooks
from services.events.targets import TargetPolicy

async def main():
    await init_db(sys.argv[1])
    now = datetime.fromisoformat(sys.argv[2])
    await webhooks.dispatch(now)
    await webhooks.deliver_due(now, TargetPolicy(require_https=False, allowed=("127.0.0.0/8",)))

asyncio.run(main())
"""


async def test_a_worker_killed_mid_delivery_loses_no_webhook(
    sink: Sink, database_url: str, clock: FixedClock
) -> None:
    # given an event for an endpoint whose receiver holds the request open
    alice = await make_account()
    _, secret = await _endpoint(alice, sink)
    await update_billing_info(admin_of(alice), alice.id, name="Alice GmbH", now=NOW)
    sink.hang = True

    # when a worker process claims it, sends it, and is killed -9 before the answer
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, database_url, NOW.isoformat(), cwd=ROOT
    )
    try:
        await asyncio.wait_for(sink.arrived.wait(), 30)
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    assert worker.returncode == -signal.SIGKILL
    sink.hang = False

    # then once its lease ends another worker sends the same message again
    assert (await _work(NOW + timedelta(seconds=30))).attempted == 0  # still leased
    report = await _work(NOW + webhooks.LEASE)
    assert report.succeeded == 1
    first, second = sink.received
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    Webhook(secret).verify(second["body"], second["headers"])
    assert (await WebhookDelivery.get()).status is WebhookDeliveryStatus.SUCCEEDED


async def test_the_worker_tick_delivers_webhooks(
    loopback_services: ServiceContext, sink: Sink
) -> None:
    from gateway.settings import Settings
    from gateway.worker import smtp_config, tick

    alice = await make_account()
    await _endpoint(alice, sink)
    await update_billing_info(admin_of(alice), alice.id, name="Alice GmbH", now=NOW)

    report = await tick(loopback_services, smtp_config(Settings(smtp_port=9)))

    assert report.webhooks == 1
    assert [json.loads(r["body"])["type"] for r in sink.received] == ["billing_info.updated"]


async def test_a_partner_whose_key_is_revoked_receives_nothing_more(sink: Sink) -> None:
    from services.api_keys import revoke_api_key
    from services.auth import authenticate

    alice = await make_account()
    partner_key = await create_partner_key(account_emails=[alice.email], now=NOW)
    partner = await authenticate(f"Bearer {partner_key}", now=NOW)
    for account_id in (None, alice.id):  # every account, and one named account
        await webhooks_endpoints().create_endpoint(
            partner, url=sink.url, types=None, account_id=account_id, policy=LOOPBACK, now=NOW
        )
    await revoke_api_key(prefix=partner_key.split("_")[1], now=NOW)

    await update_billing_info(admin_of(alice), alice.id, name="Alice GmbH", now=NOW)
    await _work()

    assert sink.received == []


async def test_a_partner_token_must_name_the_account(sink: Sink) -> None:
    from services.auth import Principal

    alice = await make_account()
    token_partner = Principal(
        role=ApiKeyRole.PARTNER, account_ids=frozenset({alice.id}), caller="oidc:partner"
    )
    with pytest.raises(InvalidInput) as refused:
        await webhooks_endpoints().create_endpoint(
            token_partner, url=sink.url, types=None, account_id=None, policy=LOOPBACK, now=NOW
        )
    assert refused.value.field == "accountId"
    assert await WebhookEndpoint.all().count() == 0


@pytest.mark.postgres
async def test_two_workers_send_each_delivery_once(sink: Sink) -> None:
    accounts = [await make_account(f"a{i}@example.test", name=f"A{i}") for i in range(4)]
    for account in accounts:
        await _endpoint(account, sink)
        for n in range(5):
            await update_billing_info(admin_of(account), account.id, name=f"N{n}", now=NOW)

    await asyncio.gather(webhooks.dispatch(NOW), webhooks.dispatch(NOW))
    reports = await asyncio.gather(
        *(webhooks.deliver_due(NOW, LOOPBACK, limit=7) for _ in range(4))
    )

    ids = [r["headers"]["webhook-id"] for r in sink.received]
    assert len(ids) == len(set(ids)) == 20
    assert sum(r.attempted for r in reports) == 20
    assert await WebhookDelivery.filter(status=WebhookDeliveryStatus.SUCCEEDED).count() == 20
