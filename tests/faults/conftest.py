"""Fixtures of the fault tests: the misbehaving provider, and the matrix they fill.

`fault_proxy` sits between the gateway's StripeProvider and the session's localstripe
(tests/faults/proxy.py). Providers here use a 1 s timeout, so a held request times
out fast, in two flavours: no SDK retries (every fault reaches our code: the typed
error, the stale PENDING payment, the reconciler) and the SDK's own retries with the
same key (production's setting: the fault is mostly absorbed inside one call, which
exercises the proxy's replay and in-flight 409).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.sandbox import Sandbox
from services.provider.stripe import StripeProvider
from tests.faults.matrix import MATRIX_PATH, MatrixRow, expected_rows, render_matrix
from tests.faults.processes import Gateway, billing_env
from tests.faults.proxy import FaultProxy

CLIENT_TIMEOUT_S = 1.0
SDK_RETRIES = (0, 2)


@pytest.fixture(scope="session")
async def fault_proxy(sandbox: Sandbox) -> AsyncIterator[FaultProxy]:
    proxy = await FaultProxy(sandbox.api_base, hold_s=CLIENT_TIMEOUT_S + 0.5).start()
    try:
        yield proxy
    finally:
        await proxy.stop()


@pytest.fixture(scope="session")
async def fault_providers(
    sandbox: Sandbox, fault_proxy: FaultProxy
) -> AsyncIterator[dict[int, StripeProvider]]:
    """SDK retries -> a provider talking to the proxy with that many retries."""
    providers = {
        retries: StripeProvider(
            sandbox.secret_key,
            sandbox.publishable_key,
            api_base=fault_proxy.url,
            js_url=sandbox.js_url,
            timeout_s=CLIENT_TIMEOUT_S,
            max_network_retries=retries,
        )
        for retries in SDK_RETRIES
    }
    yield providers
    for provider in providers.values():
        await provider.close()


@pytest.fixture(scope="session")
def fault_matrix() -> Iterator[list[MatrixRow]]:
    """Rows appended by test_matrix.py; docs/fault-matrix.md is rewritten at the end of
    the session only when every row ran and passed, so a partial run never clobbers it."""
    rows: list[MatrixRow] = []
    yield rows
    if {row.key for row in rows if row.passed} >= expected_rows():
        Path(MATRIX_PATH).write_text(render_matrix(rows))


@pytest.fixture(scope="session")
def process_env(db: str, sandbox: Sandbox, fault_proxy: FaultProxy) -> dict[str, str]:
    """BILLING_* for gateway and worker processes: the test database, the proxy."""
    return billing_env(db, fault_proxy.url, sandbox.secret_key, sandbox.publishable_key)


@pytest.fixture(scope="session")
async def gateways(process_env: dict[str, str]) -> AsyncIterator[list[Gateway]]:
    """Two `billing-gateway serve` processes on the test database, started once."""
    procs = [Gateway(process_env) for _ in range(2)]
    try:
        for proc in procs:
            await proc.wait_ready()
        yield procs
    finally:
        for proc in procs:
            proc.stop()
