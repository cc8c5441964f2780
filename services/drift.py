"""Compare the provider's books with ours: the `billing-gateway reconcile` report.

Read-only. Every PaymentIntent we create carries our payment and invoice ids in its
metadata, so each provider charge can be matched to one payment row. Drift is
anything that does not line up; an empty report means both sides agree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from models import Invoice, Payment, PaymentStatus
from services.provider.base import ChargeRecord, PaymentProvider


@dataclass(frozen=True)
class Drift:
    kind: str  # duplicate | missing | unbacked | amount_mismatch | unknown_charge | overpaid
    invoice_id: int | None
    payment_id: int | None
    provider_id: str | None
    detail: str


async def find_drift(provider: PaymentProvider, *, since: datetime | None = None) -> list[Drift]:
    charges = await provider.list_charges(since=since)
    payments = Payment.all() if since is None else Payment.filter(created_at__gte=since)
    ours = {p.id: p for p in await payments}
    # Charges may name payments older than the window: fetch those in one query.
    named = {
        int(r.metadata["payment_id"]) for r in charges if r.metadata.get("payment_id", "").isdigit()
    }
    ours.update({p.id: p for p in await Payment.filter(id__in=list(named - set(ours)))})
    drift: list[Drift] = []
    succeeded_by_invoice: dict[int, list[ChargeRecord]] = defaultdict(list)
    provider_status: dict[str, str] = {}
    for record in charges:
        charge = record.charge
        provider_status[charge.payment_intent_id] = charge.status
        raw_payment = record.metadata.get("payment_id", "")
        if not raw_payment.isdigit():
            if charge.status == "succeeded":
                drift.append(
                    Drift(
                        "unknown_charge",
                        None,
                        None,
                        charge.payment_intent_id,
                        "succeeded charge without our payment id in its metadata",
                    )
                )
            continue
        payment_id = int(raw_payment)
        payment = ours.get(payment_id)
        invoice_id = payment.invoice_id if payment else _int(record.metadata.get("invoice_id"))
        if charge.status == "succeeded" and invoice_id is not None:
            succeeded_by_invoice[invoice_id].append(record)
        if charge.status != "succeeded":
            continue
        if payment is None or payment.status is not PaymentStatus.SUCCEEDED:
            state = "no row" if payment is None else payment.status.value
            drift.append(
                Drift(
                    "missing",
                    invoice_id,
                    payment_id,
                    charge.payment_intent_id,
                    f"provider charged {charge.amount} {charge.currency}, ours is {state}",
                )
            )
        elif payment.amount != charge.amount or payment.currency != charge.currency:
            drift.append(
                Drift(
                    "amount_mismatch",
                    invoice_id,
                    payment_id,
                    charge.payment_intent_id,
                    f"provider {charge.amount} {charge.currency}, "
                    f"ours {payment.amount} {payment.currency}",
                )
            )
    invoices = {i.id: i for i in await Invoice.filter(id__in=list(succeeded_by_invoice))}
    for invoice_id, records in succeeded_by_invoice.items():
        invoice = invoices.get(invoice_id)
        charged = sum(r.charge.amount for r in records)
        if len(records) > 1 and invoice is not None and charged > invoice.total:
            drift.append(
                Drift(
                    "duplicate",
                    invoice_id,
                    None,
                    ",".join(r.charge.payment_intent_id for r in records),
                    f"{len(records)} succeeded charges, {charged} for a total of {invoice.total}",
                )
            )
    for payment in ours.values():
        if payment.status is not PaymentStatus.SUCCEEDED or not payment.provider_payment_id:
            continue
        status = provider_status.get(payment.provider_payment_id)
        if status == "succeeded" or (status is None and since is not None):
            continue  # agrees, or created before the window we listed
        drift.append(
            Drift(
                "unbacked",
                payment.invoice_id,
                payment.id,
                payment.provider_payment_id,
                f"SUCCEEDED here, {status or 'unknown'} at the provider",
            )
        )
    for invoice in await Invoice.filter(amount_paid__gt=0):
        if invoice.amount_paid > invoice.total:
            drift.append(
                Drift(
                    "overpaid",
                    invoice.id,
                    None,
                    None,
                    f"amount_paid {invoice.amount_paid} > total {invoice.total}",
                )
            )
    return drift


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None
