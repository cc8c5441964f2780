"""`billing-gateway demo` stops everything it started, whatever signal stops it.

Each test runs the real CLI as a subprocess on free ports (seeding takes a few seconds)
and reads /proc for what is left: no sandbox holding its port, no render pool worker,
no resource tracker.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
# Time to answer /healthz, a bound and not a figure: 31 s was measured while other
# suites loaded the two cores.
STARTUP_S = 60.0
STOP_S = 10.0

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int) -> bool:
    """Running, not a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def start_demo(tmp_path: Path, port: int, sandbox_port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    env |= {"BILLING_LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT)}
    argv = ["demo", "--port", str(port), "--sandbox-port", str(sandbox_port)]
    log = (tmp_path / "demo.log").open("wb")
    return subprocess.Popen(  # noqa: S603 - our own CLI, fixed argv
        [sys.executable, "-m", "gateway.cli", *argv, "--data-dir", str(tmp_path / "demo")],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a SIGHUP here reaches only what the test sends
    )


def wait_healthy(demo: subprocess.Popen[bytes], port: int, tmp_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        assert demo.poll() is None, (tmp_path / "demo.log").read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    demo.kill()
    pytest.fail("the demo did not answer /healthz in time:\n" + (tmp_path / "demo.log").read_text())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stop_signal_stops_everything(sig: signal.Signals, tmp_path: Path) -> None:
    port, sandbox_port = free_port(), free_port()
    demo = start_demo(tmp_path, port, sandbox_port)
    try:
        wait_healthy(demo, port, tmp_path)
        httpx.get(f"http://127.0.0.1:{port}/portal", timeout=5)  # a request or two served
        children = descendants(demo.pid)
        assert listening(sandbox_port) and children  # sandbox, render pool, tracker

        sent = time.monotonic()
        demo.send_signal(sig)
        code = demo.wait(timeout=STOP_S + 5)
        took = time.monotonic() - sent
    finally:
        if demo.poll() is None:
            demo.kill()

    log = (tmp_path / "demo.log").read_text()
    assert code == 0, log
    assert took < STOP_S, f"took {took:.1f}s"
    _assert_gone(children, sandbox_port, log)


def test_a_killed_demo_does_not_leave_its_sandbox(tmp_path: Path) -> None:
    """SIGKILL runs no cleanup: the sandbox dies with its parent (PR_SET_PDEATHSIG)."""
    port, sandbox_port = free_port(), free_port()
    demo = start_demo(tmp_path, port, sandbox_port)
    try:
        wait_healthy(demo, port, tmp_path)
        children = descendants(demo.pid)
        demo.kill()
        demo.wait(timeout=5)
    finally:
        if demo.poll() is None:
            demo.kill()

    _assert_gone(children, sandbox_port, (tmp_path / "demo.log").read_text())


def test_a_taken_sandbox_port_is_refused(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        demo = start_demo(tmp_path, port, taken)
        try:
            code = demo.wait(timeout=STARTUP_S)
        finally:
            if demo.poll() is None:
                demo.kill()
        children = descendants(demo.pid)

    log = (tmp_path / "demo.log").read_text()
    assert code != 0
    assert f"sandbox port {taken} is already in use" in log, log
    assert "Traceback" not in log
    assert not children and not listening(port)
    assert not (tmp_path / "demo").exists() or not any((tmp_path / "demo").iterdir())


def _assert_gone(children: set[int], sandbox_port: int, log: str) -> None:
    deadline = time.monotonic() + STOP_S
    while time.monotonic() < deadline:
        left = {pid for pid in children if alive(pid)}
        if not left and not listening(sandbox_port):
            return
        time.sleep(0.1)
    cmdlines = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in left if alive(pid)}
    pytest.fail(f"left running: {cmdlines}; sandbox port open: {listening(sandbox_port)}\n{log}")
