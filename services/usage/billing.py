"""The closing period's overage on the renewal invoice: one line per meter, within the cap.

Runs inside the renewal's transaction, with the subscription row locked (FOR UPDATE):
ingestion reads subscriptions FOR SHARE, so no batch can add to the closing period
while it is rated, and every batch after sees the new period (an event dated in the
closed one is then REJECTED as invoiced). Each total of the period records the line
that billed it, the amount, and the price and cap it was rated under, which the
ledger invariants check (tests/invariants.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import Account, InvoiceLine, Subscription, UsagePeriodTotal
from services.usage import from_micros
from services.usage.rating import UsageRating
from services.usage.reading import rate_subscription


@dataclass(frozen=True)
class OverageLine:
    meter_id: int
    description: str
    amount: int


@dataclass(frozen=True)
class ClosingPeriod:
    rating: UsageRating | None
    lines: list[OverageLine]


def _description(name: str, micros: int, unit_amount: int, currency: str) -> str:
    from services.money import Money

    price = Money(unit_amount, currency).format()
    return f"{name} overage: {from_micros(micros):,} × {price}"  # noqa: RUF001 (as on paper)


async def rate_closing_period(sub: Subscription) -> ClosingPeriod:
    """The lines the closing period (the subscription's current one) bills."""
    account = await Account.get(id=sub.account_id)
    rating = await rate_subscription(account, sub)
    lines = [
        OverageLine(
            meter_id=m.allowance.meter_id,
            description=_description(
                m.allowance.meter_name,
                m.overage_micros,
                m.allowance.overage_unit_amount or 0,
                rating.currency,
            ),
            amount=m.overage_amount,
        )
        for m in rating.meters
        if m.overage_amount > 0
    ]
    return ClosingPeriod(rating=rating, lines=lines)


async def mark_billed(
    sub: Subscription,
    closing: ClosingPeriod,
    line_ids: dict[int, int],
    now: datetime,
    *,
    amounts: dict[int, int] | None = None,
) -> None:
    """Record on each of the period's totals what billed it (`line_ids`: meter → line;
    `amounts`: meter → what that line billed, when it is not the rating's own amount)."""
    rating = closing.rating
    if rating is None:
        return
    for meter in rating.meters:
        meter_id = meter.allowance.meter_id
        await UsagePeriodTotal.filter(
            account_id=sub.account_id,
            meter_id=meter_id,
            period_start=rating.period_start,
            invoiced_at=None,
        ).update(
            invoiced_at=now,
            invoice_line_id=line_ids.get(meter_id),
            billed_amount=meter.overage_amount if amounts is None else amounts.get(meter_id, 0),
            billed_unit_amount=meter.allowance.overage_unit_amount,
            billed_cap=rating.overage.cap,
        )


async def bill_closing_period(
    sub: Subscription, closing: ClosingPeriod, invoice_id: int | None, now: datetime
) -> None:
    """After the renewal invoice was issued with `closing.lines` (positions 1..n, after
    the plan's line): link each total to its line."""
    line_ids: dict[int, int] = {}
    if invoice_id is not None and closing.lines:
        rows = await InvoiceLine.filter(invoice_id=invoice_id, position__gte=1).order_by("position")
        line_ids = {line.meter_id: row.id for line, row in zip(closing.lines, rows, strict=True)}
    await mark_billed(sub, closing, line_ids, now)


async def bill_ended_period(
    sub: Subscription, quoted: dict[int, int], line_ids: dict[int, int], now: datetime
) -> None:
    """A period cut short by a change that starts a new one (a new interval, Free to
    paid) is billed by the change's own invoice: its quote rated the overage under the
    plan it was used on (`rate_closing_period`, as a renewal would) and put it on that
    invoice, one line per meter (`quoted`: meter → amount, `line_ids`: meter → line).
    The claim checked the quote still held, so this is what was charged. Its totals are
    closed here, so an event dated in it later is refused as invoiced. Inside the
    switch's transaction, before the subscription moves.

    Usage reported between the claim and the payment's settlement (a 3-D Secure
    challenge can take that long) is counted but not billed: the change bills what the
    customer was shown, never more."""
    closing = await rate_closing_period(sub)
    await mark_billed(sub, closing, line_ids, now, amounts=quoted)
