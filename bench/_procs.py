"""Starting the servers and the load generator for bench/run.py: subprocesses pinned to
one core each, waited for, stopped by pid."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def cores() -> tuple[int, int]:
    """(server core, client core); one shared core when the machine has only one."""
    available = sorted(os.sched_getaffinity(0))
    if len(available) < 2:
        return available[0], available[0]
    return available[0], available[1]


def pinned(core: int) -> Callable[[], None]:
    def pin() -> None:
        if core >= 0:  # -1: not pinned (bench/scaling.py lets processes share the cores)
            os.sched_setaffinity(0, {core})
        os.setpgrp()  # its own group: stop() ends it and anything it started

    return pin


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(database_url: str, port: int, **extra: str) -> dict[str, str]:
    """The same server settings for the gateway and the raw endpoint."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        # development: production wants secrets (key pepper, link secret) the seeding
        # in bench/run.py would have to share; GraphiQL off as in production.
        "BILLING_ENVIRONMENT": "development",
        "BILLING_GRAPHIQL": "false",
        "BILLING_DOCUMENT_RENDER_WORKERS": "1",
        "BILLING_DATABASE_URL": database_url,
        "BILLING_PORT": str(port),
        "BILLING_LOG_LEVEL": "WARNING",
        "BILLING_ACCESS_LOG": "false",
        # One key sends thousands of requests a minute, and the partner query over 100
        # accounts is over the default cost budget: lift both for the benchmark.
        "BILLING_RATE_LIMIT_PER_KEY": "1000000000",
        "BILLING_RATE_LIMIT_PER_ADDRESS": "1000000000",
        "BILLING_MAX_QUERY_COST": "10000000",
        **extra,
    }


class Server:
    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], port: int, core: int, log: Path
    ) -> None:
        self.name, self.port, self.log = name, port, log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            argv,
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=pinned(core),
        )

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}{path}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}):\n{tail}")
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start within {timeout:.0f}s")

    def rss_mb(self) -> float:
        """Resident memory of the server process (not of its render pool's children)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (from /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def gateway_server(env: dict[str, str], port: int, core: int, log: Path) -> Server:
    argv = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    return Server("gateway", argv, env, port, core, log)


def raw_server(env: dict[str, str], port: int, core: int, log: Path) -> Server:
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "bench.raw_app:app_factory",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return Server("raw", argv, env, port, core, log)


def post(port: int, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        result: dict[str, Any] = json.loads(response.read())
        return result


def load(
    port: int,
    path: str,
    body: dict[str, Any],
    key: str,
    *,
    core: int,
    concurrency: int,
    duration: float,
    warmup: float,
    method: str = "POST",
    headers: tuple[str, ...] = (),
    expect_status: int = 200,
    min_requests: int = 20,
) -> dict[str, float]:
    """One load run from a separate process pinned to `core`."""
    argv = [
        sys.executable,
        str(ROOT / "bench" / "load.py"),
        "--port",
        str(port),
        "--path",
        path,
        "--body",
        json.dumps(body),
        "--header",
        f"Authorization: Bearer {key}",
        "--concurrency",
        str(concurrency),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
        "--method",
        method,
        "--expect-status",
        str(expect_status),
        "--min-requests",
        str(min_requests),
        *(arg for header in headers for arg in ("--header", header)),
    ]
    out = subprocess.run(  # noqa: S603
        argv,
        check=True,
        capture_output=True,
        preexec_fn=pinned(core),
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result
