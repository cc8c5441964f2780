"""Invoices, their lines and payments: the billing history."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import Invoice as InvoiceModel
from models import InvoiceLine as InvoiceLineModel
from models import InvoiceStatus as InvoiceStatusModel
from models import Payment as PaymentModel
from resolvers.context import Info
from resolvers.ids import to_global_id
from schema.types.common import BillingInfo, Money, NextAction, Node, PageInfo
from schema.types.enums import InvoiceStatus, PaymentStatus
from schema.types.payment_method import PaymentMethod
from services.billing_info import billing_info_of, snapshot_to_info
from services.card_setup import NextAction as NextActionValue


@strawberry.type
class InvoiceLine:
    description: str
    quantity: int
    unit_amount: Money
    amount: Money

    @classmethod
    def from_model(cls, line: InvoiceLineModel, currency: str) -> InvoiceLine:
        return cls(
            description=line.description,
            quantity=line.quantity,
            unit_amount=Money.of(line.unit_amount, currency),
            amount=Money.of(line.amount, currency),
        )


@strawberry.type
class Payment(Node):
    model: strawberry.Private[PaymentModel]
    amount: Money
    status: PaymentStatus
    failure_code: str | None
    failure_message: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, payment: PaymentModel) -> Payment:
        return cls(
            id=strawberry.ID(to_global_id("Payment", payment.id)),
            model=payment,
            amount=Money.of(payment.amount, payment.currency),
            status=payment.status,
            failure_code=payment.failure_code,
            failure_message=payment.failure_message,
            created_at=payment.created_at,
        )

    @strawberry.field
    def next_action(self) -> NextAction | None:
        raw = self.model.next_action
        if not raw or self.model.status.value != "REQUIRES_ACTION":
            return None
        return NextAction.from_value(
            NextActionValue(
                type=raw.get("type", "use_stripe_sdk"),
                client_secret=raw.get("client_secret"),
                redirect_url=raw.get("redirect_url"),
            )
        )

    @strawberry.field
    async def payment_method(self, info: Info) -> PaymentMethod | None:
        pm_id = self.model.payment_method_id
        if pm_id is None:
            return None
        pm = await info.context.loaders.payment_method_by_id.load(pm_id)
        return None if pm is None else PaymentMethod.from_model(pm)


@strawberry.type
class Invoice(Node):
    model: strawberry.Private[InvoiceModel]
    number: str
    status: InvoiceStatus
    period_start: datetime
    period_end: datetime
    issued_at: datetime | None
    due_at: datetime | None
    paid_at: datetime | None
    subtotal: Money
    tax: Money
    total: Money
    amount_paid: Money
    amount_due: Money

    @classmethod
    def from_model(cls, inv: InvoiceModel) -> Invoice:
        def money(amount: int) -> Money:
            return Money.of(amount, inv.currency)

        return cls(
            id=strawberry.ID(to_global_id("Invoice", inv.id)),
            model=inv,
            number=inv.number or f"DRAFT-{inv.id}",
            status=inv.status,
            period_start=inv.period_start,
            period_end=inv.period_end,
            issued_at=inv.issued_at,
            due_at=inv.due_at,
            paid_at=inv.paid_at,
            subtotal=money(inv.subtotal),
            tax=money(inv.tax),
            total=money(inv.total),
            amount_paid=money(inv.amount_paid),
            amount_due=money(inv.amount_due),
        )

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await info.context.loaders.lines_by_invoice.load(self.model.id)
        return [InvoiceLine.from_model(line, self.model.currency) for line in rows]

    @strawberry.field
    async def payments(self, info: Info) -> list[Payment]:
        rows = await info.context.loaders.payments_by_invoice.load(self.model.id)
        return [Payment.from_model(p) for p in rows]

    @strawberry.field(description="The billing info as it was when the invoice was issued.")
    async def billing_info(self, info: Info) -> BillingInfo:
        if self.model.billing_snapshot is not None:
            return BillingInfo.from_value(snapshot_to_info(self.model.billing_snapshot))
        # A draft has no snapshot yet: it shows the account's current info.
        account = await info.context.loaders.account_by_id.load(self.model.account_id)
        assert account is not None
        return BillingInfo.from_value(billing_info_of(account))

    @strawberry.field(description="Signed, expiring link to the invoice PDF; null for drafts.")
    def pdf_url(self, info: Info) -> str | None:
        signer = info.context.documents
        if signer is None or self.model.status is InvoiceStatusModel.DRAFT:
            return None
        return signer.invoice_url(self.model.id)  # type: ignore[no-any-return]

    @strawberry.field(description="Signed, expiring link to the receipt PDF; null unless paid.")
    def receipt_url(self, info: Info) -> str | None:
        signer = info.context.documents
        if signer is None or self.model.status is not InvoiceStatusModel.PAID:
            return None
        return signer.receipt_url(self.model.id)  # type: ignore[no-any-return]


@strawberry.type
class InvoiceEdge:
    cursor: str
    node: Invoice


@strawberry.type
class InvoiceConnection:
    edges: list[InvoiceEdge]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Invoice]:
        return [edge.node for edge in self.edges]
