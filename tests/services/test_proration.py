"""Proration properties over random periods, prices and change times (hypothesis).

The end-to-end property (a preview equals the invoice that follows it) is in
tests/services/test_plan_changes.py; these check the pure arithmetic.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.enums import BillingInterval, PlanTier
from services.proration import (
    PlanTerms,
    immediate_change,
    is_upgrade,
    prorate,
    unused_credit,
)
from services.renewals import add_interval

FREE = PlanTerms("Free", PlanTier.FREE, 0, BillingInterval.MONTH)
PLUS = PlanTerms("Plus (monthly)", PlanTier.PLUS, 2900, BillingInterval.MONTH)
PLUS_5K = PlanTerms("Plus 5K (monthly)", PlanTier.PLUS, 9900, BillingInterval.MONTH)
PLUS_YEARLY = PlanTerms("Plus (yearly)", PlanTier.PLUS, 29000, BillingInterval.YEAR)
ENTERPRISE = PlanTerms("Enterprise", PlanTier.ENTERPRISE, 250000, BillingInterval.MONTH)

starts = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
prices = st.integers(min_value=0, max_value=10_000_000)
intervals = st.sampled_from(list(BillingInterval))
plans = st.builds(
    PlanTerms,
    name=st.just("Plan"),
    tier=st.sampled_from([PlanTier.FREE, PlanTier.PLUS]),
    price=prices,
    interval=intervals,
)
fractions = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _at(start: datetime, end: datetime, fraction: float) -> datetime:
    """A change time inside [start, end), to the microsecond."""
    span = end - start - timedelta(microseconds=1)
    return start + span * fraction


@given(amount=prices, whole=st.integers(1, 10**9), part=st.integers(-10, 10**9 + 10))
def test_prorate_rounds_half_up_once(amount: int, whole: int, part: int) -> None:
    clamped = min(max(part, 0), whole)
    exact = Fraction(amount * clamped, whole)

    result = prorate(amount, part, whole)

    assert result == int(exact + Fraction(1, 2))  # floor(x + 1/2): half-up
    assert 0 <= result <= amount


@settings(max_examples=300)
@given(current=plans, target=plans, start=starts, fraction=fractions)
def test_credit_never_exceeds_what_was_paid_and_lines_add_up(
    current: PlanTerms, target: PlanTerms, start: datetime, fraction: float
) -> None:
    end = add_interval(start, current.interval)
    at = _at(start, end, fraction)
    new_end = add_interval(at, target.interval, at.day)

    change = immediate_change(
        current, target, period_start=start, period_end=end, at=at, new_period_end=new_end
    )

    assert 0 <= change.credit <= current.price  # never more than the period's price
    assert 0 <= change.charge <= target.price
    assert sum(line.amount for line in change.lines) == change.amount_due >= 0
    assert change.credit == min(unused_credit(current.price, start, end, at), change.charge)
    if target.interval is current.interval:
        assert (change.period_start, change.period_end, change.new_period) == (start, end, False)
    else:
        assert (change.period_start, change.period_end, change.new_period) == (at, new_end, True)
        assert change.charge == target.price


@settings(max_examples=200)
@given(start=starts, first=fractions, second=fractions)
def test_a_second_upgrade_credits_the_plan_price_not_the_prorated_payment(
    start: datetime, first: float, second: float
) -> None:
    # given a month of Plus, upgraded to Plus 5K part-way (the charge covers the rest)
    end = add_interval(start, BillingInterval.MONTH)
    t1 = _at(start, end, first)
    t2 = t1 + (end - t1) * second
    upgrade = immediate_change(
        PLUS, PLUS_5K, period_start=start, period_end=end, at=t1, new_period_end=end
    )
    paid_for_5k = upgrade.charge

    # when the customer moves on to the yearly plan later in the same period
    yearly = immediate_change(
        PLUS_5K,
        PLUS_YEARLY,
        period_start=start,
        period_end=end,
        at=t2,
        new_period_end=add_interval(t2, BillingInterval.YEAR, t2.day),
    )

    # then the credit is the 5K price for the time left, never more than was paid for it
    assert yearly.credit == unused_credit(PLUS_5K.price, start, end, t2)
    assert yearly.credit <= paid_for_5k
    assert yearly.amount_due == PLUS_YEARLY.price - yearly.credit


def test_a_worked_example_by_the_second() -> None:
    # Plus monthly from Nov 1 to Dec 1 (30 days), upgraded to Plus 5K on Nov 22 at noon
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    at = datetime(2026, 11, 22, 12, tzinfo=UTC)

    change = immediate_change(
        PLUS, PLUS_5K, period_start=start, period_end=end, at=at, new_period_end=end
    )

    # 8.5 days of 30 left: 2900 * 734400 / 2592000 = 821.67 → 822; 9900 * ... = 2805
    assert [(line.description, line.amount) for line in change.lines] == [
        ("Unused time on Plus (monthly) from Nov 22, 2026 to Dec 1, 2026", -822),
        ("Remaining time on Plus 5K (monthly) from Nov 22, 2026 to Dec 1, 2026", 2805),
    ]
    assert change.amount_due == 1983


def test_nothing_running_starts_a_new_period_at_full_price() -> None:
    at = datetime(2026, 11, 22, 12, tzinfo=UTC)
    end = add_interval(at, BillingInterval.MONTH, at.day)

    change = immediate_change(
        None, PLUS, period_start=None, period_end=None, at=at, new_period_end=end
    )

    assert (change.credit, change.charge, change.new_period) == (0, 2900, True)
    assert [line.description for line in change.lines] == [
        "Plus (monthly), Nov 22, 2026 to Dec 22, 2026"
    ]


@pytest.mark.parametrize(
    ("current", "target", "upgrade"),
    [
        (FREE, PLUS, True),
        (PLUS, PLUS_5K, True),  # same interval, dearer
        (PLUS, PLUS_YEARLY, True),  # same tier, longer interval
        (PLUS_5K, PLUS_YEARLY, True),  # longer interval wins over the monthly price
        (PLUS_YEARLY, PLUS, False),  # cheaper per day is not what decides
        (PLUS_YEARLY, PLUS_5K, False),  # shorter interval: a downgrade
        (PLUS_5K, PLUS, False),
        (PLUS, FREE, False),
        (PLUS_YEARLY, FREE, False),
        (PLUS, ENTERPRISE, True),
    ],
)
def test_which_way_a_change_goes(current: PlanTerms, target: PlanTerms, upgrade: bool) -> None:
    assert is_upgrade(current, target) is upgrade
