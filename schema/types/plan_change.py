"""Plan-change previews, scheduled changes, and the enums they use."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import Plan as PlanModel
from models import PlanChangeQuote
from models import enums as model_enums
from schema.types.common import Money
from schema.types.invoice import InvoiceLine
from schema.types.plan import Plan
from schema.types.plan_change_enums import PlanChangeTiming
from services.plan_changes import next_billing
from services.quotes import quoted_overage


@strawberry.type(
    description=(
        "What a plan change will do, before anything happens. Pass `quoteId` to `changePlan` "
        "within 15 minutes to make exactly this change: an upgrade charges `amountDueNow`, "
        "to the cent, or nothing."
    )
)
class PlanChangePreview:
    plan: Plan = strawberry.field(description="The plan the account would move to.")
    timing: PlanChangeTiming = strawberry.field(  # type: ignore[valid-type]
        description="IMMEDIATE for an upgrade, PERIOD_END for a downgrade."
    )
    lines: list[InvoiceLine] = strawberry.field(
        description=(
            "The invoice an upgrade issues: a credit (negative) for the unused time of the "
            "current plan and a charge for the new plan, prorated by the second, then, when "
            "the change starts a new period, one line per meter for the ending period's usage "
            "overage. Empty for a PERIOD_END change."
        )
    )
    amount_due_now: Money = strawberry.field(
        description="What is charged now to the card (the sum of `lines`); zero for PERIOD_END."
    )
    overage_due_now: Money = strawberry.field(
        description=(
            "The part of `amountDueNow` that bills the usage overage of the period this change "
            "ends (a new interval, or Free to paid), rated under the current plan; zero when "
            "the period goes on or the change waits for its end (then the overage is billed "
            "at the renewal)."
        )
    )
    effective_at: datetime = strawberry.field(
        description="When the new plan takes effect: now for IMMEDIATE, the period end otherwise."
    )
    next_billing_date: datetime | None = strawberry.field(
        description="When the account is billed next after this change; null for the Free plan."
    )
    next_billing_amount: Money | None = strawberry.field(
        description="What that next bill will be (the new plan's price); null for the Free plan."
    )
    quote_id: str = strawberry.field(
        description="Pass to `changePlan` to make this change; valid once, until `expiresAt`."
    )
    expires_at: datetime = strawberry.field(
        description="After this the quote answers QUOTE_EXPIRED: preview again (15 minutes)."
    )

    @classmethod
    def from_quote(cls, quote: PlanChangeQuote, plan: PlanModel) -> PlanChangePreview:
        when, amount = next_billing(quote, plan)
        currency = quote.currency
        return cls(
            plan=Plan.from_model(plan),
            timing=quote.timing,
            lines=[
                InvoiceLine(
                    description=line["description"],
                    quantity=line["quantity"],
                    unit_amount=Money.of(line["amount"], currency),
                    amount=Money.of(line["amount"], currency),
                )
                for line in quote.lines
            ],
            amount_due_now=Money.of(quote.amount_due, currency),
            overage_due_now=Money.of(sum(quoted_overage(quote).values()), currency),
            effective_at=(
                quote.created_at
                if quote.timing is model_enums.PlanChangeTiming.IMMEDIATE
                else quote.period_end
            ),
            next_billing_date=when,
            next_billing_amount=None if amount is None else Money.from_value(amount),
            quote_id=quote.token,
            expires_at=quote.expires_at,
        )
