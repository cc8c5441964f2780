"""The graphql-http audit suite (npm `graphql-http`, its MUSTs and SHOULDs) against the
gateway served on a loopback port, plus the transport rules it does not cover."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import warnings
from pathlib import Path

import httpx
import pytest

from services.provider.recording import RecordingProvider
from tests.factories import api_key, make_account

AUDIT_DIR = Path(__file__).resolve().parent / "http_audit"
NODE = shutil.which("node")


def _run_audit(url: str) -> list[dict[str, str]]:
    if NODE is None:
        message = (
            "NODE IS NOT INSTALLED: the GraphQL-over-HTTP audit (graphql-http) did NOT run. "
            "CI has node; install Node.js and run `make setup` to run it here."
        )
        warnings.warn(message, stacklevel=2)
        print(f"\n*** {message} ***\n")
        pytest.skip(message)
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        pytest.fail(f"graphql-http is not installed: run `make setup` (npm ci in {AUDIT_DIR})")
    done = subprocess.run(  # noqa: S603 - node on our own audit script
        [NODE, "audit.mjs", url],
        cwd=AUDIT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def test_graphql_http_audit_passes_every_must_and_should(loopback_gateway: str) -> None:
    results = _run_audit(loopback_gateway)

    failed = [
        f"{r['id']} {r['name']}: {r['reason']}"
        for r in results
        if r["status"] != "ok" and r["name"].startswith(("MUST", "SHOULD"))
    ]
    musts = [r for r in results if r["name"].startswith("MUST")]
    shoulds = [r for r in results if r["name"].startswith("SHOULD")]
    print(
        f"\ngraphql-http audit: MUST {sum(r['status'] == 'ok' for r in musts)}/{len(musts)}, "
        f"SHOULD {sum(r['status'] == 'ok' for r in shoulds)}/{len(shoulds)}, "
        f"MAY {sum(r['status'] == 'ok' for r in results if r['name'].startswith('MAY'))}"
        f"/{sum(r['name'].startswith('MAY') for r in results)}"
    )
    assert not failed, "\n".join(failed)
    assert len(musts) >= 10 and len(shoulds) >= 20  # the suite really ran


QUERY = {"query": "{ __typename }"}
MUTATION = 'mutation { updateBillingInfo(input: {name: "Mallory"}) { __typename } }'


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"],
)
async def test_cross_site_request_shapes_cannot_mutate(
    client: httpx.AsyncClient, db: str, content_type: str
) -> None:
    # given an admin key (a browser would attach none, but even with one nothing changes)
    account = await make_account()
    key = await api_key(account)

    response = await client.post(
        "/graphql",
        content=json.dumps({"query": MUTATION}),
        headers={"Content-Type": content_type, "Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 415
    await account.refresh_from_db()
    assert account.billing_name == "Alice Ltd"


async def test_mutation_over_get_is_405(client: httpx.AsyncClient, db: str) -> None:
    account = await make_account()
    key = await api_key(account)

    response = await client.get(
        "/graphql", params={"query": MUTATION}, headers={"Authorization": f"Bearer {key}"}
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    await account.refresh_from_db()
    assert account.billing_name == "Alice Ltd"


async def test_head_is_a_get_and_never_runs_a_mutation(client: httpx.AsyncClient, db: str) -> None:
    # Starlette answers HEAD on a GET route; the endpoint took every method but GET for
    # a POST, so a HEAD with a JSON body ran the mutation in it.
    account = await make_account()
    key = await api_key(account)
    auth = {"Authorization": f"Bearer {key}"}

    with_body = await client.request(
        "HEAD",
        "/graphql",
        content=json.dumps({"query": MUTATION}),
        headers={**auth, "Content-Type": "application/json"},
    )
    mutation_in_params = await client.request(
        "HEAD", "/graphql", params={"query": MUTATION}, headers=auth
    )
    query = await client.request(
        "HEAD", "/graphql", params={"query": "{ viewer { role } }"}, headers=auth
    )

    assert with_body.status_code == 400  # no query in the query string: nothing ran
    assert mutation_in_params.status_code == 405
    assert mutation_in_params.headers["allow"] == "POST"
    assert query.status_code == 200
    assert query.content == b""
    await account.refresh_from_db()
    assert account.billing_name == "Alice Ltd"


async def test_head_never_opens_an_event_stream(client: httpx.AsyncClient, db: str) -> None:
    # A HEAD asking for text/event-stream opened a subscription whose body nobody reads:
    # it ran until the client went away, and held that keep-alive connection meanwhile.
    key = await api_key(await make_account())

    response = await asyncio.wait_for(
        client.request(
            "HEAD",
            "/graphql",
            params={"query": "subscription { billingEvents { type } }"},
            headers={"Authorization": f"Bearer {key}", "Accept": "text/event-stream"},
        ),
        timeout=10,
    )

    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_subscription_over_plain_post_says_how_to_subscribe(
    client: httpx.AsyncClient, db: str
) -> None:
    # A subscription POSTed as JSON (no Accept: text/event-stream) was answered
    # 405 "Mutations only over POST." although it was a POST and no mutation.
    account = await make_account()
    key = await api_key(account)
    headers = {"Authorization": f"Bearer {key}"}
    query = "subscription { billingEvents { id } }"

    posted = await client.post("/graphql", json={"query": query}, headers=headers)
    got = await client.get("/graphql", params={"query": query}, headers=headers)

    assert posted.status_code == 400
    assert "text/event-stream" in posted.json()["errors"][0]["message"]
    assert got.status_code == 405
    assert "Mutations only over POST" not in got.json()["errors"][0]["message"]


async def test_graphql_response_json_media_type(client: httpx.AsyncClient) -> None:
    accept = {"Accept": "application/graphql-response+json"}

    ok = await client.post("/graphql", json=QUERY, headers=accept)
    invalid = await client.post("/graphql", json={"query": "{ nope }"}, headers=accept)
    legacy = await client.post("/graphql", json={"query": "{ nope }"})

    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("application/graphql-response+json")
    assert invalid.status_code == 400
    assert "data" not in invalid.json()
    assert legacy.status_code == 200  # application/json keeps 200 for request errors
    assert legacy.headers["content-type"].startswith("application/json")


async def test_unacceptable_accept_is_406(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json=QUERY, headers={"Accept": "application/xml"})

    assert response.status_code == 406


async def test_cors_only_for_allow_listed_origins(app_client: object) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    async with app_client(cors_allow_origins=["https://portal.example.test"]) as http:  # type: ignore[operator]
        allowed = await http.options(
            "/graphql", headers={"Origin": "https://portal.example.test", **preflight}
        )
        refused = await http.options(
            "/graphql", headers={"Origin": "https://evil.example.test", **preflight}
        )
        simple = await http.post(
            "/graphql", json=QUERY, headers={"Origin": "https://evil.example.test"}
        )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://portal.example.test"
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    assert "access-control-allow-origin" not in simple.headers


UPDATE = """mutation Update($input: UpdateBillingInfoInput!) {
  updateBillingInfo(input: $input) { __typename } }"""
MEDIA_TYPES = [
    ("application/graphql-response+json", 400),
    ("application/json", 200),
]


@pytest.mark.parametrize(("accept", "status"), MEDIA_TYPES)
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"input": {"name": "Zed", "taxId": 4242424242424242}},
            'Variable "$input.taxId" has an invalid value: String cannot represent a non'
            " string value.",
        ),
        ({}, 'Variable "$input" of required type UpdateBillingInfoInput! was not provided.'),
        ({"input": None}, 'Variable "$input" has an invalid value: null is not allowed'),
        (
            {"input": {"nmae": "Zed Quaxworth"}},
            'Variable "$input" has an invalid value: UpdateBillingInfoInput has no field nmae.'
            " Did you mean 'name'?",
        ),
        (
            {"input": "Zed Quaxworth"},
            'Variable "$input" has an invalid value: UpdateBillingInfoInput expects an object.',
        ),
    ],
)
async def test_bad_variables_are_the_clients_error(
    client: httpx.AsyncClient,
    db: str,
    provider: RecordingProvider,
    caplog: pytest.LogCaptureFixture,
    accept: str,
    status: int,
    variables: dict[str, object],
    message: str,
) -> None:
    # given an account and a mutation sent with variables that do not fit it
    account = await make_account()
    key = await api_key(account)
    caplog.set_level(logging.INFO)

    # when
    response = await client.post(
        "/graphql",
        json={"query": UPDATE, "variables": variables},
        headers={"Authorization": f"Bearer {key}", "Accept": accept},
    )

    # then a request error that says what is wrong, without the value
    assert response.status_code == status
    assert response.headers["content-type"].startswith(accept)
    body = response.json()
    assert "data" not in body
    assert len(body["errors"]) == 1
    assert body["errors"][0]["message"].startswith(message)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "4242" not in response.text and "Quaxworth" not in response.text
    # logged at info, with no traceback
    graphql_logs = [r for r in caplog.records if r.name == "gateway.graphql"]
    assert [(r.levelno, r.code) for r in graphql_logs] == [(logging.INFO, "BAD_USER_INPUT")]  # type: ignore[attr-defined]
    assert not any(r.exc_info for r in caplog.records)
    # and nothing ran
    await account.refresh_from_db()
    assert account.billing_name == "Alice Ltd"
    assert provider.calls == []


@pytest.mark.parametrize(("accept", "status"), MEDIA_TYPES)
async def test_parse_and_validation_errors_carry_codes(
    client: httpx.AsyncClient, accept: str, status: int
) -> None:
    parse = await client.post(
        "/graphql", json={"query": "{ viewer 4242 }"}, headers={"Accept": accept}
    )
    literal = await client.post(
        "/graphql",
        json={"query": "mutation { updateBillingInfo(input: {name: 4242}) { __typename } }"},
        headers={"Accept": accept},
    )

    assert (parse.status_code, literal.status_code) == (status, status)
    assert parse.json()["errors"][0]["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
    assert parse.json()["errors"][0]["message"] == "Syntax Error: Expected Name, found Int."
    assert literal.json()["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert literal.json()["errors"][0]["message"] == (
        "Invalid value: String cannot represent a non string value."
    )


ROLE = "query Role { viewer { role } }"
RENAME = 'mutation Rename { updateBillingInfo(input: {name: "Mallory"}) { __typename } }'
SEVERAL = f"{ROLE} {RENAME}"


@pytest.mark.parametrize("accept", [accept for accept, _ in MEDIA_TYPES])
@pytest.mark.parametrize(
    ("query", "operation_name"),
    [
        (f"{RENAME} {ROLE}", None),  # the mutation first: it used to run
        (SEVERAL, None),
        (SEVERAL, "Nope"),
        (ROLE, "Nope"),
    ],
)
async def test_operation_name_must_pick_one_operation(
    client: httpx.AsyncClient,
    db: str,
    provider: RecordingProvider,
    accept: str,
    query: str,
    operation_name: str | None,
) -> None:
    # given a document whose operationName picks no operation (missing with several)
    account = await make_account()
    key = await api_key(account)
    headers = {"Authorization": f"Bearer {key}", "Accept": accept}

    # when it is sent over POST, and its queries over GET
    post = await client.post(
        "/graphql", json={"query": query, "operationName": operation_name}, headers=headers
    )
    params = {"query": query, **({"operationName": operation_name} if operation_name else {})}
    get = await client.get("/graphql", params=params, headers=headers)

    # then it is refused with 400 (both media types), saying why, and nothing ran
    for response in (post, get):
        assert response.status_code == 400, response.text
        body = response.json()
        assert "data" not in body
        assert [e["extensions"]["code"] for e in body["errors"]] == ["OPERATION_RESOLUTION_FAILURE"]
        assert "operationName" in body["errors"][0]["message"]
    await account.refresh_from_db()
    assert account.billing_name == "Alice Ltd"
    assert provider.calls == []


async def test_operation_name_picks_the_operation(client: httpx.AsyncClient, db: str) -> None:
    key = await api_key(await make_account())

    response = await client.post(
        "/graphql",
        json={"query": SEVERAL, "operationName": "Role"},
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.json() == {"data": {"viewer": {"role": "ADMIN"}}}
