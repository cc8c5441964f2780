"""Automatic Persisted Queries and the ETag / 304 of GET persisted queries
(gateway/persisted.py): a 304 is never served after a change, never across keys."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from gateway.persisted import PersistedQueries, PersistedQueryError
from gateway.sandbox import Sandbox
from models import ApiKeyRole
from schema import schema
from services.clock import FixedClock
from services.context import ServiceContext
from services.provider.base import ChargeResult, ProviderUnavailableError
from services.provider.recording import RecordingProvider
from tests.factories import add_card, api_key, gql, make_account, make_invoice, subscribe
from tests.graphql.helpers import gid
from tests.sql_counter import count_statements

PAGE = """
query Page { viewer { account {
  name
  paymentMethods { id last4 isDefault status }
  outstandingBalance { amount formatted }
  invoices(first: 5) { nodes { id status amountDue { amount } paidAt } }
} } }
"""
USAGE = "query Usage { viewer { account { name usage { periodStart } } } }"
PDF = "query Pdf { viewer { account { invoices(first: 5) { nodes { pdfUrl } } } } }"
PAY = """
mutation Pay($invoiceId: ID!) { payInvoice(input: {invoiceId: $invoiceId}) { __typename } }
"""


def _sha(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def _extensions(query: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": _sha(query)}}


async def _get(
    client: httpx.AsyncClient,
    key: str,
    query: str,
    *,
    send_query: bool = False,
    etag: str | None = None,
    variables: dict[str, Any] | None = None,
) -> httpx.Response:
    params = {"extensions": json.dumps(_extensions(query))}
    if send_query:
        params["query"] = query
    if variables:
        params["variables"] = json.dumps(variables)
    headers = {"Authorization": f"Bearer {key}"}
    if etag:
        headers["If-None-Match"] = etag
    return await client.get("/graphql", params=params, headers=headers)


async def _register(client: httpx.AsyncClient, key: str, query: str) -> httpx.Response:
    response = await _get(client, key, query, send_query=True)
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text
    return response


async def test_apq_unknown_hash_then_registered_then_by_hash_alone(
    client: httpx.AsyncClient, db: str
) -> None:
    key = await api_key(await make_account(), ApiKeyRole.VIEWER)
    query = "query Role { viewer { role } }"
    headers = {"Authorization": f"Bearer {key}"}

    unknown = await client.post(
        "/graphql", json={"extensions": _extensions(query)}, headers=headers
    )
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert "data" not in unknown.json()

    registered = await client.post(
        "/graphql", json={"query": query, "extensions": _extensions(query)}, headers=headers
    )
    by_hash = await client.post(
        "/graphql", json={"extensions": _extensions(query)}, headers=headers
    )
    by_get = await _get(client, key, query)

    assert registered.json() == {"data": {"viewer": {"role": "VIEWER"}}}
    assert by_hash.json() == registered.json()
    assert by_get.json() == registered.json()


async def test_apq_refuses_a_hash_that_is_not_the_query_s(
    client: httpx.AsyncClient, db: str
) -> None:
    key = await api_key(await make_account(), ApiKeyRole.VIEWER)
    headers = {"Authorization": f"Bearer {key}"}
    claimed = "query Role { viewer { role } }"
    sent = "query Role { viewer { account { email } } }"

    mismatch = await client.post(
        "/graphql", json={"query": sent, "extensions": _extensions(claimed)}, headers=headers
    )
    version = await client.post(
        "/graphql", json={"query": sent, "extensions": _extensions(sent, 2)}, headers=headers
    )
    after = await client.post(
        "/graphql", json={"extensions": _extensions(claimed)}, headers=headers
    )

    assert mismatch.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_INVALID"
    assert version.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_INVALID"
    # nothing was registered under the claimed hash
    assert after.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_apq_mutations_stay_post_only(client: httpx.AsyncClient, db: str) -> None:
    key = await api_key(await make_account())
    response = await _get(client, key, PAY, send_query=True, variables={"invoiceId": "x"})
    assert response.status_code == 405


async def test_304_without_executing_while_nothing_changed(
    client: httpx.AsyncClient, db: str
) -> None:
    account = await make_account()
    await make_invoice(account, subscription=await subscribe(account))
    key = await api_key(account, ApiKeyRole.VIEWER)
    first = await _register(client, key, PAGE)
    etag = first.headers["etag"]

    with count_statements() as statements:
        again = await _get(client, key, PAGE, etag=etag)

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "private" in again.headers["cache-control"]
    assert "private" in first.headers["cache-control"]
    assert len(statements) == 1, statements  # the log position; the key is cached
    # another ETag (or none) gets the full answer
    full = await _get(client, key, PAGE, etag='W/"something-else"')
    assert full.status_code == 200 and full.json() == first.json()


async def test_paying_an_invoice_between_two_gets_answers_200_with_the_new_state(
    client: httpx.AsyncClient, db: str, services: ServiceContext, sandbox: Sandbox
) -> None:
    account = await make_account()
    invoice = await make_invoice(account, subscription=await subscribe(account))
    await add_card(services, sandbox, account, make_default=True)
    admin = await api_key(account)
    key = await api_key(account, ApiKeyRole.VIEWER)
    before = await _register(client, key, PAGE)
    assert before.json()["data"]["viewer"]["account"]["outstandingBalance"]["amount"] > 0

    paid = await gql(client, PAY, {"invoiceId": gid("Invoice", invoice.id)}, key=admin)
    assert paid["data"]["payInvoice"]["__typename"] == "PayInvoiceSuccess"
    after = await _get(client, key, PAGE, etag=before.headers["etag"])

    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    page = after.json()["data"]["viewer"]["account"]
    assert page["outstandingBalance"]["amount"] == 0
    assert page["invoices"]["nodes"][0]["status"] == "PAID"


async def test_adding_a_card_between_two_gets_answers_200_with_the_card(
    client: httpx.AsyncClient, db: str, services: ServiceContext, sandbox: Sandbox
) -> None:
    account = await make_account()
    key = await api_key(account, ApiKeyRole.VIEWER)
    before = await _register(client, key, PAGE)
    assert before.json()["data"]["viewer"]["account"]["paymentMethods"] == []

    await add_card(services, sandbox, account)
    after = await _get(client, key, PAGE, etag=before.headers["etag"])

    assert after.status_code == 200
    assert len(after.json()["data"]["viewer"]["account"]["paymentMethods"]) == 1


async def test_keys_never_share_an_etag(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    viewer = await api_key(account, ApiKeyRole.VIEWER)
    admin = await api_key(account, ApiKeyRole.ADMIN)
    other_viewer = await api_key(await make_account("other@example.test"), ApiKeyRole.VIEWER)
    mine = await _register(client, viewer, PAGE)

    tags = {mine.headers["etag"]}
    for key in (admin, other_viewer):
        response = await _get(client, key, PAGE, etag=mine.headers["etag"])
        assert response.status_code == 200
        tags.add(response.headers["etag"])

    assert len(tags) == 3


async def test_queries_reading_what_the_log_does_not_record_get_no_etag(
    client: httpx.AsyncClient, db: str
) -> None:
    account = await make_account()
    await make_invoice(account, subscription=await subscribe(account))
    key = await api_key(account)
    for query in (USAGE, PDF):
        first = await _register(client, key, query)
        again = await _get(client, key, query, etag=first.headers.get("etag", 'W/"x"'))
        assert "etag" not in first.headers
        assert again.status_code == 200


async def test_apq_in_a_batch_refuses_only_the_unknown_operation(
    client: httpx.AsyncClient, db: str
) -> None:
    key = await api_key(await make_account(), ApiKeyRole.VIEWER)
    query = "query Role { viewer { role } }"

    response = await client.post(
        "/graphql",
        json=[{"extensions": _extensions(query)}, {"query": query}],
        headers={"Authorization": f"Bearer {key}"},
    )

    unknown, ran = response.json()
    assert unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert ran == {"data": {"viewer": {"role": "VIEWER"}}}


async def test_no_etag_and_no_304_without_a_caller(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    key = await api_key(account, ApiKeyRole.VIEWER)
    etag = (await _register(client, key, PAGE)).headers["etag"]

    params = {"extensions": json.dumps(_extensions(PAGE))}
    anonymous = await client.get("/graphql", params=params, headers={"If-None-Match": etag})

    assert anonymous.status_code == 200
    assert "etag" not in anonymous.headers
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def _registry(**bounds: int) -> PersistedQueries:
    return PersistedQueries(schema._schema, **bounds)


def _padded(n: int, size: int) -> str:
    """A valid document of about `size` bytes: a comment weighs nothing against the token cap."""
    return f"# {'x' * size}\nquery Q{n} {{ viewer {{ role }} }}"


def test_registry_is_bounded_in_bytes_not_only_in_documents() -> None:
    # 5,000 documents of ~100 kB (the body cap) each were kept: half a gigabyte per
    # process that anyone, even without a key, could fill.
    registry = _registry(max_bytes=1_000_000)
    for n in range(40):
        query = _padded(n, 99_000)
        registry.resolve(query, _sha(query))

    assert registry.stored_bytes <= 1_000_000
    newest = _padded(39, 99_000)
    assert registry.resolve(None, _sha(newest)) == newest  # least recently used went first
    oldest = _padded(0, 99_000)
    try:
        registry.resolve(None, _sha(oldest))
        raise AssertionError("the oldest document should have been evicted")
    except PersistedQueryError as refusal:
        assert refusal.error.extensions == {"code": "PERSISTED_QUERY_NOT_FOUND"}


def test_a_document_that_does_not_run_is_not_registered() -> None:
    # as Apollo Server: only a document that parses (within the token cap) and validates
    # is kept, so junk cannot take the room of the documents clients use
    registry = _registry(max_tokens=50)
    junk = [
        "{ viewer { role ",  # syntax
        "{ viewer { nope } }",  # validation
        "{ viewer { " + "role " * 60 + "} }",  # over the token cap
    ]
    for query in junk:
        assert registry.resolve(query, _sha(query)) == query  # executed (and refused) as sent
    for query in junk:
        try:
            registry.resolve(None, _sha(query))
            raise AssertionError(f"registered: {query[:20]}")
        except PersistedQueryError as refusal:
            assert refusal.error.extensions == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert registry.stored_bytes == 0


def test_operation_names_that_pick_nothing_are_not_remembered() -> None:
    # the cacheability verdicts were keyed by (hash, operationName) without a bound: a
    # caller sending a new operationName each time grew them for ever
    registry = _registry()
    query = "query A { viewer { role } } query B { viewer { account { name } } }"
    registry.resolve(query, _sha(query))

    for n in range(2_000):
        assert registry.cacheable(_sha(query), query, f"Nothing{n}") is False
    assert registry.cacheable(_sha(query), query, "A") is True
    assert registry.cacheable(_sha(query), query, "B") is True

    assert registry.verdicts <= 3


async def test_persisted_query_version_must_be_the_number_1(
    client: httpx.AsyncClient, db: str
) -> None:
    key = await api_key(await make_account(), ApiKeyRole.VIEWER)
    query = "query Role { viewer { role } }"
    answers = {}
    for version in (True, "1", 2, None, 1.0):
        response = await client.post(
            "/graphql",
            json={
                "query": query,
                "extensions": {"persistedQuery": {"version": version, "sha256Hash": _sha(query)}},
            },
            headers={"Authorization": f"Bearer {key}"},
        )
        errors = response.json().get("errors") or [{"extensions": {"code": None}}]
        answers[repr(version)] = errors[0]["extensions"]["code"]

    # JSON has one number type: 1.0 is the number 1; true is not
    assert answers == {
        "True": "PERSISTED_QUERY_INVALID",
        "'1'": "PERSISTED_QUERY_INVALID",
        "2": "PERSISTED_QUERY_INVALID",
        "None": "PERSISTED_QUERY_INVALID",
        "1.0": None,
    }


async def test_an_invalid_document_is_refused_by_hash_until_sent_again(
    client: httpx.AsyncClient, db: str
) -> None:
    key = await api_key(await make_account(), ApiKeyRole.VIEWER)
    headers = {"Authorization": f"Bearer {key}"}
    query = "query Nope { viewer { nope } }"

    sent = await client.post(
        "/graphql", json={"query": query, "extensions": _extensions(query)}, headers=headers
    )
    by_hash = await client.post(
        "/graphql", json={"extensions": _extensions(query)}, headers=headers
    )

    assert sent.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert by_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


PAYMENTS = """
query Payments { viewer { account {
  invoices(first: 5) { nodes { id status payments { status } } }
} } }
"""


async def test_a_payment_that_changes_without_an_event_is_never_answered_304(
    client: httpx.AsyncClient,
    db: str,
    services: ServiceContext,
    sandbox: Sandbox,
    provider: RecordingProvider,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A claimed payment is PENDING before the provider answers (and stays so while the
    # provider is unreachable, until a retry or the reconciler), then may be PROCESSING:
    # neither writes a billing event, and the ETag followed the event log alone.
    account = await make_account()
    invoice = await make_invoice(account, subscription=await subscribe(account))
    await add_card(services, sandbox, account, make_default=True)
    admin = await api_key(account)
    viewer = await api_key(account, ApiKeyRole.VIEWER)
    first = await _register(client, viewer, PAYMENTS)
    assert _payments(first) == []

    async def unreachable(**_: Any) -> ChargeResult:
        raise ProviderUnavailableError("timed out")

    monkeypatch.setattr(provider, "charge", unreachable)
    paid = await gql(client, PAY, {"invoiceId": gid("Invoice", invoice.id)}, key=admin)
    assert paid["data"]["payInvoice"]["__typename"] == "ProviderUnavailableError"
    pending = await _get(client, viewer, PAYMENTS, etag=first.headers["etag"])

    assert pending.status_code == 200
    assert _payments(pending) == ["PENDING"]

    async def processing(**kwargs: Any) -> ChargeResult:
        return ChargeResult("pi_processing", "processing", kwargs["amount"], "USD")

    monkeypatch.setattr(provider, "charge", processing)
    clock.advance(timedelta(minutes=2))  # the PENDING attempt is re-sent, the same day
    resent = await gql(client, PAY, {"invoiceId": gid("Invoice", invoice.id)}, key=admin)
    # re-sent, the provider says processing: the invoice stays claimed ("in progress")
    assert resent["data"]["payInvoice"]["__typename"] == "PaymentInProgressError"
    later = await _get(client, viewer, PAYMENTS, etag=pending.headers["etag"])

    assert later.status_code == 200
    assert _payments(later) == ["PROCESSING"]
    unchanged = await _get(client, viewer, PAYMENTS, etag=later.headers["etag"])
    assert unchanged.status_code == 304


def _payments(response: httpx.Response) -> list[str]:
    nodes = response.json()["data"]["viewer"]["account"]["invoices"]["nodes"]
    return [p["status"] for node in nodes for p in node["payments"]]


async def test_a_new_provider_configuration_is_never_answered_304(
    client: httpx.AsyncClient,
    db: str,
    provider: RecordingProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # paymentProvider comes from the process's settings, not the event log: after a
    # deploy with a new publishable key, the old page's ETag still matched, and the
    # browser kept loading the card form with a key the provider no longer accepts.
    key = await api_key(await make_account(), ApiKeyRole.VIEWER)
    query = "query Provider { paymentProvider { name publishableKey jsUrl } }"
    before = await _register(client, key, query)

    monkeypatch.setattr(provider, "publishable_key", "pk_test_rotated")
    after = await _get(client, key, query, etag=before.headers["etag"])

    assert after.status_code == 200
    assert after.json()["data"]["paymentProvider"]["publishableKey"] == "pk_test_rotated"
