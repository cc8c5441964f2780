"""What the streaming transports answer to a request that is not a subscription."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from tests.events.conftest import Gateway
from tests.factories import api_key, make_account


@pytest.mark.parametrize(
    "query",
    ["{ viewer { role } }", 'mutation { updateBillingInfo(input: {name: "x"}) { __typename } }'],
)
async def test_a_query_or_mutation_over_sse_is_the_clients_error(
    gateway: Gateway, query: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Both were answered INTERNAL "Unexpected error." with a traceback at error level.
    alice = await make_account()
    key = await api_key(alice)
    caplog.set_level(logging.INFO)
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        response = await http.post(
            "/graphql",
            json={"query": query},
            headers={"Accept": "text/event-stream", "Authorization": f"Bearer {key}"},
        )
    payloads = [
        json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data: {")
    ]

    assert payloads[0]["data"] is None
    assert payloads[0]["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "subscription" in payloads[0]["errors"][0]["message"].lower()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await alice.refresh_from_db()
    assert alice.billing_name != "x"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("subscription { billingEvents { id }", "GRAPHQL_PARSE_FAILED"),
        ("subscription { billingEvents { " + "id " * 3000 + "} }", "TOO_MANY_TOKENS"),
    ],
)
async def test_a_subscription_that_does_not_parse_says_why_over_sse(
    gateway: Gateway, query: str, code: str
) -> None:
    # Both ended the stream with `complete` and no error at all (the parse error escaped
    # the stream's generator and was dropped).
    alice = await make_account()
    key = await api_key(alice)
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        response = await http.post(
            "/graphql",
            json={"query": query},
            headers={"Accept": "text/event-stream", "Authorization": f"Bearer {key}"},
        )
    payloads = [
        json.loads(line[5:]) for line in response.text.splitlines() if line.startswith("data: {")
    ]

    assert payloads, response.text
    assert payloads[0]["errors"][0]["extensions"]["code"] == code


async def test_an_sse_body_over_the_size_limit_is_413(gateway: Gateway) -> None:
    # The SSE path read any body whole: 1.5 MB of `types` opened a stream (plain POST: 413).
    alice = await make_account()
    key = await api_key(alice)
    query = "subscription($t: [BillingEventType!]) { billingEvents(types: $t) { id } }"
    async with httpx.AsyncClient(base_url=gateway.base_url, timeout=10) as http:
        async with http.stream(
            "POST",
            "/graphql",
            json={"query": query, "variables": {"t": ["INVOICE_PAID"] * 20_000}},
            headers={"Accept": "text/event-stream", "Authorization": f"Bearer {key}"},
        ) as response:
            status = response.status_code

    assert status == 413
