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

#: A prefetched value not read (None is a value: no card).
UNREAD = object()


@strawberry.type(description="One line of an invoice: what was billed, how many, at what price.")
class InvoiceLine:
    description: str = strawberry.field(
        description="What the line bills, as printed, e.g. the plan and its billing period."
    )
    quantity: int = strawberry.field(description="How many units the line bills (at least 1).")
    unit_amount: Money = strawberry.field(
        description="The price of one unit, in the invoice's currency (minor units)."
    )
    amount: Money = strawberry.field(
        description="`quantity` times `unitAmount`, in the invoice's currency (minor units)."
    )

    @classmethod
    def from_model(cls, line: InvoiceLineModel, currency: str) -> InvoiceLine:
        return cls(
            description=line.description,
            quantity=line.quantity,
            unit_amount=Money.of(line.unit_amount, currency),
            amount=Money.of(line.amount, currency),
        )


@strawberry.type(
    description=(
        "One attempt to pay an invoice with a card. A declined attempt stays in the history "
        "as FAILED; a new attempt is a new Payment."
    )
)
class Payment(Node):
    model: strawberry.Private[PaymentModel]
    amount: Money = strawberry.field(
        description="The amount charged (or attempted), in the invoice's currency (minor units)."
    )
    status: PaymentStatus = strawberry.field(description="Where the attempt stands.")
    failure_code: str | None = strawberry.field(
        description=(
            "The provider's decline code when the attempt FAILED, e.g. `insufficient_funds` "
            "or `expired_card`; null otherwise."
        )
    )
    failure_message: str | None = strawberry.field(
        description=("Why the attempt FAILED, in words fit to show the customer; null otherwise.")
    )
    created_at: datetime = strawberry.field(
        description="When the attempt was made (UTC, ISO 8601)."
    )

    #: The card, when the invoice page read it ahead (resolvers/invoices.py): `UNREAD` else.
    prefetched_method: strawberry.Private[object] = UNREAD

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

    @strawberry.field(
        description=(
            "The 3-D Secure step the customer must finish while `status` is REQUIRES_ACTION "
            "(then call `confirmPayment`); null in every other status."
        )
    )
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

    @strawberry.field(
        description=(
            "The card the attempt used, even if it was removed since (status DELETED); null "
            "when no card is recorded."
        )
    )
    def payment_method(self, info: Info) -> PaymentMethod | None:
        # Sync when the page read the card ahead: no awaitable per payment.
        if self.prefetched_method is not UNREAD:
            return self.prefetched_method  # type: ignore[return-value]
        return self._load_payment_method(info)  # type: ignore[return-value]

    async def _load_payment_method(self, info: Info) -> PaymentMethod | None:
        pm_id = self.model.payment_method_id
        if pm_id is None:
            return None
        pm = await info.context.loaders.payment_method_by_id.load(pm_id)
        return None if pm is None else PaymentMethod.from_model(pm)


@strawberry.type(
    description=(
        "A bill for one billing period. Once issued (OPEN) it never changes except its "
        "payment state; every amount is in the invoice's currency, in minor units."
    )
)
class Invoice(Node):
    model: strawberry.Private[InvoiceModel]
    number: str = strawberry.field(
        description=(
            "The invoice number printed on the PDF, gapless per year once issued; a draft "
            "reads `DRAFT-` plus an internal number."
        )
    )
    status: InvoiceStatus = strawberry.field(
        description="Where the invoice stands; only OPEN invoices can be paid."
    )
    period_start: datetime = strawberry.field(
        description="Start of the billing period the invoice covers (UTC, ISO 8601)."
    )
    period_end: datetime = strawberry.field(
        description="End of the billing period the invoice covers (UTC, ISO 8601)."
    )
    issued_at: datetime | None = strawberry.field(
        description="When the invoice was issued (UTC); null for a draft."
    )
    due_at: datetime | None = strawberry.field(
        description="When payment is due (UTC); null for a draft."
    )
    paid_at: datetime | None = strawberry.field(
        description="When the invoice was paid in full (UTC); null unless PAID."
    )
    subtotal: Money = strawberry.field(description="The sum of the lines, before tax.")
    tax: Money = strawberry.field(description="The tax charged on the subtotal.")
    total: Money = strawberry.field(description="What the invoice bills: subtotal plus tax.")
    amount_paid: Money = strawberry.field(description="How much of the total has been paid so far.")
    amount_due: Money = strawberry.field(
        description=(
            "What is still owed: total minus amount paid. `payInvoice` charges this amount; "
            "zero when nothing is left to pay."
        )
    )

    #: Lines and payments when the page read them ahead for all its invoices at once
    #: (resolvers/invoices.py): the fields below then answer without an awaitable each.
    prefetched_lines: strawberry.Private[list[InvoiceLine] | None] = None
    prefetched_payments: strawberry.Private[list[Payment] | None] = None

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

    @strawberry.field(description="The invoice's lines, in printed order.")
    def lines(self, info: Info) -> list[InvoiceLine]:
        if self.prefetched_lines is not None:
            return self.prefetched_lines
        return self._load_lines(info)  # type: ignore[return-value]

    async def _load_lines(self, info: Info) -> list[InvoiceLine]:
        rows = await info.context.loaders.lines_by_invoice.load(self.model.id)
        return [InvoiceLine.from_model(line, self.model.currency) for line in rows]

    @strawberry.field(
        description=(
            "Every attempt to pay this invoice, declined ones included; empty when none was made."
        )
    )
    def payments(self, info: Info) -> list[Payment]:
        if self.prefetched_payments is not None:
            return self.prefetched_payments
        return self._load_payments(info)  # type: ignore[return-value]

    async def _load_payments(self, info: Info) -> list[Payment]:
        rows = await info.context.loaders.payments_by_invoice.load(self.model.id)
        return [Payment.from_model(p) for p in rows]

    @strawberry.field(
        description=(
            "The billing details printed on the invoice, copied when it was issued (later "
            "changes to the account do not alter it). A draft shows the account's current info."
        )
    )
    async def billing_info(self, info: Info) -> BillingInfo:
        if self.model.billing_snapshot is not None:
            return BillingInfo.from_value(snapshot_to_info(self.model.billing_snapshot))
        # A draft has no snapshot yet: it shows the account's current info.
        account = await info.context.loaders.account_by_id.load(self.model.account_id)
        assert account is not None
        return BillingInfo.from_value(billing_info_of(account))

    @strawberry.field(
        description=(
            "A signed link to download the invoice PDF; it expires (after an hour by default), "
            "so read it again rather than storing it. Null for drafts."
        )
    )
    def pdf_url(self, info: Info) -> str | None:
        signer = info.context.documents
        if signer is None or self.model.status is InvoiceStatusModel.DRAFT:
            return None
        return signer.invoice_url(self.model.id)  # type: ignore[no-any-return]

    @strawberry.field(
        description=(
            "A signed, expiring link to download the receipt PDF. Null unless the invoice is PAID."
        )
    )
    def receipt_url(self, info: Info) -> str | None:
        signer = info.context.documents
        if signer is None or self.model.status is not InvoiceStatusModel.PAID:
            return None
        return signer.receipt_url(self.model.id)  # type: ignore[no-any-return]


@strawberry.type(description="One invoice in a page of billing history, with its cursor.")
class InvoiceEdge:
    cursor: str = strawberry.field(
        description="An opaque position: pass it as `after` to read the invoices after this one."
    )
    node: Invoice = strawberry.field(description="The invoice.")


@strawberry.type(
    description=(
        "A page of billing history, newest billing period first (a Relay connection). Read "
        "`edges` for cursors, or `nodes` for the invoices alone."
    )
)
class InvoiceConnection:
    edges: list[InvoiceEdge] = strawberry.field(
        description="The invoices on this page with their cursors; empty when none match."
    )
    page_info: PageInfo = strawberry.field(
        description="Cursors and whether more pages exist, to read the next page."
    )
    total_count: int = strawberry.field(
        description="How many invoices match the `status` filter across all pages."
    )

    @strawberry.field(
        description="The invoices on this page without their cursors (the same order as `edges`)."
    )
    def nodes(self) -> list[Invoice]:
        return [edge.node for edge in self.edges]
