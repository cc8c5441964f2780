"""Usage's part of the ledger invariants (tests/invariants.py runs them after every test).

- every per-period total is the sum of its events (kept in the insert's transaction);
- the billable overage never exceeds the usage;
- overage is never billed, or projected, past the cap by a cent: a billed period's lines
  are each at most their quantity times the price (rounded half-up once), together at
  most the cap it was rated under, and each line on an invoice is exactly the amount
  its total records, on an invoice of the same account.
"""

from __future__ import annotations

from collections import defaultdict

from models import Invoice, InvoiceLine, OverageSetting, UsageEvent, UsagePeriodTotal
from services.usage.rating import line_amount
from services.usage.reading import usage_by_accounts


async def usage_violations() -> list[str]:
    problems: list[str] = []
    totals = await UsagePeriodTotal.all()
    if not totals:
        return problems
    sums: dict[tuple[int, int, object], int] = defaultdict(int)
    for account_id, meter_id, start, micros in await UsageEvent.all().values_list(
        "account_id", "meter_id", "period_start", "quantity_micros"
    ):
        sums[(account_id, meter_id, start)] += micros
    billed: dict[tuple[int, object], int] = defaultdict(int)
    caps: dict[tuple[int, object], int | None] = {}
    for t in totals:
        name = f"usage total {t.id}"
        events = sums.pop((t.account_id, t.meter_id, t.period_start), 0)
        if t.quantity_micros != events:
            problems.append(f"{name}: {t.quantity_micros} != its events' sum {events}")
        if not 0 <= t.overage_micros <= t.quantity_micros:
            problems.append(f"{name}: overage {t.overage_micros} outside 0..usage")
        if t.invoiced_at is None:
            continue
        amount = t.billed_amount or 0
        price = t.billed_unit_amount
        if amount < 0 or (amount > 0 and price is None):
            problems.append(f"{name}: billed {amount} without a price")
        if price is not None and amount > line_amount(t.overage_micros, price):
            problems.append(f"{name}: billed {amount} > overage x price")
        key = (t.account_id, t.period_start)
        billed[key] += amount
        caps[key] = t.billed_cap
        if (t.invoice_line_id is not None) != (amount > 0):
            problems.append(f"{name}: billed {amount} but line {t.invoice_line_id}")
        if t.invoice_line_id is not None:
            line = await InvoiceLine.get_or_none(id=t.invoice_line_id)
            invoice = None if line is None else await Invoice.get(id=line.invoice_id)
            if line is None or invoice is None or line.amount != amount:
                problems.append(f"{name}: its invoice line does not bill {amount}")
            elif invoice.account_id != t.account_id:
                problems.append(f"{name}: billed on another account's invoice {invoice.id}")
    for key, amount in billed.items():
        cap = caps[key]
        if cap is not None and amount > cap:
            problems.append(f"account {key[0]}: overage billed {amount} > cap {cap}")
    for (account_id, _, _), micros in sums.items():
        problems.append(f"account {account_id}: {micros} micros of events without a total")
    capped = [s.account_id for s in await OverageSetting.filter(monthly_cap__not_isnull=True)]
    for account_id, rating in zip(capped, await usage_by_accounts(capped), strict=True):
        cap = None if rating is None else rating.overage.cap
        if rating is not None and cap is not None and rating.overage_amount > cap:
            problems.append(f"account {account_id}: overage {rating.overage_amount} > cap {cap}")
    return problems
