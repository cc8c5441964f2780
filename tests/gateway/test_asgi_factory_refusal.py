"""`uvicorn gateway.asgi:app_factory --factory` refuses production on public development
secrets the way `billing-gateway serve` does: one line on stderr, a non-zero exit, no
traceback around it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_asgi_factory_refuses_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    env |= {
        "BILLING_ENVIRONMENT": "production",
        "BILLING_DATABASE_URL": f"sqlite://{tmp_path / 'never.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(  # uvicorn on our own factory, fixed argv
        [
            sys.executable,
            "-m",
            "uvicorn",
            "gateway.asgi:app_factory",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        cwd=tmp_path,  # no .env file here
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: production needs its own ")
    assert "BILLING_STRIPE_WEBHOOK_SECRET" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "never.sqlite3").exists()
