"""Tortoise models: the system of record for accounts, plans, cards, invoices and payments.

`models` imports neither strawberry nor the services; it holds tables and enums only.
"""

from models.accounts import Account, ApiKey, PartnerAccess
from models.catalog import Plan, Subscription
from models.enums import (
    ApiKeyRole,
    BillingInterval,
    CardFunding,
    InvoiceStatus,
    PaymentMethodStatus,
    PaymentStatus,
    PlanTier,
    SubscriptionStatus,
)
from models.invoices import Invoice, InvoiceLine, InvoiceSequence, Payment
from models.payment_methods import PaymentMethod

MODEL_MODULES = [
    "models.accounts",
    "models.catalog",
    "models.payment_methods",
    "models.invoices",
]

__all__ = [
    "MODEL_MODULES",
    "Account",
    "ApiKey",
    "ApiKeyRole",
    "BillingInterval",
    "CardFunding",
    "Invoice",
    "InvoiceLine",
    "InvoiceSequence",
    "InvoiceStatus",
    "PartnerAccess",
    "Payment",
    "PaymentMethod",
    "PaymentMethodStatus",
    "PaymentStatus",
    "Plan",
    "PlanTier",
    "Subscription",
    "SubscriptionStatus",
]
