"""Injectable time, so tests and the demo can move it. Always timezone-aware UTC."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to (tests, demos)."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = at.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class OffsetClock:
    """System time plus an offset kept in a file: the demo's movable clock.

    `billing-gateway clock advance` rewrites the file; every process using it (the
    demo's server and worker) sees the new time on its next read.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._mtime_ns = -1
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()

    def offset(self) -> timedelta:
        try:
            mtime = self._path.stat().st_mtime_ns
        except FileNotFoundError:
            return timedelta(0)
        if mtime != self._mtime_ns:
            try:
                data = json.loads(self._path.read_text())
                self._offset = timedelta(seconds=float(data.get("offset_seconds", 0)))
                self._mtime_ns = mtime
            except (OSError, ValueError):
                pass  # half-written: keep the last good offset
        return self._offset

    def advance(self, delta: timedelta) -> datetime:
        offset = self.offset() + delta
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"offset_seconds": offset.total_seconds()}))
        tmp.replace(self._path)
        return datetime.now(UTC) + offset
