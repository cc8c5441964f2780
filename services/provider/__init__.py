"""The payment provider: an interface, its Stripe implementation, and a recorder for tests."""

from services.provider.base import (
    CardDetails,
    ChargeResult,
    ChargeStatus,
    PaymentProvider,
    ProviderAddress,
    ProviderError,
    ProviderUnavailableError,
    SetupResult,
    SetupStatus,
)

__all__ = [
    "CardDetails",
    "ChargeResult",
    "ChargeStatus",
    "PaymentProvider",
    "ProviderAddress",
    "ProviderError",
    "ProviderUnavailableError",
    "SetupResult",
    "SetupStatus",
]
