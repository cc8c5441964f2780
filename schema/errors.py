"""Expected errors are types in each mutation's result union; clients switch on __typename."""

from __future__ import annotations

from enum import Enum

import strawberry

from schema.types.enums import PaymentMethodStatus
from schema.types.invoice import Payment


@strawberry.enum(
    description=(
        "Why a mutation was refused: the `code` of every `UserError`. Switch on it (or on "
        "`__typename`); new codes may be added, so keep a default branch."
    )
)
class ErrorCode(Enum):
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND",
        description=(
            "The record does not exist, was removed, or belongs to an account this key cannot"
            " read (the API does not tell these apart)."
        ),
    )
    PERMISSION_DENIED = strawberry.enum_value(
        "PERMISSION_DENIED",
        description=(
            "The key may read the account but not change its billing: a VIEWER key, or a "
            "PARTNER key that is read-only for it."
        ),
    )
    UNAUTHENTICATED = strawberry.enum_value(
        "UNAUTHENTICATED",
        description="No API key or token was sent, or it is unknown, expired or revoked.",
    )
    INVALID_INPUT = strawberry.enum_value(
        "INVALID_INPUT",
        description=(
            "An argument is malformed or out of range; `field` names it and `message` says "
            "what is expected."
        ),
    )
    SELF_SERVICE_UNAVAILABLE = strawberry.enum_value(
        "SELF_SERVICE_UNAVAILABLE",
        description=(
            "The account is ENTERPRISE: its billing is changed by its sales representative, "
            "not through the API. Reads still work."
        ),
    )
    DEFAULT_PAYMENT_METHOD_REQUIRED = strawberry.enum_value(
        "DEFAULT_PAYMENT_METHOD_REQUIRED",
        description=(
            "The card cannot be removed: it is the default on a paid tier, or the last usable"
            " card while a paid plan bills."
        ),
    )
    PAYMENT_METHOD_REQUIRED = strawberry.enum_value(
        "PAYMENT_METHOD_REQUIRED",
        description=(
            "There is no card to charge: none was named and the account has no default card."
        ),
    )
    PAYMENT_METHOD_NOT_USABLE = strawberry.enum_value(
        "PAYMENT_METHOD_NOT_USABLE",
        description=(
            "The card is not ACTIVE (3-D Secure unfinished, expired or removed), so it cannot"
            " pay or be the default."
        ),
    )
    INVOICE_NOT_PAYABLE = strawberry.enum_value(
        "INVOICE_NOT_PAYABLE",
        description="The invoice is not OPEN, or nothing is due on it.",
    )
    PAYMENT_IN_PROGRESS = strawberry.enum_value(
        "PAYMENT_IN_PROGRESS",
        description=(
            "Another payment attempt on this invoice has not finished (for example it waits "
            "for 3-D Secure); nothing new was charged."
        ),
    )
    PAYMENT_DECLINED = strawberry.enum_value(
        "PAYMENT_DECLINED",
        description=(
            "A charge was declined by the card's bank; the attempt is recorded as a FAILED "
            "payment and the invoice stays OPEN."
        ),
    )
    CARD_DECLINED = strawberry.enum_value(
        "CARD_DECLINED",
        description=(
            "A card being added was refused (by its issuer, or expired): nothing was stored "
            "or charged; ask for another card. A failed charge is PAYMENT_DECLINED instead."
        ),
    )
    IDEMPOTENCY_CONFLICT = strawberry.enum_value(
        "IDEMPOTENCY_CONFLICT",
        description=(
            "The idempotency key was already used for a different request (another invoice or"
            " card); use a new key."
        ),
    )
    OVERAGE_NOT_AVAILABLE = strawberry.enum_value(
        "OVERAGE_NOT_AVAILABLE",
        description=(
            "The plan offers no overage (Free): upgrade to a paid plan to use more than it "
            "includes."
        ),
    )
    QUOTE_EXPIRED = strawberry.enum_value(
        "QUOTE_EXPIRED",
        description=(
            "The plan-change quote expired (15 minutes), was already used, belongs to another "
            "account or plan, or the subscription changed since: preview again. Nothing was "
            "charged."
        ),
    )
    OUTSTANDING_BALANCE = strawberry.enum_value(
        "OUTSTANDING_BALANCE",
        description=(
            "The subscription is past due: pay the open balance before upgrading. Downgrades "
            "and cancellation still work."
        ),
    )
    PLAN_CHANGE_NOT_ALLOWED = strawberry.enum_value(
        "PLAN_CHANGE_NOT_ALLOWED",
        description=(
            "Not a self-service change: the Enterprise plan (arranged with sales), or "
            "canceling when there is no paid subscription."
        ),
    )
    PROVIDER_UNAVAILABLE = strawberry.enum_value(
        "PROVIDER_UNAVAILABLE",
        description=(
            "The payment provider could not be reached or failed. Nothing was done twice: "
            "retry the same request."
        ),
    )


@strawberry.interface(
    description=(
        "An expected refusal, returned in a mutation's result union instead of its success "
        "type. Nothing was changed. Select `__typename` and `... on UserError { code message "
        "field }`."
    )
)
class UserError:
    code: ErrorCode = strawberry.field(
        description="Why the request was refused; stable, for programs to switch on."
    )
    message: str = strawberry.field(
        description="What went wrong and what to do, in English words fit to show the user."
    )
    field: str | None = strawberry.field(
        default=None,
        description=(
            "The input field at fault as a path in the input, e.g. `paymentMethodId` or "
            "`address.country`; null when no single field is."
        ),
    )


@strawberry.type(
    description="Code NOT_FOUND: the record named does not exist or this key cannot read it."
)
class NotFoundError(UserError):
    pass


@strawberry.type(
    description="Code UNAUTHENTICATED: send a valid API key as `Authorization: Bearer <key>`."
)
class UnauthenticatedError(UserError):
    pass


@strawberry.type(
    description="Code PERMISSION_DENIED: this key may read the account but not change its billing."
)
class PermissionDeniedError(UserError):
    pass


@strawberry.type(description="Code INVALID_INPUT: an argument is malformed; `field` names it.")
class InvalidInputError(UserError):
    pass


@strawberry.type(
    description=(
        "Code SELF_SERVICE_UNAVAILABLE: this ENTERPRISE account's billing is managed by its "
        "sales representative; contact them."
    )
)
class SelfServiceUnavailableError(UserError):
    pass


@strawberry.type(
    description=(
        "Code DEFAULT_PAYMENT_METHOD_REQUIRED: the account must keep this card; make or "
        "add another card first."
    )
)
class DefaultPaymentMethodRequiredError(UserError):
    pass


@strawberry.type(
    description="Code PAYMENT_METHOD_REQUIRED: add a card (or name one) before paying."
)
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


@strawberry.type(
    description="Code INVOICE_NOT_PAYABLE: only OPEN invoices with an amount due can be paid."
)
class InvoiceNotPayableError(UserError):
    pass


@strawberry.type(
    description=(
        "Code PAYMENT_IN_PROGRESS: another attempt on this invoice has not finished yet; "
        "nothing new was charged."
    )
)
class PaymentInProgressError(UserError):
    pass


@strawberry.type(
    description="Code IDEMPOTENCY_CONFLICT: the idempotency key belongs to a different request."
)
class IdempotencyConflictError(UserError):
    pass


@strawberry.type(
    description=(
        "Code PAYMENT_DECLINED: the bank declined the charge. `payment` is the recorded FAILED "
        "attempt; the invoice stays OPEN, so another card can pay it."
    )
)
class PaymentDeclinedError(UserError):
    payment: Payment = strawberry.field(
        description="The FAILED payment attempt, with its `failureCode` and `failureMessage`."
    )
    decline_code: str | None = strawberry.field(
        default=None,
        description=(
            "The provider's decline code, e.g. `insufficient_funds`; null when it gave none."
        ),
    )


@strawberry.type(
    description="The card being added was refused (code CARD_DECLINED); nothing was stored."
)
class CardDeclinedError(UserError):
    decline_code: str | None = strawberry.field(
        default=None,
        description="The provider's reason, e.g. `expired_card`, `card_declined`, `incorrect_cvc`.",
    )


@strawberry.type(
    description=(
        "Code PROVIDER_UNAVAILABLE: the payment provider could not be reached or failed. "
        "Nothing was charged twice; retry the same request (with the same idempotency key)."
    )
)
class ProviderUnavailableError(UserError):
    pass


@strawberry.type(
    description=(
        "Code OVERAGE_NOT_AVAILABLE: the plan offers no overage (Free); upgrade to use more "
        "than the allowance."
    )
)
class OverageNotAvailableError(UserError):
    pass


@strawberry.type(
    description=(
        "Code QUOTE_EXPIRED: the quote is expired, used, another account's or plan's, or the "
        "subscription changed since it was made. Nothing was charged; preview again."
    )
)
class QuoteExpiredError(UserError):
    pass


@strawberry.type(
    description=(
        "Code OUTSTANDING_BALANCE: the subscription is past due; pay the open invoices "
        "before upgrading."
    )
)
class OutstandingBalanceError(UserError):
    pass


@strawberry.type(
    description=(
        "Code PLAN_CHANGE_NOT_ALLOWED: not a self-service change (the Enterprise plan, or "
        "nothing paid to cancel)."
    )
)
class PlanChangeNotAllowedError(UserError):
    pass
