"""A preview equals the invoice that follows it, over random periods and change times.

Hypothesis draws the examples up front (fixed seed, like tests/security/test_fuzz.py);
each is then run end to end through the services against the sandbox: preview, then
changePlan, then the invoice's lines and total are compared with the preview's to the
cent, and the credit with what the period's plan cost.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

from models import Invoice, InvoiceLine, InvoiceStatus, Plan, PlanChangeQuote, Subscription
from services.clock import FixedClock
from services.context import ServiceContext
from services.plan_changes import change_plan, preview_plan_change
from services.renewals import add_interval
from tests.factories import add_card, admin_of, make_account
from tests.plan_change_helpers import catalogue

EXAMPLES = 12


def drawn_examples() -> list[tuple[datetime, float, str]]:
    """(period start, fraction of the period elapsed, target plan code), reproducibly."""
    examples: list[tuple[datetime, float, str]] = []

    @fixed_seed(20261203)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        start=st.datetimes(
            min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
        ),
        elapsed=st.floats(min_value=0.0, max_value=0.999, allow_nan=False),
        target=st.sampled_from(["plus-5k", "plus-yearly"]),
    )
    def collect(start: datetime, elapsed: float, target: str) -> None:
        examples.append((start, elapsed, target))

    collect()
    return examples


async def test_every_preview_equals_the_invoice_that_follows_it(
    services: ServiceContext, sandbox, provider
) -> None:
    plans = await catalogue()
    by_code: dict[str, Plan] = {p.code: p for p in (plans.plus_5k, plans.plus_yearly)}
    clock = services.clock
    assert isinstance(clock, FixedClock)
    checked = 0
    for i, (start, elapsed, code) in enumerate(drawn_examples()):
        # given an account on Plus monthly, `elapsed` of the way through its period
        end = add_interval(start, plans.plus.interval)
        at = start + (end - start) * elapsed
        clock.set(at)
        account = await make_account(f"p{i}@example.test")
        await add_card(services, sandbox, account)
        sub = await Subscription.create(
            account=account,
            plan=plans.plus,
            status="ACTIVE",
            current_period_start=start,
            current_period_end=end,
            created_at=start,
        )

        # when it previews and then makes the change
        quote = await preview_plan_change(services, admin_of(account), None, by_code[code].id)
        outcome = await change_plan(
            services, admin_of(account), None, by_code[code].id, quote.token
        )

        # then the invoice is the preview, to the cent, and the credit never exceeds the price
        assert outcome.invoice is not None
        invoice = await Invoice.get(id=outcome.invoice.id)
        lines = await InvoiceLine.filter(invoice_id=invoice.id).order_by("position")
        preview = [(line["description"], line["amount"]) for line in quote.lines]
        assert [(x.description, x.amount) for x in lines] == preview, (start, elapsed, code)
        assert invoice.total == quote.amount_due == sum(amount for _, amount in preview)
        assert invoice.status is InvoiceStatus.PAID
        credit = -sum(x.amount for x in lines if x.amount < 0)
        assert 0 <= credit <= plans.plus.price_amount
        charged = [
            c["amount"]
            for c in provider.calls_to("charge")
            if c["metadata"]["invoice_id"] == str(invoice.id)
        ]
        assert charged == [quote.amount_due]
        await sub.refresh_from_db()
        assert sub.plan_id == by_code[code].id
        assert (await PlanChangeQuote.get(id=quote.id)).applied_at is not None
        checked += 1
    assert checked == EXAMPLES
    # the examples spread over the period, and over both kinds of upgrade
    assert len({code for _, _, code in drawn_examples()}) == 2
    assert max(e for _, e, _ in drawn_examples()) - min(e for _, e, _ in drawn_examples()) > 0.5
