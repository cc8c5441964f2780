"""Test-only crash points: `BILLING_TEST_CRASH_AT=<point>` kills the process there.

The crash tests (tests/faults/test_crashes.py) run the gateway and the worker as
subprocesses with this variable set and check that a `kill -9` at each point of the
payment path (`after_claim`, `after_provider_call`, `after_commit`; see
services/charging.py) loses no payment and charges nothing twice once the reconciler
has run. The variable is read once, at import; unset (always, outside those tests)
`crash_point` is a function that returns at once. It is a test hook, not a setting,
so it is read here rather than in gateway/settings.py.
"""

from __future__ import annotations

import os

CRASH_POINTS = frozenset({"after_claim", "after_provider_call", "after_commit"})
_AT = os.environ.get("BILLING_TEST_CRASH_AT") or None
if _AT is not None and _AT not in CRASH_POINTS:
    raise RuntimeError(f"BILLING_TEST_CRASH_AT={_AT!r}: not one of {sorted(CRASH_POINTS)}")


def crash_point(name: str) -> None:
    """Die like `kill -9` (no cleanup, no commit, no answer) when armed for `name`."""
    if name == _AT:
        os._exit(137)
