"""Expected errors are types in each mutation's result union; clients switch on __typename."""

from __future__ import annotations

from enum import Enum

import strawberry

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


@strawberry.type
class PaymentMethodNotUsableError(UserError):
    pass


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


@strawberry.type(description="The card being added was refused by its issuer.")
class CardDeclinedError(UserError):
    decline_code: str | None = None


@strawberry.type(description="The provider could not be reached; nothing was charged twice.")
class ProviderUnavailableError(UserError):
    pass
