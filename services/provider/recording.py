"""A `PaymentProvider` wrapper that remembers every call, for tests.

Why: the gateway's promise on a refusal (bad input, wrong role, invoice not payable,
...) is that no money moved and the provider was never asked. Wrapping the real
provider (the sandbox) keeps tests end-to-end while letting them assert exactly
which provider calls happened, in order. `fail_next` injects one failure into the
next call of a method, so error paths run without a fault-injecting proxy.

Recorded kwargs are safe to print: values under secret-looking names are replaced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from services.provider.base import PaymentProvider
from services.provider.wrapper import ProviderWrapper

__all__ = ["RecordingProvider"]

T = TypeVar("T")

_SECRET_NAMES = frozenset({"client_secret", "api_key", "secret", "number", "cvc", "password"})
_REDACTED = "<redacted>"


def _scrub(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: (_REDACTED if k in _SECRET_NAMES else v) for k, v in kwargs.items()}


class RecordingProvider(ProviderWrapper):
    """Forwards to `inner`; appends `(method_name, kwargs)` to `calls` before each call."""

    def __init__(self, inner: PaymentProvider) -> None:
        super().__init__(inner)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._failures: dict[str, list[BaseException]] = {}

    # -- test helpers --------------------------------------------------------------

    def reset(self) -> None:
        """Forget recorded calls and pending injected failures."""
        self.calls.clear()
        self._failures.clear()

    def names(self) -> list[str]:
        """Just the method names, in call order."""
        return [name for name, _ in self.calls]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [kwargs for name, kwargs in self.calls if name == method]

    def fail_next(self, method: str, exc: BaseException) -> None:
        """Make the next call of `method` raise `exc` (recorded, never forwarded)."""
        self._failures.setdefault(method, []).append(exc)

    async def _around(
        self, method: str, kwargs: dict[str, Any], call: Callable[[], Awaitable[T]]
    ) -> T:
        recorded = {k: dict(v) if isinstance(v, dict) else v for k, v in kwargs.items()}
        self.calls.append((method, _scrub(recorded)))
        pending = self._failures.get(method)
        if pending:
            raise pending.pop(0)
        return await call()
