"""docs/partner_example.py, the partner quick-start's client, run as a user would run it
against the demo (its data and partner key) served on a loopback port. The server is
set tight so the example must show it respects both limits: pages too costly for the
budget are asked for at half the size, and 429s wait for Retry-After."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gateway.demo import DEMO_EMAILS, seed_if_absent, write_credentials
from gateway.sandbox import Sandbox
from services.context import ServiceContext
from tests.conftest import NOW
from tests.portal.conftest import PortalFactory

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "partner_example.py"


async def test_partner_example_pages_reads_and_handles_refusals(
    start_portal: PortalFactory, services: ServiceContext, sandbox: Sandbox, tmp_path: Path
) -> None:
    # given the demo's data and keys, on a gateway whose budget refuses a page of 4
    # accounts (cost 70 > 50) and whose rate limit allows 2 requests per 2-second window
    assert await seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
    credentials = await write_credentials(tmp_path / "demo-credentials.json", NOW)
    portal = await start_portal(
        environment="demo",
        max_query_cost=50,
        rate_limit_per_key=2,
        rate_limit_window_seconds=2,
    )

    # when the example runs with the partner key, asking for pages of 4
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        "--url",
        f"{portal.base_url}/graphql",
        "--key",
        credentials["partner"],
        "--page-size",
        "4",
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out_bytes, err_bytes = await asyncio.wait_for(process.communicate(), timeout=120)
    out, err = out_bytes.decode(), err_bytes.decode()
    print(out, err, sep="\n")  # shown when the test fails

    # then it read every demo account, page by page, with each one's billing snapshot
    assert process.returncode == 0, err
    assert "QUERY_TOO_COSTLY: asking for pages of 2" in err
    assert "rate limited: waiting" in err
    assert "page 1: 2 of 4 account(s), hasNextPage=True" in out
    assert "page 2: 2 of 4 account(s), hasNextPage=False" in out
    assert "read 4 account(s)" in out
    for email in DEMO_EMAILS:
        assert f"<{email}>" in out
    assert (
        "Past Due Demo LLC <pastdue@demo.test>: PLUS, Plus (monthly) PAST_DUE (paid features off)"
        in out
    )
    assert "Enterprise Demo Corp <enterprise@demo.test>: ENTERPRISE" in out
    # and the read-only key's mutation came back as a UserError, switched on its code
    assert ": refused PERMISSION_DENIED (read-only key): " in out
