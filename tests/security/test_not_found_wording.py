"""Every NOT_FOUND for an ID reads the same, whatever the reason: another account's
record, a missing one, or an ID of another type. Walks the same ID-taking fields as
the isolation suite (its CASES), so a new field is covered as soon as it has a case."""

from __future__ import annotations

import httpx

from gateway.sandbox import Sandbox
from resolvers.ids import from_global_id
from services.context import ServiceContext
from services.errors import NotFound
from services.provider.recording import RecordingProvider
from tests.factories import gql
from tests.graphql.helpers import billed_account, gid
from tests.security.test_tenant_isolation import CASES, _attacker

#: An ID of another type, for each type the victim's IDs have.
_OTHER_TYPE = {
    "Account": "Invoice",
    "Invoice": "PaymentMethod",
    "PaymentMethod": "Payment",
    "Payment": "Account",
}


def _variants(victim: dict[str, str]) -> dict[str, dict[str, str]]:
    """The victim's IDs, then the same IDs missing, then the same pks of another type."""
    decoded = {name: from_global_id(value) for name, value in victim.items()}
    return {
        "another account's": victim,
        "missing": {name: gid(type_, 999_999) for name, (type_, _) in decoded.items()},
        "wrong type": {name: gid(_OTHER_TYPE[type_], pk) for name, (type_, pk) in decoded.items()},
    }


async def test_every_not_found_for_an_id_reads_the_same(
    client: httpx.AsyncClient,
    sandbox: Sandbox,
    services: ServiceContext,
    provider: RecordingProvider,
) -> None:
    _, victim = await billed_account(services, sandbox, provider)
    keys, mine = await _attacker(services, sandbox)

    messages: dict[str, set[str]] = {}
    for case, (document, variables) in CASES.items():
        if variables is None:
            continue
        document = document.replace("{ code }", "{ code message }")
        for reason, ids in _variants(victim).items():
            body = await gql(client, document, variables(ids, mine), key=keys["admin"])
            assert "errors" not in body, (case, reason, body)
            (result,) = body["data"].values()
            if result is not None and result.get("code") == "NOT_FOUND":
                messages.setdefault(result["message"], set()).add(f"{case} ({reason})")

    assert set(messages) == {NotFound.default_message}, messages
