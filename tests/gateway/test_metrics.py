"""GET /metrics: request latency by operation, errors by code, payments by outcome,
provider calls, DataLoader batch sizes, and the gauges other processes set."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from gateway import metrics
from models import ApiKeyRole
from services.provider.base import ProviderError, ProviderUnavailableError
from services.provider.instrumented import InstrumentedProvider
from tests.bulk import billed_accounts
from tests.conftest import NOW
from tests.factories import api_key, gql
from tests.graphql.helpers import gid

BILLING = """
query BillingPage { viewer { account { name invoices(first: 2) { nodes { number lines {
  description } } } } } }
"""
PAY_MISSING = """
mutation PayMissing($id: ID!) { payInvoice(input: {invoiceId: $id}) {
  __typename ... on UserError { code } } }
"""


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_request_latency_by_operation_and_loader_batches(
    client: httpx.AsyncClient, db: str
) -> None:
    # given an account with invoices
    (account,) = await billed_accounts(1, invoices=3, now=NOW)
    key = await api_key(account, ApiKeyRole.VIEWER)
    before = sample("billing_graphql_request_seconds_count", operation="BillingPage", type="query")
    batches = sample("billing_dataloader_batch_size_count", loader="lines_by_invoice")
    keys = sample("billing_dataloader_batch_size_sum", loader="lines_by_invoice")

    # when the billing page is read, then /metrics is scraped
    body = await gql(client, BILLING, key=key)
    assert "errors" not in body
    scraped = await client.get("/metrics")

    # then one request is timed under its operation name, and the lines of both
    # invoices were loaded in one batch of two
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    assert 'billing_graphql_request_seconds_count{operation="BillingPage",type="query"}' in (
        scraped.text
    )
    assert (
        sample("billing_graphql_request_seconds_count", operation="BillingPage", type="query")
        == before + 1
    )
    assert sample("billing_dataloader_batch_size_count", loader="lines_by_invoice") == (batches + 1)
    assert sample("billing_dataloader_batch_size_sum", loader="lines_by_invoice") == keys + 2


async def test_errors_by_code_and_payments_by_outcome(client: httpx.AsyncClient, db: str) -> None:
    (account,) = await billed_accounts(1, invoices=1, now=NOW)
    key = await api_key(account, ApiKeyRole.ADMIN)
    top = sample("billing_graphql_errors_total", code="UNAUTHENTICATED", kind="top_level")
    user = sample("billing_graphql_errors_total", code="NOT_FOUND", kind="user")
    paid = sample("billing_payments_total", mutation="payInvoice", outcome="NOT_FOUND")

    # when a query comes without a key, and an admin pays an invoice that is not theirs
    anonymous = await gql(client, "query Anonymous { viewer { role } }")
    refused = await gql(client, PAY_MISSING, {"id": gid("Invoice", 999_999)}, key=key)

    # then the top-level error and the user error are counted by code, the payment by outcome
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert refused["data"]["payInvoice"]["code"] == "NOT_FOUND"
    assert (
        sample("billing_graphql_errors_total", code="UNAUTHENTICATED", kind="top_level") == top + 1
    )
    assert sample("billing_graphql_errors_total", code="NOT_FOUND", kind="user") == user + 1
    assert sample("billing_payments_total", mutation="payInvoice", outcome="NOT_FOUND") == paid + 1


def test_operation_names_are_bounded() -> None:
    assert metrics.operation_label(None) == "anonymous"
    assert metrics.operation_label("not a name!") == "other"
    assert metrics.operation_label("x" * 65) == "other"


class _Flaky:
    name = "flaky"
    publishable_key = "pk"
    js_url = "js"

    def __init__(self) -> None:
        self.outcomes: list[BaseException | None] = []

    async def ping(self) -> None:
        outcome = self.outcomes.pop(0)
        if outcome is not None:
            raise outcome


async def test_provider_calls_are_timed_and_failures_counted() -> None:
    inner = _Flaky()
    inner.outcomes = [None, ProviderUnavailableError("timeout"), ProviderError("bad")]
    provider = InstrumentedProvider(inner, metrics.observe_provider_call)  # type: ignore[arg-type]
    calls = sample("billing_provider_request_seconds_count", method="ping")
    unavailable = sample("billing_provider_errors_total", method="ping", kind="unavailable")
    rejected = sample("billing_provider_errors_total", method="ping", kind="rejected")

    await provider.ping()
    with pytest.raises(ProviderUnavailableError):
        await provider.ping()
    with pytest.raises(ProviderError):
        await provider.ping()

    assert sample("billing_provider_request_seconds_count", method="ping") == calls + 3
    assert (
        sample("billing_provider_errors_total", method="ping", kind="unavailable")
        == unavailable + 1
    )
    assert sample("billing_provider_errors_total", method="ping", kind="rejected") == rejected + 1


async def test_worker_lag_and_render_time_gauges(client: httpx.AsyncClient) -> None:
    metrics.set_job_lag("collection", 42.5)
    metrics.observe_render("invoice", 0.12)
    text: Any = (await client.get("/metrics")).text
    assert 'billing_worker_job_lag_seconds{job="collection"} 42.5' in text
    assert 'billing_document_render_seconds_count{kind="invoice"}' in text
