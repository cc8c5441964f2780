"""What every service call needs besides its arguments: provider, clock, policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.clock import Clock
from services.policy import BillingPolicy
from services.provider.base import PaymentProvider


@dataclass(frozen=True)
class ServiceContext:
    provider: PaymentProvider
    clock: Clock
    policy: BillingPolicy = field(default_factory=BillingPolicy)
