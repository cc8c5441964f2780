"""Overage opt-in and its cap; notifications fired exactly once per threshold."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models import (
    Notification,
    NotificationKind,
    OutboxMessage,
    OverageSetting,
    PaymentMethod,
    PlanTier,
    UsageNotificationSetting,
)
from models.events import BillingEvent
from services.context import ServiceContext
from services.errors import (
    InvalidInput,
    OverageNotAvailable,
    PaymentMethodRequired,
    PermissionDenied,
    SelfServiceUnavailable,
)
from services.notifications.render import render_email
from services.usage.overage import update_overage_settings
from services.usage.reading import usage_of
from services.usage.thresholds import update_usage_notifications
from tests.factories import admin_of, viewer_of
from tests.usage.helpers import event, metered_account, report


async def _kinds(account_id: int) -> list[tuple[str, int]]:
    rows = await Notification.filter(account_id=account_id).order_by("id")
    return [(n.kind.value, n.threshold) for n in rows]


async def test_usage_within_the_allowance_is_allowed_and_costs_nothing(
    services: ServiceContext,
) -> None:
    account, _ = await metered_account()
    await report(services, event(account, "e1", "250.5"))

    usage = await usage_of(account)

    assert usage is not None
    (meter,) = usage.meters
    assert (meter.used_micros, meter.remaining_micros) == (250_500_000, 749_500_000)
    assert meter.percent_used == pytest.approx(25.05)
    assert (meter.overage_amount, meter.allowed, usage.overage_amount) == (0, True, 0)


async def test_free_at_its_allowance_is_not_allowed(services: ServiceContext) -> None:
    account, _ = await metered_account(tier=PlanTier.FREE)
    await report(services, event(account, "e1", "50"))

    usage = await usage_of(account)

    assert usage is not None and usage.meters[0].allowed is False
    assert usage.overage.available is False


async def test_overage_off_records_usage_past_the_allowance_but_bills_nothing(
    services: ServiceContext,
) -> None:
    account, _ = await metered_account()
    await report(services, event(account, "e1", "1200"))

    usage = await usage_of(account)

    assert usage is not None
    assert (usage.meters[0].used_micros, usage.overage_amount) == (1_200_000_000, 0)
    assert usage.meters[0].allowed is False


async def test_overage_on_bills_past_the_allowance_rounded_half_up(
    services: ServiceContext,
) -> None:
    account, _ = await metered_account()
    await update_overage_settings(
        services, admin_of(account), account, enabled=True, monthly_cap=None
    )
    await report(services, event(account, "e1", "1000"), event(account, "e2", "12.375"))

    usage = await usage_of(account)

    assert usage is not None
    # 12.375 credits x 4 cents = 49.5 cents: rounded half-up once, to 50.
    assert (usage.meters[0].overage_micros, usage.overage_amount) == (12_375_000, 50)
    assert usage.meters[0].allowed is True


async def test_a_zero_cap_is_not_reached_while_usage_is_within_the_allowance(
    services: ServiceContext,
) -> None:
    account, _ = await metered_account()
    await update_overage_settings(services, admin_of(account), account, enabled=True, monthly_cap=0)
    await report(services, event(account, "e1", "850"))

    usage = await usage_of(account)

    assert usage is not None and usage.meters[0].allowed is True
    assert usage.cap_reached is False  # the portal would say "usage is blocked"
    await report(services, event(account, "e2", "151"))  # past the allowance: now it is
    usage = await usage_of(account)
    assert usage is not None and usage.meters[0].allowed is False and usage.cap_reached


async def test_the_cap_is_never_exceeded_and_blocks_at_the_cap(services: ServiceContext) -> None:
    account, _ = await metered_account()
    await update_overage_settings(
        services, admin_of(account), account, enabled=True, monthly_cap=500
    )

    await report(services, event(account, "e1", "1100"))  # 100 over: $4.00
    await report(services, event(account, "e2", "100"))  # 200 over: $8.00 > cap $5.00

    usage = await usage_of(account)
    assert usage is not None
    assert usage.overage_amount == 500
    assert usage.cap_reached and usage.meters[0].allowed is False
    assert usage.meters[0].used_micros == 1_200_000_000  # recorded all the same
    # Raising the cap later does not bill what happened past the old one.
    await update_overage_settings(
        services, admin_of(account), account, enabled=True, monthly_cap=900
    )
    usage = await usage_of(account)
    assert usage is not None and usage.overage_amount == 500 and usage.meters[0].allowed


async def test_turning_overage_off_keeps_what_accrued_billable(services: ServiceContext) -> None:
    account, _ = await metered_account()
    admin = admin_of(account)
    await update_overage_settings(services, admin, account, enabled=True, monthly_cap=None)
    await report(services, event(account, "e1", "1010"))

    await update_overage_settings(services, admin, account, enabled=False, monthly_cap=None)
    await report(services, event(account, "e2", "50"))

    usage = await usage_of(account)
    assert usage is not None
    assert usage.overage_amount == 40  # the 10 credits accrued while it was on
    assert usage.meters[0].allowed is False


async def test_a_cap_below_what_accrued_is_invalid(services: ServiceContext) -> None:
    account, _ = await metered_account()
    admin = admin_of(account)
    await update_overage_settings(services, admin, account, enabled=True, monthly_cap=None)
    await report(services, event(account, "e1", "1100"))  # $4.00 accrued

    with pytest.raises(InvalidInput) as info:
        await update_overage_settings(services, admin, account, enabled=True, monthly_cap=399)

    assert info.value.field == "monthlyCap"
    setting = await OverageSetting.get(account_id=account.id)
    assert (setting.enabled, setting.monthly_cap) == (True, None)
    await update_overage_settings(services, admin, account, enabled=True, monthly_cap=400)


@pytest.mark.parametrize(
    ("tier", "card", "viewer", "error"),
    [
        (PlanTier.FREE, True, False, OverageNotAvailable),
        (PlanTier.ENTERPRISE, True, False, SelfServiceUnavailable),
        (PlanTier.PLUS, False, False, PaymentMethodRequired),
        (PlanTier.PLUS, True, True, PermissionDenied),
    ],
)
async def test_turning_overage_on_is_refused(
    services: ServiceContext, tier: PlanTier, card: bool, viewer: bool, error: type[Exception]
) -> None:
    account, _ = await metered_account(tier=tier, card=card)
    caller = viewer_of(account) if viewer else admin_of(account)

    with pytest.raises(error):
        await update_overage_settings(services, caller, account, enabled=True, monthly_cap=1000)

    assert await OverageSetting.all().count() == 0


async def test_an_expired_card_does_not_count(services: ServiceContext) -> None:
    account, _ = await metered_account()
    await PaymentMethod.filter(account_id=account.id).update(exp_year=2020)

    with pytest.raises(PaymentMethodRequired):
        await update_overage_settings(
            services, admin_of(account), account, enabled=True, monthly_cap=None
        )


async def test_thresholds_fire_once_each_with_an_email(services: ServiceContext) -> None:
    account, _ = await metered_account()

    await report(services, event(account, "e1", "799.99"))
    assert await _kinds(account.id) == []
    await report(services, event(account, "e2", "0.01"))  # exactly 80 %
    await report(services, event(account, "e3", "1"))  # still past 80 %: nothing new
    await report(services, event(account, "e4", "200"))  # past 90 and 100 at once

    assert await _kinds(account.id) == [
        ("USAGE_THRESHOLD", 80),
        ("USAGE_THRESHOLD", 90),
        ("USAGE_THRESHOLD", 100),
    ]
    emails = await OutboxMessage.filter(account_id=account.id).order_by("id")
    assert [e.template for e in emails] == ["usage_notification"] * 3
    logged = await BillingEvent.filter(account_id=account.id, type="USAGE_THRESHOLD_REACHED")
    notes = await Notification.filter(account_id=account.id).order_by("id")
    assert sorted(e.notification_id for e in logged) == [n.id for n in notes]
    assert "Turn on overage" in emails[0].context["message"]
    rendered = render_email("usage_notification", emails[0].context)
    assert rendered.subject == "You have used 80% of your credits"
    assert "Turn on overage" in rendered.text and "Turn on overage" in rendered.html


async def test_free_is_told_to_upgrade(services: ServiceContext) -> None:
    account, _ = await metered_account(tier=PlanTier.FREE)

    await report(services, event(account, "e1", "50"))

    (note,) = [n for n in await Notification.all() if n.threshold == 100]
    assert "Upgrade" in note.message


async def test_overage_started_and_cap_reached_fire_once(services: ServiceContext) -> None:
    account, _ = await metered_account()
    await update_usage_notifications(
        services, admin_of(account), account, thresholds=[], email=None
    )
    await update_overage_settings(
        services, admin_of(account), account, enabled=True, monthly_cap=100
    )

    await report(services, event(account, "e1", "1001"))
    await report(services, event(account, "e2", "30"))
    await report(services, event(account, "e3", "30"))

    assert await _kinds(account.id) == [
        (NotificationKind.OVERAGE_STARTED.value, 0),
        (NotificationKind.OVERAGE_CAP_REACHED.value, 0),
    ]
    messages = [n.message for n in await Notification.all().order_by("id")]
    assert "$0.04" in messages[0] and "$1.00" in messages[0]
    assert "Raise your cap" in messages[1]


async def test_custom_thresholds_and_email_off(services: ServiceContext) -> None:
    account, _ = await metered_account()
    await update_usage_notifications(
        services, admin_of(account), account, thresholds=[50, 150, 50], email=False
    )

    await report(services, event(account, "e1", "1600"))

    assert await _kinds(account.id) == [("USAGE_THRESHOLD", 50), ("USAGE_THRESHOLD", 150)]
    assert await OutboxMessage.all().count() == 0


@pytest.mark.parametrize("thresholds", [[0], [1001], list(range(1, 12)), [-5]])
async def test_thresholds_out_of_range_are_invalid(
    services: ServiceContext, thresholds: list[int]
) -> None:
    account, _ = await metered_account()

    with pytest.raises(InvalidInput) as info:
        await update_usage_notifications(
            services, admin_of(account), account, thresholds=thresholds, email=None
        )

    assert info.value.field == "thresholds"
    assert await UsageNotificationSetting.all().count() == 0


async def test_a_quantity_reported_in_pieces_sums_exactly(services: ServiceContext) -> None:
    account, _ = await metered_account()

    await report(services, *[event(account, f"e{n}", "0.01") for n in range(100)])

    usage = await usage_of(account)
    assert usage is not None and Decimal(usage.meters[0].used_micros) / 10**6 == 1
