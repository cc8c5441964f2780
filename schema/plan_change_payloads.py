"""Inputs and results of the plan-change, cancellation and card-edit mutations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.errors import (
    CardDeclinedError,
    IdempotencyConflictError,
    InvalidInputError,
    NotFoundError,
    OutstandingBalanceError,
    PaymentDeclinedError,
    PaymentInProgressError,
    PaymentMethodNotUsableError,
    PaymentMethodRequiredError,
    PermissionDeniedError,
    PlanChangeNotAllowedError,
    ProviderUnavailableError,
    QuoteExpiredError,
    SelfServiceUnavailableError,
    UnauthenticatedError,
)
from schema.inputs import AddressInput
from schema.types.account import Account
from schema.types.invoice import Invoice, Payment
from schema.types.payment_method import PaymentMethod
from schema.types.plan import Subscription
from schema.types.plan_change import PlanChangePreview
from schema.types.plan_change_enums import CancellationReason

_ACCOUNT_ID = (
    "The account to act on. May be left out when the key is for exactly one account; a key "
    "over several accounts must name one (else INVALID_INPUT)."
)


@strawberry.input(description="Which plan to preview a change to.")
class PlanIdInput:
    account_id: strawberry.ID | None = strawberry.field(default=None, description=_ACCOUNT_ID)
    plan_id: strawberry.ID = strawberry.field(
        description=(
            "The plan to move to (`Plan.id` from `plans`); not Enterprise, not the current one."
        )
    )


@strawberry.input(description="Make the change a `previewPlanChange` quoted, exactly as quoted.")
class ChangePlanInput:
    account_id: strawberry.ID | None = strawberry.field(default=None, description=_ACCOUNT_ID)
    plan_id: strawberry.ID = strawberry.field(
        description="The plan the quote is for; another plan answers QUOTE_EXPIRED."
    )
    quote_id: str = strawberry.field(
        description=(
            "`PlanChangePreview.quoteId`, used once within 15 minutes; expired, used or "
            "another account's answers QUOTE_EXPIRED and charges nothing."
        )
    )
    payment_method_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The card an upgrade is charged to (ACTIVE); left out: the default card, or "
            "PAYMENT_METHOD_REQUIRED when there is none. Ignored for a PERIOD_END change."
        ),
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description=(
            "Your own key for this change (1 to 128 characters). Sending it again returns the "
            "first answer instead of charging twice; reuse it when retrying after a timeout."
        ),
    )


@strawberry.input(description="Cancel the subscription at the end of the current period.")
class CancelSubscriptionInput:
    account_id: strawberry.ID | None = strawberry.field(default=None, description=_ACCOUNT_ID)
    reason: CancellationReason = strawberry.field(  # type: ignore[valid-type]
        description="Why the customer is leaving."
    )
    comment: str | None = strawberry.field(
        default=None, description="Anything else the customer wants to say (up to 500 characters)."
    )


@strawberry.input(
    description=(
        "Edit a card on file: its expiry and billing address, at the provider and here. Only "
        "the parts given change; give at least one."
    )
)
class UpdatePaymentMethodInput:
    payment_method_id: strawberry.ID = strawberry.field(description="The card to edit.")
    exp_month: int | None = strawberry.field(
        default=None,
        description="New expiry month, 1 to 12 (with `expYear` it must be in the future).",
    )
    exp_year: int | None = strawberry.field(
        default=None, description="New expiry year, four digits, not in the past."
    )
    billing_address: AddressInput | None = strawberry.field(
        default=None, description="The cardholder's billing address, replacing the stored one."
    )


@strawberry.type(description="What the change would do; make it with `changePlan(quoteId)`.")
class PreviewPlanChangeSuccess:
    preview: PlanChangePreview = strawberry.field(description="The preview and its quote.")


@strawberry.type(
    description=(
        "The change was made or scheduled. For an upgrade `invoice` is the PAID invoice, or "
        "`payment.status` is REQUIRES_ACTION with `payment.nextAction` (finish 3-D Secure, "
        "then `confirmPayment`; the plan switches once it is paid)."
    )
)
class ChangePlanSuccess:
    subscription: Subscription | None = strawberry.field(
        description="The subscription as it stands now (null only before a first plan is paid)."
    )
    invoice: Invoice | None = strawberry.field(
        description="The upgrade's invoice (credit and charge lines); null for PERIOD_END."
    )
    payment: Payment | None = strawberry.field(
        description="The charge for an upgrade; null for PERIOD_END or when nothing was due."
    )


@strawberry.type(description="The subscription after the change.")
class SubscriptionChangeSuccess:
    subscription: Subscription = strawberry.field(
        description="See `cancelAtPeriodEnd`, `cancellationReason` and `pendingChange`."
    )


@strawberry.type(description="The card after the edit.")
class UpdatePaymentMethodSuccess:
    payment_method: PaymentMethod = strawberry.field(
        description="The edited card; an EXPIRED card given a future expiry is ACTIVE again."
    )
    account: Account = strawberry.field(description="The card's account.")


_ACCESS = (
    UnauthenticatedError
    | NotFoundError
    | PermissionDeniedError
    | InvalidInputError
    | SelfServiceUnavailableError
)

PreviewPlanChangeResult = Annotated[
    PreviewPlanChangeSuccess | _ACCESS | PlanChangeNotAllowedError | OutstandingBalanceError,
    strawberry.union(
        "PreviewPlanChangeResult", description="The preview, or why the change is not possible."
    ),
]
ChangePlanResult = Annotated[
    ChangePlanSuccess
    | _ACCESS
    | PlanChangeNotAllowedError
    | OutstandingBalanceError
    | QuoteExpiredError
    | PaymentMethodRequiredError
    | PaymentMethodNotUsableError
    | PaymentInProgressError
    | IdempotencyConflictError
    | PaymentDeclinedError
    | ProviderUnavailableError,
    strawberry.union(
        "ChangePlanResult",
        description=(
            "The change, or why it was refused. A declined upgrade is PaymentDeclinedError: "
            "the plan is unchanged and its invoice voided."
        ),
    ),
]
SubscriptionChangeResult = Annotated[
    SubscriptionChangeSuccess | _ACCESS | PlanChangeNotAllowedError,
    strawberry.union(
        "SubscriptionChangeResult", description="The subscription, or why it did not change."
    ),
]
UpdatePaymentMethodResult = Annotated[
    UpdatePaymentMethodSuccess | _ACCESS | CardDeclinedError | ProviderUnavailableError,
    strawberry.union(
        "UpdatePaymentMethodResult", description="The card, or why it was not edited."
    ),
]
