"""Mutation results: one success type each, in a union with the errors it can return."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.errors import (
    CardDeclinedError,
    DefaultPaymentMethodRequiredError,
    IdempotencyConflictError,
    InvalidInputError,
    InvoiceNotPayableError,
    NotFoundError,
    PaymentDeclinedError,
    PaymentInProgressError,
    PaymentMethodNotUsableError,
    PaymentMethodRequiredError,
    PermissionDeniedError,
    ProviderUnavailableError,
    SelfServiceUnavailableError,
    UnauthenticatedError,
)
from schema.types.account import Account
from schema.types.common import NextAction
from schema.types.invoice import Invoice, Payment
from schema.types.payment_method import PaymentMethod


@strawberry.type(
    description=(
        "A card setup was started: hand `clientSecret` to `stripe.confirmCardSetup` in the "
        "browser, then send `setupIntentId` to `addPaymentMethod`."
    )
)
class StartPaymentMethodSetupSuccess:
    client_secret: str = strawberry.field(
        description="The SetupIntent's client secret, for the customer's browser only."
    )
    setup_intent_id: str = strawberry.field(
        description="The SetupIntent id (`seti_...`): the `providerToken` of `addPaymentMethod`."
    )
    publishable_key: str = strawberry.field(
        description="The provider's publishable key to initialise Stripe.js with."
    )


@strawberry.type(
    description="The card is stored: ACTIVE, or REQUIRES_ACTION until 3-D Secure is finished."
)
class AddPaymentMethodSuccess:
    payment_method: PaymentMethod = strawberry.field(description="The card that was stored.")
    next_action: NextAction | None = strawberry.field(
        description=(
            "The 3-D Secure step to run in the browser before `confirmPaymentMethod`; null "
            "when the card is ACTIVE already."
        )
    )
    account: Account = strawberry.field(description="The account, as it stands after the change.")


@strawberry.type(
    description="The card after 3-D Secure: ACTIVE, or still REQUIRES_ACTION if not finished."
)
class ConfirmPaymentMethodSuccess:
    payment_method: PaymentMethod = strawberry.field(description="The card, as it now stands.")
    next_action: NextAction | None = strawberry.field(
        description="The step still to finish in the browser; null once the card is ACTIVE."
    )
    account: Account = strawberry.field(description="The account, as it stands after the change.")


@strawberry.type(description="The card is now the account's default.")
class MakeDefaultSuccess:
    account: Account = strawberry.field(description="The account, as it stands after the change.")
    payment_method: PaymentMethod = strawberry.field(description="The new default card.")


@strawberry.type(description="The card was removed from the account and the provider.")
class DeletePaymentMethodSuccess:
    deleted_payment_method_id: strawberry.ID = strawberry.field(
        description="The id of the card removed, to drop it from a client-side cache."
    )
    account: Account = strawberry.field(
        description="The account after the removal (its default card may have changed)."
    )


@strawberry.type(
    description=(
        "The charge went through (`invoice.status` PAID), or waits for 3-D Secure "
        "(`payment.status` REQUIRES_ACTION with `payment.nextAction`)."
    )
)
class PayInvoiceSuccess:
    invoice: Invoice = strawberry.field(description="The invoice, as it stands after the payment.")
    payment: Payment = strawberry.field(
        description="The payment attempt; the first one again when an idempotency key replays."
    )


@strawberry.type(description="The billing details were saved; future invoices use them.")
class UpdateBillingInfoSuccess:
    account: Account = strawberry.field(description="The account with its new `billingInfo`.")


_Access = (
    UnauthenticatedError
    | NotFoundError
    | PermissionDeniedError
    | InvalidInputError
    | SelfServiceUnavailableError
)

StartPaymentMethodSetupResult = Annotated[
    StartPaymentMethodSetupSuccess | _Access | ProviderUnavailableError,
    strawberry.union(
        "StartPaymentMethodSetupResult",
        description=(
            "What `startPaymentMethodSetup` answers: `StartPaymentMethodSetupSuccess`, "
            "or a `UserError` type saying why it was refused."
        ),
    ),
]
AddPaymentMethodResult = Annotated[
    AddPaymentMethodSuccess
    | _Access
    | CardDeclinedError
    | PaymentMethodNotUsableError
    | ProviderUnavailableError,
    strawberry.union(
        "AddPaymentMethodResult",
        description=(
            "What `addPaymentMethod` answers: `AddPaymentMethodSuccess`, "
            "or a `UserError` type saying why it was refused."
        ),
    ),
]
ConfirmPaymentMethodResult = Annotated[
    ConfirmPaymentMethodSuccess | _Access | CardDeclinedError | ProviderUnavailableError,
    strawberry.union(
        "ConfirmPaymentMethodResult",
        description=(
            "What `confirmPaymentMethod` answers: `ConfirmPaymentMethodSuccess`, "
            "or a `UserError` type saying why it was refused."
        ),
    ),
]
MakeDefaultResult = Annotated[
    MakeDefaultSuccess | _Access | PaymentMethodNotUsableError,
    strawberry.union(
        "MakeDefaultResult",
        description=(
            "What `makeDefault` answers: `MakeDefaultSuccess`, "
            "or a `UserError` type saying why it was refused."
        ),
    ),
]
DeletePaymentMethodResult = Annotated[
    DeletePaymentMethodSuccess | _Access | DefaultPaymentMethodRequiredError,
    strawberry.union(
        "DeletePaymentMethodResult",
        description=(
            "What `deletePaymentMethod` answers: `DeletePaymentMethodSuccess`, "
            "or a `UserError` type saying why it was refused."
        ),
    ),
]
PayInvoiceResult = Annotated[
    PayInvoiceSuccess
    | _Access
    | PaymentMethodRequiredError
    | PaymentMethodNotUsableError
    | InvoiceNotPayableError
    | PaymentInProgressError
    | IdempotencyConflictError
    | PaymentDeclinedError
    | ProviderUnavailableError,
    strawberry.union(
        "PayInvoiceResult",
        description=(
            "What `payInvoice` and `confirmPayment` answer: `PayInvoiceSuccess`, or a "
            "`UserError` type saying why it was refused."
        ),
    ),
]
UpdateBillingInfoResult = Annotated[
    UpdateBillingInfoSuccess | _Access,
    strawberry.union(
        "UpdateBillingInfoResult",
        description=(
            "What `updateBillingInfo` answers: `UpdateBillingInfoSuccess`, "
            "or a `UserError` type saying why it was refused."
        ),
    ),
]
