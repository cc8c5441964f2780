"""Garbage collection tuned for a request server.

A GraphQL response over many accounts allocates tens of thousands of short-lived objects
(field results, paths, Strawberry types), and CPython's default first-generation
threshold (700 allocations) runs a collection every few hundred of them; each older-
generation pass also walks every module, class and function loaded at start-up, which
never become garbage. At start-up the server freezes what exists (moved to a permanent
generation the collector skips) and raises the first threshold, so collections run
less often and scan only what requests created. Cycles are still collected.
"""

from __future__ import annotations

import gc

DEFAULT_GEN0 = 700  # CPython's own first threshold
_frozen = False


def tune_gc(gen0_threshold: int) -> None:
    """Freeze the start-up heap (once per process: a frozen object is never collected,
    so a second freeze would keep whatever garbage the first run left) and set the
    first-generation threshold."""
    global _frozen
    if not _frozen:
        gc.collect()
        gc.freeze()
        _frozen = True
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0_threshold, DEFAULT_GEN0), gen1, gen2)
