"""No value a client sends reaches a log: a card number, a CVC, a billing name, an email
and a tax ID go through every error path of the GraphQL endpoint (bad variables,
literals, parse and validation errors, operation choice, limits, malformed requests,
a resolver and the endpoint itself failing, batches, GET and POST), and every log line
is scanned: pytest's capture at DEBUG for every logger (structlog's events included,
they go through the standard library), the lines as the production formatters render
them (tracebacks included), and what reached stderr/stdout.

The requests go to the ASGI app without httpx.AsyncClient, whose own "HTTP Request:
GET ...?variables=..." line would be the test's, not the gateway's."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, NoReturn
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.graphql_http import GraphQLEndpoint
from gateway.logs import log_formatter
from gateway.settings import Settings
from resolvers import invoice_pages
from schema import limits
from services import billing_info
from services.context import ServiceContext
from services.documents.pool import RenderPool
from services.provider.recording import RecordingProvider
from tests.factories import api_key, make_account
from tests.security.conftest import free_port

CARD = "4242424242424242"
CVC = "737"
NAME = "Zebulon Quaxworth"
EMAIL = "zebulon.quaxworth@example.test"
TAX_ID = "DE811907980"
SECRETS = {"card number": CARD, "name": NAME, "email": EMAIL, "tax ID": TAX_ID}
# A CVC is three digits: look for it next to its name, as tests/security/test_secrets.py does.
CVC_NEAR_NAME = re.compile(rf"(?i)cv[cv2c][^0-9a-z]{{0,12}}{CVC}\b")
SECRET_VARIABLES = {"card": CARD, "cvc": CVC, "name": NAME, "email": EMAIL, "taxId": TAX_ID}

UPDATE = """mutation Update($input: UpdateBillingInfoInput!) {
  updateBillingInfo(input: $input) { __typename } }"""
ACCOUNTS = "query Accounts($n: Int) { viewer { accounts(first: $n) { totalCount } } }"
INVOICES = "query Invoices { viewer { account { invoices { totalCount } } } }"
SET_NAME = f'updateBillingInfo(input: {{name: "{NAME}", taxId: "{TAX_ID}"}}) {{ __typename }}'
DEFAULT_PAGE = (
    f'query($n: Int = 500, $c: String = "{CARD}") {{ viewer {{ accounts(first: $n) {{'
    " totalCount } } }"
)
DEEP = "{ viewer { accounts { edges { node { invoices { edges { node { payments {"
DEEP += " paymentMethod { billingAddress { city } } } } } } } } } } }"
# about 20,000 each: three of them are over the 50,000 budget together
HEAVY = "{ viewer { accounts(first: 100) { nodes { invoices(first: 100) { nodes {"
HEAVY += " lines { description } } } } } } }"

# (name, body): each is sent over POST with both media types; the queries over GET too.
BODIES: list[tuple[str, Any]] = [
    (
        "wrong variable types",
        {"query": UPDATE, "variables": {"input": {"name": int(CARD), "taxId": [TAX_ID, EMAIL]}}},
    ),
    ("wrong variable type in a query", {"query": ACCOUNTS, "variables": {"n": CARD}}),
    (
        "unknown input fields",
        {
            "query": UPDATE,
            "variables": {
                "input": {"nmae": NAME, "emial": EMAIL, "taxid": TAX_ID, "card": CARD, "cvc": CVC}
            },
        },
    ),
    ("missing required variable", {"query": UPDATE, "variables": SECRET_VARIABLES}),
    (
        "null for a required variable",
        {"query": UPDATE, "variables": {"input": None, **SECRET_VARIABLES}},
    ),
    (
        "inline literals of the wrong type",
        {
            "query": f'mutation {{ updateBillingInfo(input: {{name: {CARD}, email: "{EMAIL}",'
            f' taxId: {{cvc: "{CVC}"}}}}) {{ __typename }} }}'
        },
    ),
    (
        "string literal for an Int",
        {"query": f'{{ viewer {{ accounts(first: "{NAME}") {{ totalCount }} }} }}'},
    ),
    (
        "unknown literal field",
        {
            "query": f'mutation {{ updateBillingInfo(input: {{nmae: "{NAME}", taxId: "{TAX_ID}"}})'
            " { __typename } }"
        },
    ),
    ("parse error", {"query": f'query {{ viewer {{ role }} "{CARD}" cvc: {CVC} {NAME} "{EMAIL}"'}),
    ("parse error in a string", {"query": f'{{ viewer(x: "{CARD} cvc {CVC}\u0000") }}'}),
    ("unknown argument", {"query": f'{{ viewer(card: "{CARD}", cvc: "{CVC}") {{ role }} }}'}),
    ("unknown field", {"query": f'{{ viewer {{ role nope(email: "{EMAIL}") }} }}'}),
    (
        "unknown operation name",
        {
            "query": "query A { viewer { role } }",
            "operationName": CARD,
            "variables": SECRET_VARIABLES,
        },
    ),
    (
        "several operations, no operation name",
        {
            "query": f"query A {{ viewer {{ role }} }} mutation B {{ {SET_NAME} }}",
        },
    ),
    ("variables not an object", {"query": "{ viewer { role } }", "variables": [CARD, CVC, NAME]}),
    (
        "page size from a default",
        {"query": DEFAULT_PAGE},
    ),
    ("page size from a variable", {"query": ACCOUNTS, "variables": {"n": 500, **SECRET_VARIABLES}}),
    (
        "too deep",
        {
            "query": DEEP,
            "variables": SECRET_VARIABLES,
        },
    ),
    ("too many tokens", {"query": "{ " + f'viewer(x: "{CARD}") {{ role }} ' * 400 + "}"}),
    (
        "too many aliases",
        {
            "query": "{ " + " ".join(f"a{i}: plans {{ id }}" for i in range(40)) + "}",
            "variables": SECRET_VARIABLES,
        },
    ),
    (
        "a resolver fails (mutation)",
        {"query": UPDATE, "variables": {"input": {"name": NAME, "email": EMAIL, "taxId": TAX_ID}}},
    ),
    ("a resolver fails (query)", {"query": INVOICES, "variables": SECRET_VARIABLES}),
    (
        "an ordinary query with extra variables",
        {"query": "{ viewer { role } }", "variables": SECRET_VARIABLES},
    ),
    ("no query", {"variables": SECRET_VARIABLES}),
]
BATCHES: list[tuple[str, Any]] = [
    ("a batch of failures", [body for _, body in BODIES[:6]] + [BODIES[-4][1]]),
    (
        "a batch over the cost budget",
        [{"query": HEAVY, "variables": SECRET_VARIABLES}] * 3,
    ),
]


def _explode_with_the_input(*args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"cannot store {kwargs} {args} with card {CARD} cvc {CVC}")


async def _explode_async(*args: Any, **kwargs: Any) -> NoReturn:
    _explode_with_the_input(*args, **kwargs)


@pytest.fixture
def app(
    services: ServiceContext, db: str, render_pool: RenderPool, monkeypatch: pytest.MonkeyPatch
) -> Starlette:
    monkeypatch.setattr(billing_info, "update_billing_info", _explode_async)
    monkeypatch.setattr(invoice_pages, "_fetch", _explode_async)
    settings = Settings(database_url=db, max_body_bytes=20_000)
    return create_app(settings, services=services, manage_db=False, renderer=render_pool)


Send = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
async def send(app: Starlette) -> AsyncIterator[Send]:
    transport = httpx.ASGITransport(app=app)

    async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        request = httpx.Request(method, f"http://testserver{url}", **kwargs)
        response = await transport.handle_async_request(request)
        await response.aread()
        return response

    yield call
    await transport.aclose()


def _found(text: str) -> list[str]:
    found = [name for name, secret in SECRETS.items() if secret in text]
    return found + (["CVC"] if CVC_NEAR_NAME.search(text) else [])


def _every_log_line(caplog: pytest.LogCaptureFixture, captured: tuple[str, str]) -> str:
    """The log as pytest caught it, as production renders it (JSON and console, with
    tracebacks and every extra field), and whatever was printed."""
    parts = [caplog.text, *captured]
    formatters = [log_formatter(json=True), log_formatter(json=False)]
    for record in caplog.records:
        parts.append(json.dumps(record.__dict__, default=str))
        parts.extend(formatter.format(record) for formatter in formatters)
    return "\n".join(parts)


async def test_no_input_value_reaches_a_log(
    send: Send,
    app: Starlette,
    provider: RecordingProvider,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = await api_key(await make_account())
    auth = {"Authorization": f"Bearer {key}"}
    answers: dict[str, httpx.Response] = {}

    # when every error path is tried, over POST with both media types and over GET
    for name, body in [*BODIES, *BATCHES]:
        for accept in ("application/json", "application/graphql-response+json"):
            answers[f"POST {name} ({accept})"] = await send(
                "POST", "/graphql", json=body, headers={**auth, "Accept": accept}
            )
        if isinstance(body, dict) and "mutation" not in body.get("query", "mutation"):
            params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
            answers[f"GET {name}"] = await send(
                "GET", f"/graphql?{urlencode(params)}", headers=auth
            )
    # and the malformed requests around them
    secret_json = json.dumps({"query": "{ viewer { role } }", "variables": SECRET_VARIABLES})
    answers["413"] = await send(
        "POST",
        "/graphql",
        content=secret_json + " " * 30_000,
        headers={**auth, "Content-Type": "application/json"},
    )
    answers["bad JSON"] = await send(
        "POST",
        "/graphql",
        content=secret_json[:-5],
        headers={**auth, "Content-Type": "application/json"},
    )
    answers["415"] = await send(
        "POST", "/graphql", content=secret_json, headers={**auth, "Content-Type": "text/plain"}
    )
    mutation = f"mutation {{ {SET_NAME} }}"
    answers["mutation over GET"] = await send(
        "GET", f"/graphql?{urlencode({'query': mutation})}", headers=auth
    )
    answers["GET bad variables"] = await send(
        "GET",
        f"/graphql?{urlencode({'query': '{ viewer { role } }', 'variables': secret_json[:-3]})}",
        headers=auth,
    )
    answers["wrong key"] = await send(
        "POST",
        "/graphql",
        json={"query": UPDATE, "variables": SECRET_VARIABLES},
        headers={"Authorization": f"Bearer {CARD}"},
    )

    # and a schema extension fails before execution, with the input in its message
    monkeypatch.setattr(limits, "coerce_variables", _explode_with_the_input)
    answers["extension fails"] = await send(
        "POST", "/graphql", json={"query": UPDATE, "variables": SECRET_VARIABLES}, headers=auth
    )

    # and the endpoint itself fails, with the input in its exception's message
    async def broken_context(self: GraphQLEndpoint, request: Any, response: Any = None) -> NoReturn:
        raise RuntimeError(f"no context for {CARD} {NAME} {EMAIL} cvc {CVC}")

    monkeypatch.setattr(GraphQLEndpoint, "get_context", broken_context)
    answers["endpoint fails"] = await send(
        "POST", "/graphql", json={"query": UPDATE, "variables": SECRET_VARIABLES}, headers=auth
    )
    monkeypatch.undo()

    # then no secret is in any log line
    logs = _every_log_line(caplog, capfd.readouterr())
    assert not _found(logs), _found(logs)
    # nor in any answer (the masked ones say "Unexpected error." and the request id)
    echoed = {name: _found(r.text) for name, r in answers.items() if _found(r.text)}
    assert not echoed, echoed
    # and the scan saw the failures: unexpected ones at error level with their class
    # and traceback frames, the client's at info
    unexpected = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert {getattr(r, "error_class", None) for r in unexpected} == {"ValueError", "RuntimeError"}
    assert all(
        "_explode_with_the_input" in r.traceback or "broken_context" in r.traceback
        for r in unexpected
    )
    assert all(r.exc_info is None for r in caplog.records if r.name.startswith("gateway"))
    client_errors = [
        r
        for r in caplog.records
        if getattr(r, "code", None)
        in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED")
    ]
    assert client_errors and all(r.levelno == logging.INFO for r in client_errors)
    masked = answers["POST a resolver fails (mutation) (application/json)"].json()
    assert masked["errors"][0]["message"] == "Unexpected error."
    assert answers["endpoint fails"].status_code == 500
    assert answers["extension fails"].status_code == 500
    too_costly = answers["POST a batch over the cost budget (application/json)"]
    assert too_costly.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    # and nothing reached the provider
    assert provider.calls == []


async def test_uvicorn_access_line_has_no_query_string(
    app: Starlette, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # given the app served by uvicorn with its access log on (captured on the logger
    # itself, at INFO: a uvicorn started earlier in the session with log_level="warning"
    # raised that logger's level, and may have stopped it propagating)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    access_logger = logging.getLogger("uvicorn.access")
    access_logger.addHandler(caplog.handler)
    access_logger.disabled = False
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=True, lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    for _ in range(500):  # uvicorn has no "started" event to wait on
        if server.started:
            break
        await asyncio.sleep(0.02)
    try:
        # when a GET carries secrets in its variables
        params = urlencode(
            {"query": ACCOUNTS, "variables": json.dumps({"n": CARD, **SECRET_VARIABLES})}
        )
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"GET /graphql?{params} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        answer = (await reader.read()).decode()
        writer.close()
    finally:
        server.should_exit = True
        await serving
        access_logger.removeHandler(caplog.handler)

    # then the access line is there, without them
    assert " 200 OK" in answer.splitlines()[0]
    access = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert access and "GET /graphql?…" in access[0].getMessage()
    logs = _every_log_line(caplog, capfd.readouterr())
    assert not _found(logs), _found(logs)
