"""Rendering off the event loop, in a pool of worker processes.

A PDF takes a core for a few hundred milliseconds and WeasyPrint is not thread-safe,
so renders go to separate processes: the gateway's event loop keeps answering
GraphQL while documents render. Workers are started with `spawn` (no inherited
event loop, database connections or locks) and on demand, so an app that never
renders never starts one. The gateway process never imports WeasyPrint.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Protocol

from services.documents.content import RenderJob


class Renderer(Protocol):
    async def render(self, job: RenderJob) -> bytes: ...


def _render_in_worker(job: RenderJob) -> bytes:
    from services.documents.render import render_pdf  # imported in the worker only

    return render_pdf(job)


def _warm_worker() -> None:
    """Pay the import (about a second) before the first real document needs it."""
    import services.documents.render  # noqa: F401


class RenderPool:
    """A `Renderer` backed by `workers` processes; `shutdown()` when the app stops."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("a render pool needs at least one worker")
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False

    def _pool(self) -> ProcessPoolExecutor:
        if self._closed:
            raise RuntimeError("the render pool is shut down")
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("spawn")
            )
        return self._executor

    def warm(self) -> list[Future[None]]:
        """Start every worker now (returns at once); their imports run in the background."""
        pool = self._pool()
        return [pool.submit(_warm_worker) for _ in range(self.workers)]

    async def render(self, job: RenderJob) -> bytes:
        loop = asyncio.get_running_loop()
        pool = self._pool()
        try:
            return await loop.run_in_executor(pool, _render_in_worker, job)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a fresh pool and try once more.
            if self._executor is pool:  # not already replaced by a concurrent render
                self._executor = None
                pool.shutdown(wait=False, cancel_futures=True)
            return await loop.run_in_executor(self._pool(), _render_in_worker, job)

    def shutdown(self) -> None:
        """Stop the workers; waits for running renders. Idempotent."""
        self._closed = True
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
