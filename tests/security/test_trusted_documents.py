"""Trusted documents (gateway/trusted.py): a manifest whose ids are not its bodies' hashes
stops start-up; in `require` mode a browser token runs manifest documents only (by hash,
GET or POST, or by exact text) and nothing else executes; API keys stay free; `allow`
pre-registers the hashes; the 304 path works for trusted documents."""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.cli import cmd_serve
from gateway.cli_trusted import PORTAL_API_JS, manifest, manifest_bytes, portal_documents
from gateway.settings import Settings
from gateway.trusted import PORTAL_MANIFEST, ManifestError, load_manifest
from models import Account, ApiKeyRole, BillingEvent
from tests.factories import api_key, make_account, make_invoice, subscribe
from tests.portal.test_documents import _documents as documents_the_portal_test_checks
from tests.security.conftest import AppClient, JWKSServer
from tests.security.test_oidc import AUDIENCE, ISSUER, RSA_KEY, _jwk, token

ROLE = "query Role { viewer { role } }"
PAGE = "query Page { viewer { account { billingInfo { name } outstandingBalance { amount } } } }"
RENAME = 'mutation Rename { updateBillingInfo(input: {name: "Trusted"}) { __typename } }'
UNTRUSTED = 'mutation Evil { updateBillingInfo(input: {name: "Evil"}) { __typename } }'
DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _apq(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": _sha(text)}}


@pytest.fixture
def jwks(jwks_server: JWKSServer) -> Iterator[JWKSServer]:
    jwks_server.keys = [_jwk(RSA_KEY, "rsa-1")]
    yield jwks_server


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    path = tmp_path / "trusted.json"
    path.write_bytes(manifest_bytes({"ROLE": ROLE, "PAGE": PAGE, "RENAME": RENAME}))
    return path


def _settings(jwks: JWKSServer, manifest_path: Path, mode: str = "require") -> dict[str, Any]:
    return {
        "oidc_issuer": ISSUER,
        "oidc_audience": AUDIENCE,
        "oidc_jwks_url": jwks.url,
        "oidc_jwks_refresh_interval_seconds": 0.0,
        "trusted_documents": mode,
        "trusted_documents_manifest": manifest_path,
    }


def _bearer(credential: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}", **headers}


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


# --- the manifest ---------------------------------------------------------------------


def test_a_manifest_id_that_is_not_its_body_hash_refuses_start(
    manifest_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a manifest where one id names another text
    content = json.loads(manifest_path.read_text())
    content["operations"][0]["body"] = UNTRUSTED
    manifest_path.write_text(json.dumps(content))
    settings = Settings(trusted_documents="allow", trusted_documents_manifest=manifest_path)

    # then the app refuses to build, and `serve` prints one line and exits before migrating
    with pytest.raises(ManifestError, match="not the SHA-256 of its body"):
        create_app(settings)
    assert cmd_serve(argparse.Namespace(host=None, port=None, workers=None), settings) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: trusted-documents manifest ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"format": "other", "version": 1, "operations": []}', '"format" must be'),
        ('{"format": "apollo-persisted-query-manifest", "version": 2}', '"version": 1'),
        ('{"format": "apollo-persisted-query-manifest", "version": 1, "operations": []}', "non"),
        (
            '{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{}]}',
            'string "id" and "body"',
        ),
    ],
)
def test_a_malformed_manifest_is_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(ManifestError, match=message):
        load_manifest(path)
    with pytest.raises(ManifestError, match="cannot be read"):
        load_manifest(tmp_path / "missing.json")


def test_off_never_reads_the_manifest(tmp_path: Path) -> None:
    create_app(Settings(trusted_documents_manifest=tmp_path / "missing.json"))


def test_the_shipped_portal_manifest_is_current_and_holds_every_portal_document() -> None:
    # the file the portal ships is what the command writes today
    assert PORTAL_MANIFEST.read_bytes() == manifest_bytes(portal_documents(PORTAL_API_JS))
    # and it lists every document the portal test validates against the schema, verified
    shipped = load_manifest(PORTAL_MANIFEST)
    assert set(shipped.values()) == set(documents_the_portal_test_checks().values())
    operations = manifest(portal_documents())["operations"]
    names = {o["name"] for o in operations}
    assert {"Portal", "PortalAccount", "PayInvoice", "PortalEvents"} <= names
    assert {o["type"] for o in operations} == {"query", "mutation", "subscription"}


# --- require -------------------------------------------------------------------------


async def test_require_refuses_an_untrusted_mutation_and_changes_nothing(
    app_client: AppClient, db: str, jwks: JWKSServer, manifest_path: Path
) -> None:
    account = await make_account()
    events = await BillingEvent.all().count()
    bearer = _bearer(token())
    async with app_client(**_settings(jwks, manifest_path)) as http:
        as_text = await http.post("/graphql", json={"query": UNTRUSTED}, headers=bearer)
        as_json = await http.post(
            "/graphql",
            json={"query": UNTRUSTED},
            headers={**bearer, "Accept": "application/json"},
        )
        batch = await http.post("/graphql", json=[{"query": UNTRUSTED}], headers=bearer)

    for refused in (as_text, as_json):
        assert refused.status_code == 400
        assert _code(refused) == DOCUMENT_NOT_TRUSTED
        assert "data" not in refused.json()
        assert len(refused.json()["errors"]) == 1
    assert _code_of_batch(batch) == DOCUMENT_NOT_TRUSTED
    await account.refresh_from_db()
    assert account.billing_name == "Alice Ltd"
    assert await BillingEvent.all().count() == events


def _code_of_batch(response: httpx.Response) -> str:
    code: str = response.json()[0]["errors"][0]["extensions"]["code"]
    return code


async def test_require_runs_a_trusted_mutation_by_hash_or_text(
    app_client: AppClient, db: str, jwks: JWKSServer, manifest_path: Path
) -> None:
    account = await make_account()
    bearer = _bearer(token())
    async with app_client(**_settings(jwks, manifest_path)) as http:
        by_hash = await http.post("/graphql", json={"extensions": _apq(RENAME)}, headers=bearer)
        by_text = await http.post("/graphql", json={"query": RENAME}, headers=bearer)

    for ran in (by_hash, by_text):
        assert ran.status_code == 200, ran.text
        assert ran.json()["data"]["updateBillingInfo"]["__typename"] == "UpdateBillingInfoSuccess"
    await account.refresh_from_db()
    assert account.billing_name == "Trusted"


async def test_require_runs_a_trusted_query_by_hash_over_get_and_post(
    app_client: AppClient, db: str, jwks: JWKSServer, manifest_path: Path
) -> None:
    await make_account()
    bearer = _bearer(token())
    extensions = json.dumps(_apq(ROLE))
    async with app_client(**_settings(jwks, manifest_path)) as http:
        post = await http.post("/graphql", json={"extensions": _apq(ROLE)}, headers=bearer)
        get = await http.get("/graphql", params={"extensions": extensions}, headers=bearer)

    assert post.json() == {"data": {"viewer": {"role": "ADMIN"}}}
    assert get.status_code == 200
    assert get.json() == post.json()


async def test_require_refuses_apq_registration_of_a_new_document(
    app_client: AppClient, db: str, jwks: JWKSServer, manifest_path: Path
) -> None:
    account = await make_account()
    new = "query Email { viewer { account { email } } }"
    key = await api_key(account, ApiKeyRole.VIEWER)
    async with app_client(**_settings(jwks, manifest_path)) as http:
        register = await http.post(
            "/graphql", json={"query": new, "extensions": _apq(new)}, headers=_bearer(token())
        )
        by_hash = await http.post(
            "/graphql", json={"extensions": _apq(new)}, headers=_bearer(token())
        )
        # an exempt caller asking for the hash finds nothing was registered
        key_by_hash = await http.post(
            "/graphql", json={"extensions": _apq(new)}, headers=_bearer(key)
        )
        lying = await http.post(
            "/graphql", json={"query": new, "extensions": _apq(ROLE)}, headers=_bearer(token())
        )

    assert register.status_code == 400 and _code(register) == DOCUMENT_NOT_TRUSTED
    assert by_hash.status_code == 400 and _code(by_hash) == DOCUMENT_NOT_TRUSTED
    assert _code(key_by_hash) == "PERSISTED_QUERY_NOT_FOUND"
    # a trusted hash with another text is not a way in
    assert _code(lying) == "PERSISTED_QUERY_INVALID"
    assert "data" not in lying.json()


async def test_require_leaves_api_keys_free_and_binds_anonymous_callers(
    app_client: AppClient, db: str, jwks: JWKSServer, manifest_path: Path
) -> None:
    account = await make_account()
    key = await api_key(account, ApiKeyRole.ADMIN)
    async with app_client(**_settings(jwks, manifest_path)) as http:
        partner_style = await http.post("/graphql", json={"query": UNTRUSTED}, headers=_bearer(key))
        anonymous = await http.post("/graphql", json={"query": "{ __typename }"})
        introspection = await http.post(
            "/graphql", json={"query": "{ __schema { queryType { name } } }"}, headers=_bearer(key)
        )

    assert partner_style.json()["data"]["updateBillingInfo"]["__typename"] == (
        "UpdateBillingInfoSuccess"
    )
    assert introspection.json()["data"]["__schema"]["queryType"]["name"] == "Query"
    assert anonymous.status_code == 400 and _code(anonymous) == DOCUMENT_NOT_TRUSTED
    assert (await Account.get(id=account.id)).billing_name == "Evil"


async def test_require_can_bind_api_keys_too(
    app_client: AppClient, db: str, jwks: JWKSServer, manifest_path: Path
) -> None:
    account = await make_account()
    key = await api_key(account, ApiKeyRole.ADMIN)
    settings = {**_settings(jwks, manifest_path), "trusted_documents_required_for": ["api_key"]}
    async with app_client(**settings) as http:
        by_key = await http.post("/graphql", json={"query": UNTRUSTED}, headers=_bearer(key))
        by_token = await http.post("/graphql", json={"query": ROLE}, headers=_bearer(token()))

    assert by_key.status_code == 400 and _code(by_key) == DOCUMENT_NOT_TRUSTED
    assert by_token.json() == {"data": {"viewer": {"role": "ADMIN"}}}
    await account.refresh_from_db()
    assert account.billing_name == "Alice Ltd"


async def test_require_refuses_an_untrusted_subscription_over_sse(
    app_client: AppClient, db: str, jwks: JWKSServer, manifest_path: Path
) -> None:
    await make_account()
    query = "subscription { billingEvents { cursor type } }"
    headers = _bearer(token(), Accept="text/event-stream")
    async with app_client(**_settings(jwks, manifest_path)) as http:
        response = await http.post("/graphql", json={"query": query}, headers=headers)

    # one error event, nothing subscribed
    assert DOCUMENT_NOT_TRUSTED in response.text
    assert '"data":null' in response.text and "cursor" not in response.text


async def test_require_with_the_shipped_manifest_runs_the_portal_query(
    app_client: AppClient, db: str, jwks: JWKSServer
) -> None:
    # given no manifest setting: the portal's shipped manifest is the one
    await make_account()
    settings = {**_settings(jwks, PORTAL_MANIFEST), "trusted_documents_manifest": None}
    portal_query = portal_documents()["PORTAL_QUERY"]
    async with app_client(**settings) as http:
        response = await http.post(
            "/graphql", json={"query": portal_query}, headers=_bearer(token())
        )

    assert response.status_code == 200, response.text
    assert "errors" not in response.json()


async def test_require_answers_304_for_an_unchanged_trusted_page(
    app_client: AppClient, db: str, jwks: JWKSServer, manifest_path: Path
) -> None:
    account = await make_account()
    await make_invoice(account, subscription=await subscribe(account))
    params = {"extensions": json.dumps(_apq(PAGE))}
    async with app_client(**_settings(jwks, manifest_path)) as http:
        first = await http.get("/graphql", params=params, headers=_bearer(token()))
        etag = first.headers["etag"]
        again = await http.get(
            "/graphql", params=params, headers=_bearer(token(), **{"If-None-Match": etag})
        )
        await http.post("/graphql", json={"extensions": _apq(RENAME)}, headers=_bearer(token()))
        changed = await http.get(
            "/graphql", params=params, headers=_bearer(token(), **{"If-None-Match": etag})
        )

    assert first.status_code == 200 and "errors" not in first.json()
    assert again.status_code == 304 and again.content == b""
    assert changed.status_code == 200
    assert changed.json()["data"]["viewer"]["account"]["billingInfo"]["name"] == "Trusted"
    assert changed.headers["etag"] != etag


# --- allow ---------------------------------------------------------------------------


async def test_allow_knows_trusted_hashes_up_front_and_runs_anything_else(
    app_client: AppClient, db: str, jwks: JWKSServer, manifest_path: Path
) -> None:
    account = await make_account()
    other = "query Email { viewer { account { email } } }"
    bearer = _bearer(token())
    async with app_client(**_settings(jwks, manifest_path, "allow")) as http:
        first = await http.get(
            "/graphql", params={"extensions": json.dumps(_apq(ROLE))}, headers=bearer
        )
        free_text = await http.post("/graphql", json={"query": other}, headers=bearer)
        register = await http.post(
            "/graphql", json={"query": other, "extensions": _apq(other)}, headers=bearer
        )
        by_hash = await http.post("/graphql", json={"extensions": _apq(other)}, headers=bearer)

    assert first.json() == {"data": {"viewer": {"role": "ADMIN"}}}
    email = {"data": {"viewer": {"account": {"email": account.email}}}}
    assert free_text.json() == register.json() == by_hash.json() == email
