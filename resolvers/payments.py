"""Paying invoices: payInvoice and confirmPayment (after 3-D Secure)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from models import Payment as PaymentModel
from resolvers.context import Info
from resolvers.errors import guarded
from resolvers.ids import decode_id, decode_optional_id
from schema import payloads
from schema.inputs import PayInvoiceInput, PaymentIdInput
from schema.types.invoice import Invoice, Payment
from services import payments
from services.auth import Principal
from services.errors import BillingError
from services.observability import count_payment

T = TypeVar("T")


async def _counted(
    mutation: str, call: Awaitable[tuple[T, PaymentModel]]
) -> tuple[T, PaymentModel]:
    """payments_total{outcome}: the payment's status, or the refusal's code."""
    try:
        result = await call
    except BillingError as exc:
        count_payment(mutation, exc.code)
        raise
    count_payment(mutation, result[1].status.value)
    return result


async def pay_invoice(info: Info, input: PayInvoiceInput) -> payloads.PayInvoiceResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.PayInvoiceSuccess:
        invoice_id = decode_id(input.invoice_id, "Invoice", field="invoiceId")
        pm_id = decode_optional_id(
            input.payment_method_id, "PaymentMethod", field="paymentMethodId"
        )
        invoice, payment = await _counted(
            "payInvoice",
            payments.pay_invoice(
                ctx,
                principal,
                invoice_id,
                payment_method_id=pm_id,
                idempotency_key=input.idempotency_key,
            ),
        )
        return payloads.PayInvoiceSuccess(
            invoice=Invoice.from_model(invoice), payment=Payment.from_model(payment)
        )

    return await guarded(info, call)


async def confirm_payment(info: Info, input: PaymentIdInput) -> payloads.PayInvoiceResult:
    ctx = info.context.services

    async def call(principal: Principal) -> payloads.PayInvoiceSuccess:
        payment_id = decode_id(input.payment_id, "Payment", field="paymentId")
        invoice, payment = await _counted(
            "confirmPayment", payments.confirm_payment(ctx, principal, payment_id)
        )
        return payloads.PayInvoiceSuccess(
            invoice=Invoice.from_model(invoice), payment=Payment.from_model(payment)
        )

    return await guarded(info, call)
