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


@strawberry.type(description="Hand `clientSecret` to stripe.confirmCardSetup in the browser.")
class StartPaymentMethodSetupSuccess:
    client_secret: str
    setup_intent_id: str
    publishable_key: str


@strawberry.type
class AddPaymentMethodSuccess:
    payment_method: PaymentMethod
    next_action: NextAction | None
    account: Account


@strawberry.type
class ConfirmPaymentMethodSuccess:
    payment_method: PaymentMethod
    next_action: NextAction | None
    account: Account


@strawberry.type
class MakeDefaultSuccess:
    account: Account
    payment_method: PaymentMethod


@strawberry.type
class DeletePaymentMethodSuccess:
    deleted_payment_method_id: strawberry.ID
    account: Account


@strawberry.type(description="Paid, or `payment.status` REQUIRES_ACTION with `payment.nextAction`.")
class PayInvoiceSuccess:
    invoice: Invoice
    payment: Payment


@strawberry.type
class UpdateBillingInfoSuccess:
    account: Account


_Access = (
    UnauthenticatedError
    | NotFoundError
    | PermissionDeniedError
    | InvalidInputError
    | SelfServiceUnavailableError
)

StartPaymentMethodSetupResult = Annotated[
    StartPaymentMethodSetupSuccess | _Access | ProviderUnavailableError,
    strawberry.union("StartPaymentMethodSetupResult"),
]
AddPaymentMethodResult = Annotated[
    AddPaymentMethodSuccess
    | _Access
    | CardDeclinedError
    | PaymentMethodNotUsableError
    | ProviderUnavailableError,
    strawberry.union("AddPaymentMethodResult"),
]
ConfirmPaymentMethodResult = Annotated[
    ConfirmPaymentMethodSuccess | _Access | CardDeclinedError | ProviderUnavailableError,
    strawberry.union("ConfirmPaymentMethodResult"),
]
MakeDefaultResult = Annotated[
    MakeDefaultSuccess | _Access | PaymentMethodNotUsableError,
    strawberry.union("MakeDefaultResult"),
]
DeletePaymentMethodResult = Annotated[
    DeletePaymentMethodSuccess | _Access | DefaultPaymentMethodRequiredError,
    strawberry.union("DeletePaymentMethodResult"),
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
    strawberry.union("PayInvoiceResult"),
]
UpdateBillingInfoResult = Annotated[
    UpdateBillingInfoSuccess | _Access,
    strawberry.union("UpdateBillingInfoResult"),
]
