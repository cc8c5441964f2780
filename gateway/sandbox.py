"""Run a localstripe server as a throw-away Stripe sandbox (tests and the demo CLI).

localstripe is a fake of the Stripe API that keeps everything in memory. It is good
enough for the card flows the gateway uses (PaymentMethods, SetupIntents,
PaymentIntents, 3-D Secure test cards) and needs no network or Stripe account.

Why it is wrapped like this:

* It is always started with ``--from-scratch``: otherwise it reloads whatever another
  instance last pickled to the fixed path ``/tmp/localstripe.pickle``.
* It runs in its own temporary working directory and its own process group, so
  ``stop()`` can kill it (and anything it spawned) without touching other processes.
* It dies with its parent: on Linux, started from the main thread, a tiny launcher
  sets PR_SET_PDEATHSIG before exec'ing localstripe, so a parent killed with SIGKILL
  (no ``finally`` runs) does not leave an orphan holding the port.
* A port that is already taken is refused before anything starts: otherwise the new
  localstripe fails to bind while the readiness probe gets its answer from whatever
  holds the port (typically a sandbox left behind by an earlier run).
* It binds the IPv6 wildcard ``::``; on a dual-stack host that also answers on
  127.0.0.1, which is what we hand out (``api_base``) because it works everywhere.
* It accepts any ``sk_...`` key as a secret key and any ``pk_...`` key in the POST
  body of the browser-side endpoints, so the keys here are made up per instance.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

__all__ = ["Sandbox", "SandboxError", "die_with_parent", "port_in_use", "start_sandbox"]

_STARTUP_TIMEOUT_S = 20.0


class SandboxError(RuntimeError):
    """localstripe could not be started."""


def _free_port() -> int:
    """Ask the kernel for a free port; localstripe binds ``::`` so probe the same family."""
    family = socket.AF_INET6 if socket.has_ipv6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind(("::" if family == socket.AF_INET6 else "127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int) -> bool:
    """Whether something listens on `port` (wildcard IPv6, which localstripe binds, or
    IPv4 loopback). SO_REUSEADDR: a port left in TIME_WAIT is free to bind."""
    probes = [(socket.AF_INET, "127.0.0.1")]
    if socket.has_ipv6:
        probes.insert(0, (socket.AF_INET6, "::"))
    for family, address in probes:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((address, port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
    return False


def _localstripe_command() -> list[str]:
    """Prefer the console script of *this* interpreter's venv, else ``python -m``."""
    script = Path(sys.executable).parent / "localstripe"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "localstripe"]


# PR_SET_PDEATHSIG (1) survives exec: the kernel sends SIGTERM when the thread that
# started us ends. If the parent is already gone by then, do not start at all.
_DIE_WITH_PARENT = (
    "import ctypes, os, signal, sys\n"
    "ctypes.CDLL(None).prctl(1, signal.SIGTERM)\n"
    "if os.getppid() != int(sys.argv[1]):\n"
    "    sys.exit(0)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def die_with_parent(parent_pid: int) -> None:
    """For a child process (e.g. a pool worker's initializer): ask the kernel for
    SIGTERM when the parent's starting thread ends; exit now if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:
        os._exit(0)


def _with_parent_watch(cmd: list[str]) -> list[str]:
    """Wrap `cmd` so it dies with this process (Linux, main thread only: the death
    signal follows the starting *thread*, and the main thread lives as long as we do)."""
    if not sys.platform.startswith("linux"):
        return cmd
    if threading.current_thread() is not threading.main_thread():
        return cmd
    return [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *cmd]


class Sandbox:
    """A running localstripe process. Use ``start_sandbox()`` to get one.

    Usable as a context manager (``with start_sandbox() as sb: ...``); ``stop()`` is
    idempotent.
    """

    def __init__(self, *, port: int, workdir: Path, owns_workdir: bool) -> None:
        self.port = port
        self.workdir = workdir
        self.api_base = f"http://127.0.0.1:{port}"
        # localstripe serves its Stripe.js stand-in here; it derives its API base
        # from the script's own URL, so pages need nothing else configured.
        self.js_url = f"{self.api_base}/js.stripe.com/v3/"
        self.secret_key = "sk_test_sandbox" + secrets.token_hex(8)
        self.publishable_key = "pk_test_sandbox" + secrets.token_hex(8)
        self.log_path = workdir / "localstripe.log"
        self._owns_workdir = owns_workdir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _spawn(self) -> None:
        cmd = [*_localstripe_command(), "--port", str(self.port), "--from-scratch"]
        cmd = _with_parent_watch(cmd)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                cmd,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() kills it whole
            )

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise SandboxError(
                    f"localstripe exited with {self._process.returncode}; see {self.log_path}"
                )
            try:
                # The JS route needs no key, and answering it proves aiohttp is serving.
                with urllib.request.urlopen(self.js_url, timeout=1) as resp:  # noqa: S310
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise SandboxError(f"localstripe did not answer within {timeout_s}s; see {self.log_path}")

    def stop(self) -> None:
        """Kill the process group (SIGTERM, then SIGKILL) and remove our temp dir."""
        proc, self._process = self._process, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Sandbox(api_base={self.api_base!r}, running={self.running})"


def start_sandbox(port: int | None = None, workdir: Path | None = None) -> Sandbox:
    """Start localstripe and block until it answers HTTP on 127.0.0.1.

    ``port=None`` picks a free port (retrying a couple of times, since another
    process can grab the port between our probe and localstripe's bind).
    ``workdir=None`` uses a fresh temp dir that ``stop()`` deletes.
    """
    attempts = 3 if port is None else 1
    if port is not None and port_in_use(port):
        raise SandboxError(
            f"sandbox port {port} is already in use by another process (a sandbox left "
            "by an earlier demo?); stop it or choose another --sandbox-port"
        )
    last_error: SandboxError | None = None
    for _ in range(attempts):
        owns = workdir is None
        wd = Path(tempfile.mkdtemp(prefix="localstripe-")) if workdir is None else workdir
        wd.mkdir(parents=True, exist_ok=True)
        sandbox = Sandbox(port=port or _free_port(), workdir=wd, owns_workdir=owns)
        try:
            sandbox._spawn()
            sandbox._wait_ready(_STARTUP_TIMEOUT_S)
            return sandbox
        except SandboxError as exc:
            last_error = exc
            if owns:
                # Keep the log text in the error before the dir goes away.
                with contextlib.suppress(OSError):
                    tail = sandbox.log_path.read_text(errors="replace")[-2000:]
                    last_error = SandboxError(f"{exc}\n{tail}")
            sandbox.stop()
        except BaseException:
            sandbox.stop()
            raise
    assert last_error is not None
    raise last_error
