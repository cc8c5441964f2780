"""The worker's jobs write their billing events too, one per change: a renewal (the
period moves on, the next invoice is issued, then charged), a declined renewal (the
payment fails, the subscription turns past due), and a second pass writes nothing."""

from __future__ import annotations

from collections import Counter

import pytest

from gateway.sandbox import Sandbox
from models import BillingEvent
from services.clock import FixedClock
from services.collection import collect_due
from services.context import ServiceContext
from services.renewals import renew_due
from tests.factories import DECLINING_CARD, OK_CARD, add_card, make_account
from tests.lifecycle.helpers import due_subscription

pytestmark = pytest.mark.usefixtures("db")


async def _written_by(job: object) -> Counter[str]:
    before = set(await BillingEvent.all().values_list("id", flat=True))
    await job  # type: ignore[misc]
    return Counter(e.type for e in await BillingEvent.exclude(id__in=list(before)))


@pytest.mark.parametrize(
    ("card", "charged"),
    [
        (OK_CARD, Counter(["PAYMENT_SUCCEEDED", "INVOICE_PAID"])),
        (DECLINING_CARD, Counter(["PAYMENT_FAILED", "SUBSCRIPTION_UPDATED"])),
    ],
)
async def test_a_renewal_writes_one_event_per_change(
    services: ServiceContext,
    sandbox: Sandbox,
    clock: FixedClock,
    card: str,
    charged: Counter[str],
) -> None:
    account = await make_account()
    await add_card(services, sandbox, account, card)
    await due_subscription(account, clock.now())

    renewed = await _written_by(renew_due(services))
    collected = await _written_by(collect_due(services))

    assert renewed == Counter(["SUBSCRIPTION_UPDATED", "INVOICE_CREATED"])
    assert collected == charged
    assert await _written_by(renew_due(services)) == Counter()
    assert await _written_by(collect_due(services)) == Counter()
