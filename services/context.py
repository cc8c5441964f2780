"""What every service call needs besides its arguments: the provider and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from services.clock import Clock
from services.provider.base import PaymentProvider


@dataclass(frozen=True)
class ServiceContext:
    provider: PaymentProvider
    clock: Clock
