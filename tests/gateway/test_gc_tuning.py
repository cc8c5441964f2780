"""The server freezes its start-up heap and collects less often (gateway/gc_tuning.py);
checked in a child process, so this test process keeps CPython's defaults."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import asyncio, gc, sys
from starlette.testclient import TestClient
from gateway.app import create_app
from gateway.db import migrate
from gateway.settings import Settings

asyncio.run(migrate(sys.argv[1]))
before = gc.get_threshold()[0], gc.get_freeze_count()
settings = Settings(database_url=sys.argv[1], gc_gen0_threshold=int(sys.argv[2]))
with TestClient(create_app(settings, renderer=object())):
    print(*before, gc.get_threshold()[0], gc.get_freeze_count())
"""


def _thresholds(tmp_path: Path, gen0: int) -> list[int]:
    url = f"sqlite://{tmp_path / 'gc.sqlite3'}"
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", CHILD, url, str(gen0)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [int(n) for n in done.stdout.split()[-4:]]


@pytest.mark.parametrize("gen0", [20_000])
def test_startup_freezes_the_heap_and_raises_the_first_threshold(tmp_path: Path, gen0: int) -> None:
    before_gen0, before_frozen, after_gen0, after_frozen = _thresholds(tmp_path, gen0)
    assert (before_gen0, before_frozen) == (700, 0)
    assert after_gen0 == gen0
    assert after_frozen > 10_000  # modules, classes and functions loaded at start-up


def test_zero_leaves_the_collector_as_cpython_sets_it(tmp_path: Path) -> None:
    assert _thresholds(tmp_path, 0) == [700, 0, 700, 0]
