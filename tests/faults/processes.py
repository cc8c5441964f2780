"""The gateway and the worker as real processes, for the crash and cross-process tests.

Each process gets its own process group, so stopping one (or reaping what a crashed
one left behind, like its PDF render workers) never touches anything else. They are
configured only through BILLING_* variables, as in production, and talk to the
provider through the fault proxy, which keeps Stripe's idempotency-key cache. That
proxy runs on the test's event loop, so every wait here is async: a blocking wait
would stall the proxy the process is talking to.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
_READY_TIMEOUT_S = 40.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def billing_env(
    database_url: str, api_base: str, secret_key: str, publishable_key: str, **extra: str
) -> dict[str, str]:
    """The environment of a gateway or worker process on the test database and proxy."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    env.update(
        BILLING_DATABASE_URL=database_url,
        BILLING_STRIPE_API_KEY=secret_key,
        BILLING_STRIPE_PUBLISHABLE_KEY=publishable_key,
        BILLING_STRIPE_API_BASE=api_base,
        BILLING_STRIPE_TIMEOUT_SECONDS="5",
        BILLING_ENVIRONMENT="development",
        BILLING_LOG_LEVEL="WARNING",
        BILLING_ACCESS_LOG="false",
        BILLING_DOCUMENT_RENDER_WORKERS="1",
        BILLING_SMTP_PORT=str(free_port()),  # nobody listens: the outbox just waits
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


class Process:
    """One `billing-gateway` subcommand in its own process group, output to a log file."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.log = Path(tempfile.mkstemp(prefix="billing-proc-", suffix=".log")[1])
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - our own CLI, fixed argv
                [sys.executable, "-m", "gateway.cli", *args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait(self, limit_s: float = 60) -> int:
        try:
            return await asyncio.to_thread(self.popen.wait, limit_s)
        finally:
            self.reap()

    def reap(self) -> None:
        """Kill whatever is left of the process group (a crash leaves its children)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(10)
        self.reap()
        self.log.unlink(missing_ok=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


class Gateway(Process):
    """`billing-gateway serve` on a free loopback port, ready when /healthz answers."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(["serve", "--host", "127.0.0.1", "--port", str(self.port)], env)

    async def wait_ready(self) -> Gateway:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _READY_TIMEOUT_S
        async with httpx.AsyncClient(timeout=1) as http:
            while loop.time() < deadline:
                if self.popen.poll() is not None:
                    raise RuntimeError(f"gateway exited {self.popen.returncode}:\n{self.output()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"{self.url}/healthz")).status_code == 200:
                        return self
                await asyncio.sleep(0.1)
        raise RuntimeError(f"gateway not ready after {_READY_TIMEOUT_S}s:\n{self.output()}")


async def run_cli(args: list[str], env: dict[str, str], limit_s: float = 60) -> tuple[int, str]:
    """Run a `billing-gateway` subcommand to the end; its exit status and output."""
    proc = Process(args, env)
    try:
        code = await proc.wait(limit_s)
        return code, proc.output()
    finally:
        proc.stop()
