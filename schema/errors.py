"""Expected errors are types in each mutation's result union; clients switch on __typename."""

from __future__ import annotations

from enum import Enum

import strawberry

from schema.types.enums import PaymentMethodStatus
from schema.types.invoice import Payment


@strawberry.enum
class ErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INVALID_INPUT = "INVALID_INPUT"
    SELF_SERVICE_UNAVAILABLE = "SELF_SERVICE_UNAVAILABLE"
    DEFAULT_PAYMENT_METHOD_REQUIRED = "DEFAULT_PAYMENT_METHOD_REQUIRED"
    PAYMENT_METHOD_REQUIRED = "PAYMENT_METHOD_REQUIRED"
    PAYMENT_METHOD_NOT_USABLE = "PAYMENT_METHOD_NOT_USABLE"
    INVOICE_NOT_PAYABLE = "INVOICE_NOT_PAYABLE"
    PAYMENT_IN_PROGRESS = "PAYMENT_IN_PROGRESS"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    CARD_DECLINED = strawberry.enum_value(
        "CARD_DECLINED",
        description=(
            "A card being added was refused (by its issuer, or expired): nothing was stored "
            "or charged; ask for another card. A failed charge is PAYMENT_DECLINED instead."
        ),
    )
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"


@strawberry.interface(description="An expected refusal. `field` names the input at fault.")
class UserError:
    code: ErrorCode
    message: str
    field: str | None = None


@strawberry.type
class NotFoundError(UserError):
    pass


@strawberry.type
class UnauthenticatedError(UserError):
    pass


@strawberry.type
class PermissionDeniedError(UserError):
    pass


@strawberry.type
class InvalidInputError(UserError):
    pass


@strawberry.type(description="Enterprise billing is managed by the sales team.")
class SelfServiceUnavailableError(UserError):
    pass


@strawberry.type
class DefaultPaymentMethodRequiredError(UserError):
    pass


@strawberry.type
class PaymentMethodRequiredError(UserError):
    pass


@strawberry.type(
    description="The card cannot be used; `paymentMethodStatus` says why, the message what to do."
)
class PaymentMethodNotUsableError(UserError):
    payment_method_status: PaymentMethodStatus | None = strawberry.field(
        default=None,
        description=(
            "Why the card cannot be used: EXPIRED, REQUIRES_ACTION (3-D Secure not finished) "
            "or DELETED."
        ),
    )


@strawberry.type
class InvoiceNotPayableError(UserError):
    pass


@strawberry.type(description="Another attempt on this invoice has not finished yet.")
class PaymentInProgressError(UserError):
    pass


@strawberry.type
class IdempotencyConflictError(UserError):
    pass


@strawberry.type(description="The charge was declined; `payment` is the recorded FAILED payment.")
class PaymentDeclinedError(UserError):
    payment: Payment
    decline_code: str | None = None


@strawberry.type(
    description="The card being added was refused (code CARD_DECLINED); nothing was stored."
)
class CardDeclinedError(UserError):
    decline_code: str | None = strawberry.field(
        default=None,
        description="The provider's reason, e.g. `expired_card`, `card_declined`, `incorrect_cvc`.",
    )


@strawberry.type(description="The provider could not be reached; nothing was charged twice.")
class ProviderUnavailableError(UserError):
    pass
