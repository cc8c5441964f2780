"""GraphQL enums, mirrored from the model enums so the two cannot drift apart.

The model enums stay free of strawberry (models/ imports neither GraphQL nor services), so
the GraphQL descriptions of their values are attached here, by value name.
"""

from enum import Enum
from typing import TypeVar

import strawberry

from models import enums

E = TypeVar("E", bound=type[Enum])


def described(cls: E, *, name: str, description: str, values: dict[str, str]) -> E:
    """`strawberry.enum(cls)` with a description on the enum and on each of its values.

    A name in `values` that is not a member is a typo and fails at import; a member left
    out of `values` is caught by the schema linter (tests/schema_lint).
    """
    wrapped = strawberry.enum(cls, name=name, description=description)
    definition = wrapped.__strawberry_definition__  # type: ignore[attr-defined]
    unknown = set(values) - {value.name for value in definition.values}
    if unknown:
        raise ValueError(f"{name} has no value(s) {sorted(unknown)}")
    for value in definition.values:
        value.description = values.get(value.name, value.description)
    return wrapped


PlanTier = described(
    enums.PlanTier,
    name="PlanTier",
    description="The level of service an account is on; it decides what self-service allows.",
    values={
        "FREE": "No charge. The last card may be removed, even the default one.",
        "PLUS": "Paid, self-service: the customer manages cards and pays invoices here.",
        "ENTERPRISE": (
            "Billed by contract: billing mutations answer SELF_SERVICE_UNAVAILABLE and the "
            "customer's sales representative makes changes. Reads work."
        ),
    },
)
BillingInterval = described(
    enums.BillingInterval,
    name="BillingInterval",
    description="How often a plan bills.",
    values={
        "MONTH": "Once a month, on the subscription's anchor day.",
        "YEAR": "Once a year, on the subscription's anniversary.",
    },
)
SubscriptionStatus = described(
    enums.SubscriptionStatus,
    name="SubscriptionStatus",
    description="Where a subscription stands in its billing cycle.",
    values={
        "TRIALING": "In a free trial: paid features are on and nothing has been charged yet.",
        "ACTIVE": "Paid up: paid features are on and the next period bills on schedule.",
        "PAST_DUE": (
            "A renewal charge failed: paid features are off while the charge is retried on a "
            "schedule. Paying the open invoice makes it ACTIVE again at once."
        ),
        "UNPAID": (
            "Every retry failed and the subscription was kept, unpaid: paid features stay off "
            "until the open invoice is paid."
        ),
        "CANCELED": "Ended: nothing more will be billed and paid features are off.",
    },
)
CardFunding = described(
    enums.CardFunding,
    name="CardFunding",
    description="How a card is funded, as its issuer reports it.",
    values={
        "CREDIT": "A credit card.",
        "DEBIT": "A debit card.",
        "PREPAID": "A prepaid card.",
        "UNKNOWN": "The issuer did not say.",
    },
)
InvoiceStatus = described(
    enums.InvoiceStatus,
    name="InvoiceStatus",
    description="The life of an invoice: DRAFT, then OPEN, then PAID, VOID or UNCOLLECTIBLE.",
    values={
        "DRAFT": "Being prepared, not yet issued: it can still change and cannot be paid.",
        "OPEN": "Issued and awaiting payment: the only status `payInvoice` accepts.",
        "PAID": "Paid in full; a receipt is available.",
        "VOID": "Canceled after issue; nothing is owed.",
        "UNCOLLECTIBLE": "Written off as not collectable; no further charge is attempted.",
    },
)
PaymentStatus = described(
    enums.PaymentStatus,
    name="PaymentStatus",
    description="Where a payment attempt stands.",
    values={
        "PENDING": (
            "Recorded, and the charge is being sent to the provider. It settles by itself; "
            "retry with the same idempotency key to read the outcome."
        ),
        "PROCESSING": "The provider accepted the charge and is still processing it.",
        "REQUIRES_ACTION": (
            "The customer must complete 3-D Secure in the browser (see `nextAction`), then "
            "call `confirmPayment`."
        ),
        "SUCCEEDED": "The money was taken; the invoice is paid by it.",
        "FAILED": (
            "Declined or canceled: nothing was taken. `failureCode` and `failureMessage` say "
            "why; the invoice stays OPEN for another attempt."
        ),
    },
)
Role = described(
    enums.ApiKeyRole,
    name="Role",
    description="What an API key or token may do.",
    values={
        "ADMIN": "Reads its account and changes its billing: cards, payments, billing details.",
        "VIEWER": "Reads its account; every billing mutation answers PERMISSION_DENIED.",
        "PARTNER": (
            "Reads a set of accounts (page them with `viewer.accounts`); changes billing only "
            "on the accounts the key was made writable for."
        ),
        "SERVICE": (
            "The product's own backend: reports usage for any account and reads usage totals."
        ),
    },
)


#: EXPIRED is read from the expiry date; DELETED shows only on past payments' cards.
PaymentMethodStatus = described(
    enums.PaymentMethodStatus,
    name="PaymentMethodStatus",
    description="Whether a card can be charged.",
    values={
        "ACTIVE": "Verified and in date: it can pay and can be made the default.",
        "REQUIRES_ACTION": (
            "Added, but 3-D Secure is not finished: complete it in the browser, then call "
            "`confirmPaymentMethod`. It cannot pay until then."
        ),
        "EXPIRED": "Past its expiry date: it cannot pay. Add a new card.",
        "DELETED": (
            "Removed from the account. Seen only on the card of a past payment; it cannot pay."
        ),
    },
)
