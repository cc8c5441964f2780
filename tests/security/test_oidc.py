"""OIDC / JWT bearer tokens: keys generated here, the JWKS served on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.factories import make_account
from tests.security.conftest import AppClient, JWKSServer

ISSUER = "https://idp.example.test/"
AUDIENCE = "billing-gateway"
VIEWER = "query { viewer { role account { email } } }"
UPDATE = 'mutation { updateBillingInfo(input: {name: "Via SPA"}) { __typename } }'

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(private: Any, kid: str) -> dict[str, Any]:
    algorithm = RSAAlgorithm if isinstance(private, rsa.RSAPrivateKey) else ECAlgorithm
    jwk: dict[str, Any] = json.loads(algorithm.to_jwk(private.public_key()))
    jwk.update(kid=kid, use="sig", alg="RS256" if algorithm is RSAAlgorithm else "ES256")
    return jwk


def token(
    private: Any = RSA_KEY, *, kid: str = "rsa-1", algorithm: str = "RS256", **claims: Any
) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-42",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 300,
        "billing_account": "alice@example.test",
        "billing_role": "admin",
    }
    body.update(claims)
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None},
        private,
        algorithm=algorithm,
        headers={"kid": kid},
    )


@pytest.fixture
def jwks(jwks_server: JWKSServer) -> Iterator[JWKSServer]:
    jwks_server.keys = [_jwk(RSA_KEY, "rsa-1"), _jwk(EC_KEY, "ec-1")]
    jwks_server.fetches = 0
    yield jwks_server


def _settings(jwks: JWKSServer) -> dict[str, Any]:
    return {
        "oidc_issuer": ISSUER,
        "oidc_audience": AUDIENCE,
        "oidc_jwks_url": jwks.url,
        "oidc_jwks_refresh_interval_seconds": 0.0,
    }


async def _call(http: httpx.AsyncClient, query: str, bearer: str) -> dict[str, Any]:
    response = await http.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {bearer}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("key", "kid", "algorithm"), [(RSA_KEY, "rsa-1", "RS256"), (EC_KEY, "ec-1", "ES256")]
)
async def test_valid_token_signs_in(
    app_client: AppClient, db: str, jwks: JWKSServer, key: Any, kid: str, algorithm: str
) -> None:
    account = await make_account()
    async with app_client(**_settings(jwks)) as http:
        body = await _call(http, VIEWER, token(key, kid=kid, algorithm=algorithm))
        update = await _call(http, UPDATE, token(key, kid=kid, algorithm=algorithm))

    assert body["data"]["viewer"] == {"role": "ADMIN", "account": {"email": account.email}}
    assert update["data"]["updateBillingInfo"]["__typename"] == "UpdateBillingInfoSuccess"


async def test_viewer_role_claim_cannot_write(
    app_client: AppClient, db: str, jwks: JWKSServer
) -> None:
    account = await make_account()
    async with app_client(**_settings(jwks)) as http:
        body = await _call(http, UPDATE, token(billing_role="viewer"))
        default = await _call(http, VIEWER, token(billing_role=None))

    assert body["data"]["updateBillingInfo"]["__typename"] == "PermissionDeniedError"
    assert default["data"]["viewer"]["role"] == "VIEWER"
    await account.refresh_from_db()
    assert account.billing_name == "Alice Ltd"


def _forged() -> list[tuple[str, str]]:
    now = int(time.time())
    hs = jwt.encode(
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "x",
            "exp": now + 60,
            "billing_account": "alice@example.test",
        },
        "a-shared-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
        headers={"kid": "rsa-1"},
    )
    header, payload, _ = token().split(".")
    none = jwt.utils.base64url_encode(b'{"alg":"none","kid":"rsa-1"}').decode()
    return [
        ("expired", token(exp=now - 120)),
        ("not yet valid", token(nbf=now + 600)),
        ("wrong issuer", token(iss="https://evil.example.test/")),
        ("wrong audience", token(aud="someone-else")),
        ("no expiry", token(exp=None)),
        ("signed by a stranger", token(OTHER_RSA_KEY)),
        ("HS256", hs),
        ("alg none", f"{none}.{payload}."),
        ("tampered", f"{header}.{payload[:-2]}AA.{token().split('.')[2]}"),
        ("unknown account", token(billing_account="nobody@example.test")),
        ("partner role", token(billing_role="partner")),
        ("no account claim", token(billing_account=None)),
    ]


@pytest.mark.parametrize(("case", "bearer"), _forged(), ids=[c for c, _ in _forged()])
async def test_forged_or_invalid_tokens_are_unauthenticated(
    app_client: AppClient, db: str, jwks: JWKSServer, case: str, bearer: str
) -> None:
    await make_account()
    async with app_client(**_settings(jwks)) as http:
        body = await _call(http, VIEWER, bearer)

    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


async def test_unknown_kid_refreshes_the_jwks_once(
    app_client: AppClient, db: str, jwks: JWKSServer
) -> None:
    # given a gateway that has cached the IdP's keys
    await make_account()
    async with app_client(**_settings(jwks)) as http:
        await _call(http, VIEWER, token())
        fetches = jwks.fetches
        # when the IdP rotates to a new key
        new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwks.keys = [*jwks.keys, _jwk(new_key, "rsa-2")]
        body = await _call(http, VIEWER, token(new_key, kid="rsa-2"))
        again = await _call(http, VIEWER, token(new_key, kid="rsa-2"))

    # then one refetch found it, and the cache serves it after
    assert body["data"]["viewer"]["role"] == "ADMIN"
    assert again["data"]["viewer"]["role"] == "ADMIN"
    assert jwks.fetches == fetches + 1


async def test_forged_kids_do_not_hammer_the_idp(
    app_client: AppClient, db: str, jwks: JWKSServer
) -> None:
    await make_account()
    settings = {**_settings(jwks), "oidc_jwks_refresh_interval_seconds": 60.0}
    async with app_client(**settings) as http:
        await _call(http, VIEWER, token())
        before = jwks.fetches
        for n in range(5):
            body = await _call(http, VIEWER, token(OTHER_RSA_KEY, kid=f"forged-{n}"))
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    assert jwks.fetches - before <= 1


async def test_tokens_are_refused_when_oidc_is_not_configured(
    client: httpx.AsyncClient, db: str
) -> None:
    await make_account()

    body = await _call(client, VIEWER, token())

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
