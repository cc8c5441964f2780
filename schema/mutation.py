"""The root Mutation: each field is one call into resolvers/."""

from __future__ import annotations

import strawberry

from resolvers import billing_info, payment_methods, payments
from resolvers.context import Info
from schema import payloads
from schema.inputs import (
    AccountIdInput,
    AddPaymentMethodInput,
    PayInvoiceInput,
    PaymentIdInput,
    PaymentMethodIdInput,
    UpdateBillingInfoInput,
)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Start a card setup; returns the client secret for Stripe.js.")
    async def start_payment_method_setup(
        self, info: Info, input: AccountIdInput
    ) -> payloads.StartPaymentMethodSetupResult:
        return await payment_methods.start_payment_method_setup(info, input)

    @strawberry.mutation
    async def add_payment_method(
        self, info: Info, input: AddPaymentMethodInput
    ) -> payloads.AddPaymentMethodResult:
        return await payment_methods.add_payment_method(info, input)

    @strawberry.mutation(description="Finish a card that needed 3-D Secure.")
    async def confirm_payment_method(
        self, info: Info, input: PaymentMethodIdInput
    ) -> payloads.ConfirmPaymentMethodResult:
        return await payment_methods.confirm_payment_method(info, input)

    @strawberry.mutation
    async def make_default(
        self, info: Info, input: PaymentMethodIdInput
    ) -> payloads.MakeDefaultResult:
        return await payment_methods.make_default(info, input)

    @strawberry.mutation
    async def delete_payment_method(
        self, info: Info, input: PaymentMethodIdInput
    ) -> payloads.DeletePaymentMethodResult:
        return await payment_methods.delete_payment_method(info, input)

    @strawberry.mutation
    async def pay_invoice(self, info: Info, input: PayInvoiceInput) -> payloads.PayInvoiceResult:
        return await payments.pay_invoice(info, input)

    @strawberry.mutation(description="Finish a payment after 3-D Secure in the browser.")
    async def confirm_payment(self, info: Info, input: PaymentIdInput) -> payloads.PayInvoiceResult:
        return await payments.confirm_payment(info, input)

    @strawberry.mutation
    async def update_billing_info(
        self, info: Info, input: UpdateBillingInfoInput
    ) -> payloads.UpdateBillingInfoResult:
        return await billing_info.update_billing_info(info, input)
