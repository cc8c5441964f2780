"""Enums stored as strings, so rows stay readable in psql and SQLite alike."""

from enum import StrEnum


class PlanTier(StrEnum):
    FREE = "FREE"
    PLUS = "PLUS"
    ENTERPRISE = "ENTERPRISE"


class BillingInterval(StrEnum):
    MONTH = "MONTH"
    YEAR = "YEAR"


class SubscriptionStatus(StrEnum):
    TRIALING = "TRIALING"
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"
    UNPAID = "UNPAID"
    CANCELED = "CANCELED"


class PaymentMethodStatus(StrEnum):
    ACTIVE = "ACTIVE"
    REQUIRES_ACTION = "REQUIRES_ACTION"
    EXPIRED = "EXPIRED"  # computed at read time from exp_month/exp_year, never stored
    DELETED = "DELETED"


class CardFunding(StrEnum):
    CREDIT = "CREDIT"
    DEBIT = "DEBIT"
    PREPAID = "PREPAID"
    UNKNOWN = "UNKNOWN"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    PAID = "PAID"
    VOID = "VOID"
    UNCOLLECTIBLE = "UNCOLLECTIBLE"


class PaymentStatus(StrEnum):
    PENDING = "PENDING"  # claimed; the provider call may or may not have happened
    PROCESSING = "PROCESSING"
    REQUIRES_ACTION = "REQUIRES_ACTION"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


#: Payments that still hold their invoice's claim: the outcome is not final yet.
UNSETTLED_PAYMENT_STATUSES = (
    PaymentStatus.PENDING,
    PaymentStatus.PROCESSING,
    PaymentStatus.REQUIRES_ACTION,
)


class ApiKeyRole(StrEnum):
    ADMIN = "admin"  # manages cards and pays
    VIEWER = "viewer"  # reads
    PARTNER = "partner"  # reads a set of accounts
    SERVICE = "service"  # the product's backend: reports usage for any account, reads usage


class NotificationKind(StrEnum):
    USAGE_THRESHOLD = "USAGE_THRESHOLD"
    OVERAGE_STARTED = "OVERAGE_STARTED"
    OVERAGE_CAP_REACHED = "OVERAGE_CAP_REACHED"


class PlanChangeTiming(StrEnum):
    IMMEDIATE = "IMMEDIATE"  # an upgrade: invoiced and charged now, switched once paid
    PERIOD_END = "PERIOD_END"  # a downgrade: scheduled for the end of the current period


class CancellationReason(StrEnum):
    TOO_EXPENSIVE = "TOO_EXPENSIVE"
    MISSING_FEATURES = "MISSING_FEATURES"
    SWITCHED_SERVICE = "SWITCHED_SERVICE"
    UNUSED = "UNUSED"
    CUSTOMER_SERVICE = "CUSTOMER_SERVICE"
    TOO_COMPLEX = "TOO_COMPLEX"
    LOW_QUALITY = "LOW_QUALITY"
    OTHER = "OTHER"
