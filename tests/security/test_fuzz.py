"""schemathesis (GraphQL mode) generates queries and mutations for every root field; the
app in-process answers each with no 5xx and no unexpected (masked) error. Fixed seed,
bounded examples, so it runs the same in CI every time."""

from __future__ import annotations

from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as fixed_seed

from schema import schema
from tests.factories import api_key, make_account, make_invoice, subscribe

EXAMPLES_PER_FIELD = 8


def _register_scalars() -> None:
    """Our custom scalars, for schemathesis: decimals as strings (valid ones and junk),
    so the fuzzer reaches the Decimal parser instead of stopping at it."""
    from hypothesis import strategies as st
    from hypothesis_graphql import nodes

    decimals = st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
        st.text(max_size=12),
    )
    schemathesis.graphql.scalar("Decimal", decimals.map(nodes.String))


_register_scalars()


def generated_bodies() -> list[tuple[str, dict[str, Any]]]:
    """(operation, request body) pairs, the same on every run."""
    fuzz_schema = schemathesis.graphql.from_file(schema.as_str())
    bodies: list[tuple[str, dict[str, Any]]] = []
    for result in fuzz_schema.get_all_operations():
        operation = result.ok()
        label = operation.label

        @fixed_seed(20261122)
        @settings(
            max_examples=EXAMPLES_PER_FIELD,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def collect(case: Any) -> None:
            bodies.append((label, case.body))  # noqa: B023 - collect() runs right here

        collect()
    return bodies


async def test_fuzzed_operations_never_fail_unexpectedly(
    client: httpx.AsyncClient, db: str
) -> None:
    # given an account with some data and an admin key (so resolvers really run)
    account = await make_account()
    await make_invoice(account, subscription=await subscribe(account))
    key = await api_key(account)
    bodies = generated_bodies()
    assert len({label for label, _ in bodies}) >= 10  # every root field got examples

    failures = []
    for label, body in bodies:
        response = await client.post(
            "/graphql", json=body, headers={"Authorization": f"Bearer {key}"}
        )
        payload = response.json()
        errors = payload.get("errors", []) if isinstance(payload, dict) else []
        internal = [e for e in errors if e.get("extensions", {}).get("code") == "INTERNAL"]
        shape_ok = isinstance(payload, dict) and set(payload) <= {"data", "errors", "extensions"}
        if response.status_code >= 500 or internal or not shape_ok or response.status_code >= 401:
            failures.append((label, response.status_code, body.get("query"), payload))

    assert not failures, failures[:3]
