"""The one exception tree of the billing services.

    BillingError                      every expected refusal; carries a code and a message
    ├── NotFound                      missing, deleted, or another account's record
    ├── Unauthenticated               no or unknown credentials
    ├── PermissionDenied              the key's role may not do this (viewer, partner)
    ├── InvalidInput                  bad argument; `field` names it
    ├── SelfServiceUnavailable        Enterprise: billing changes go through sales
    ├── DefaultPaymentMethodRequired  deleting the default / last card on a paid plan
    ├── PaymentMethodRequired         paying with no card on file
    ├── PaymentMethodNotUsable        card not ACTIVE; `status` says why (3DS, expired, removed)
    ├── InvoiceNotPayable             invoice not OPEN, or nothing due
    ├── PaymentInProgress             another payment for this invoice has not settled
    ├── IdempotencyConflict           same idempotency key, different request
    ├── PaymentDeclined               the provider declined; `payment` is the FAILED row
    ├── CardDeclined                  a card being added was refused (issuer, or expired)
    ├── OverageNotAvailable           overage on a plan that offers none (Free)
    ├── QuoteExpired                  a plan-change quote expired, used, or not this request's
    ├── OutstandingBalance            an upgrade while a past-due balance is open
    ├── PlanChangeNotAllowed          not a self-service change (Enterprise plan, nothing to cancel)
    └── ProviderUnavailable           the provider could not be reached or failed

The resolvers map each class to one GraphQL error type (resolvers/errors.py); anything
else is a bug and stays a masked top-level error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from models import Payment


class BillingError(Exception):
    code: ClassVar[str] = "INTERNAL"
    default_message: ClassVar[str] = "The request could not be completed."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)


class NotFound(BillingError):
    """Worded the same whatever the reason (missing, deleted, another account's, an ID
    of another type): `field` names the input, the message tells nothing more."""

    code = "NOT_FOUND"
    default_message = "Nothing with this ID was found."


class Unauthenticated(BillingError):
    code = "UNAUTHENTICATED"
    default_message = "Missing or invalid credentials."


class PermissionDenied(BillingError):
    code = "PERMISSION_DENIED"
    default_message = "Your key may read this account but not change it."


class InvalidInput(BillingError):
    code = "INVALID_INPUT"
    default_message = "Invalid input."


class SelfServiceUnavailable(BillingError):
    code = "SELF_SERVICE_UNAVAILABLE"
    default_message = (
        "Billing for Enterprise accounts is managed by your account team: "
        "contact your sales representative."
    )


class DefaultPaymentMethodRequired(BillingError):
    code = "DEFAULT_PAYMENT_METHOD_REQUIRED"
    default_message = "An active paid plan needs a default card; add or choose another first."


class PaymentMethodRequired(BillingError):
    code = "PAYMENT_METHOD_REQUIRED"
    default_message = "Add a card before paying."


class PaymentMethodNotUsable(BillingError):
    code = "PAYMENT_METHOD_NOT_USABLE"
    default_message = "This card cannot be used: it is not verified, expired or removed."
    #: Why, by the card's (effective) status: the message a customer can act on.
    MESSAGES: ClassVar[dict[str, str]] = {
        "EXPIRED": "This card has expired; add a new card or choose another one.",
        "REQUIRES_ACTION": (
            "This card is not verified yet: finish your bank's 3-D Secure check first."
        ),
        "DELETED": "This card was removed; choose another card.",
    }

    def __init__(
        self, message: str | None = None, *, field: str | None = None, status: str | None = None
    ) -> None:
        super().__init__(message or self.MESSAGES.get(status or ""), field=field)
        #: The card's status (EXPIRED, REQUIRES_ACTION, DELETED) when a card is to blame.
        self.status = status


class InvoiceNotPayable(BillingError):
    code = "INVOICE_NOT_PAYABLE"
    default_message = "Only open invoices with an amount due can be paid."


class PaymentInProgress(BillingError):
    code = "PAYMENT_IN_PROGRESS"
    default_message = "A payment for this invoice is already in progress."


class IdempotencyConflict(BillingError):
    code = "IDEMPOTENCY_CONFLICT"
    default_message = "This idempotency key was already used for a different request."


class PaymentDeclined(BillingError):
    code = "PAYMENT_DECLINED"
    default_message = "The card was declined."

    def __init__(self, payment: Payment, message: str | None = None) -> None:
        super().__init__(message or payment.failure_message or self.default_message)
        self.payment = payment


class CardDeclined(BillingError):
    """Its own code, apart from PAYMENT_DECLINED (a failed charge): nothing was charged or
    stored, the add-card form should ask for another card."""

    code = "CARD_DECLINED"
    default_message = "The card was declined by the issuer."

    def __init__(self, message: str | None = None, *, decline_code: str | None = None) -> None:
        super().__init__(message)
        self.decline_code = decline_code


class OverageNotAvailable(BillingError):
    code = "OVERAGE_NOT_AVAILABLE"
    default_message = (
        "Your plan has no overage: upgrade to a paid plan to use more than it includes."
    )


class QuoteExpired(BillingError):
    code = "QUOTE_EXPIRED"
    default_message = (
        "This quote has expired or was already used; preview the change again. Nothing was charged."
    )


class OutstandingBalance(BillingError):
    code = "OUTSTANDING_BALANCE"
    default_message = (
        "Pay the outstanding balance before upgrading; downgrades and cancellation still work."
    )


class PlanChangeNotAllowed(BillingError):
    code = "PLAN_CHANGE_NOT_ALLOWED"
    default_message = "This plan is not available for self-service; contact sales."


class ProviderUnavailable(BillingError):
    code = "PROVIDER_UNAVAILABLE"
    default_message = "The payment provider is unavailable; nothing was charged twice, try again."
