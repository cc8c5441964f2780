"""Tortoise models: the system of record for accounts, plans, cards, invoices and payments.

`models` imports neither strawberry nor the services; it holds tables and enums only.
"""

from models.accounts import Account, ApiKey, PartnerAccess
from models.catalog import Plan, Subscription
from models.demo import DemoSeed
from models.documents import Document
from models.enums import (
    ApiKeyRole,
    BillingInterval,
    CancellationReason,
    CardFunding,
    InvoiceStatus,
    NotificationKind,
    PaymentMethodStatus,
    PaymentStatus,
    PlanChangeTiming,
    PlanTier,
    SubscriptionStatus,
)
from models.events import (
    BillingEvent,
    BillingEventType,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookDispatchCursor,
    WebhookEndpoint,
)
from models.invoices import Invoice, InvoiceLine, InvoiceSequence, Payment
from models.notifications import OutboxMessage, WebhookEvent
from models.payment_methods import PaymentMethod
from models.plan_changes import PlanChangeQuote
from models.usage import (
    Meter,
    Notification,
    OverageSetting,
    PlanAllowance,
    UsageEvent,
    UsageNotificationSetting,
    UsagePeriodTotal,
)

MODEL_MODULES = [
    "models.accounts",
    "models.catalog",
    "models.payment_methods",
    "models.invoices",
    "models.documents",
    "models.notifications",
    "models.usage",
    "models.events",
    "models.plan_changes",
    "models.demo",
]

__all__ = [
    "MODEL_MODULES",
    "Account",
    "ApiKey",
    "ApiKeyRole",
    "BillingEvent",
    "BillingEventType",
    "BillingInterval",
    "CancellationReason",
    "CardFunding",
    "DemoSeed",
    "Document",
    "Invoice",
    "InvoiceLine",
    "InvoiceSequence",
    "InvoiceStatus",
    "Meter",
    "Notification",
    "NotificationKind",
    "OutboxMessage",
    "OverageSetting",
    "PartnerAccess",
    "Payment",
    "PaymentMethod",
    "PaymentMethodStatus",
    "PaymentStatus",
    "Plan",
    "PlanAllowance",
    "PlanChangeQuote",
    "PlanChangeTiming",
    "PlanTier",
    "Subscription",
    "SubscriptionStatus",
    "UsageEvent",
    "UsageNotificationSetting",
    "UsagePeriodTotal",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookDispatchCursor",
    "WebhookEndpoint",
    "WebhookEvent",
]
