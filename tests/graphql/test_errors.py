"""Unexpected failures: masked for the client, logged with a request id for us."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import httpx
import pytest

from resolvers import invoice_pages
from resolvers import invoices as invoice_resolvers
from services import billing_info
from tests.factories import api_key, gql, make_account

UPDATE = """
mutation { updateBillingInfo(input: {name: "New"}) { __typename } }
"""

INVOICES = """
query { viewer { role account { name invoices { totalCount } } } }
"""


def _explode(*args: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError("secret sk_live_x")


async def _explode_async(*args: Any, **kwargs: Any) -> NoReturn:
    _explode()


@pytest.fixture
def broken_services(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(billing_info, "update_billing_info", _explode_async)
    monkeypatch.setattr(invoice_resolvers, "list_invoices", _explode_async)
    monkeypatch.setattr(invoice_pages, "_fetch", _explode_async)  # first pages, batched


@pytest.mark.usefixtures("broken_services")
@pytest.mark.parametrize(("query", "path"), [(UPDATE, ["updateBillingInfo"]), (INVOICES, None)])
async def test_unexpected_exception_is_masked(
    client: httpx.AsyncClient,
    db: str,
    caplog: pytest.LogCaptureFixture,
    query: str,
    path: list[str] | None,
) -> None:
    # given a service that fails in a way nobody planned for
    key = await api_key(await make_account())

    # when
    with caplog.at_level(logging.ERROR, logger="gateway.graphql"):
        response = await client.post(
            "/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {key}", "X-Request-Id": "req-123"},
        )

    # then the client sees one masked error with the request id, and nothing of the cause
    assert response.status_code == 200
    body = response.json()
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["requestId"] == "req-123"
    assert error["extensions"]["code"] == "INTERNAL"
    assert "sk_live_x" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    if path is not None:
        assert error["path"] == path
        assert body["data"] is None
    # and the log has the cause's class and frames, tied to the same request id, but not
    # its message (a message may quote the request: tests/security/test_log_secrets.py)
    records = [r for r in caplog.records if getattr(r, "request_id", None) == "req-123"]
    assert len(records) == 1
    assert records[0].error_class == "RuntimeError"  # type: ignore[attr-defined]
    assert "_explode" in records[0].traceback  # type: ignore[attr-defined]
    assert "RuntimeError: secret" not in caplog.text + records[0].traceback  # type: ignore[attr-defined]


@pytest.mark.usefixtures("broken_services")
async def test_request_id_is_generated_when_the_client_sends_none(
    client: httpx.AsyncClient, db: str
) -> None:
    key = await api_key(await make_account())

    body = await gql(client, UPDATE, key=key)

    request_id = body["errors"][0]["extensions"]["requestId"]
    assert isinstance(request_id, str)
    assert len(request_id) >= 16


async def test_syntax_errors_are_shown_not_masked(client: httpx.AsyncClient, db: str) -> None:
    key = await api_key(await make_account())

    response = await client.post(
        "/graphql",
        json={"query": "query { viewer { nope } }"},
        headers={"Authorization": f"Bearer {key}"},
    )

    body = response.json()
    assert len(body["errors"]) == 1
    assert "nope" in body["errors"][0]["message"]
    assert body["errors"][0]["message"] != "Unexpected error."
