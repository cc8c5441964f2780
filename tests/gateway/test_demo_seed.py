"""A demo stopped mid-seed is seeded again from scratch on the next run, never taken for
complete: seeding writes its completion marker last (gateway/demo.py)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway import demo
from gateway.sandbox import Sandbox
from models import (
    Account,
    ApiKey,
    Invoice,
    Notification,
    OutboxMessage,
    Payment,
    PaymentMethod,
    Subscription,
    UsageEvent,
)
from services.context import ServiceContext


class Interrupted(Exception):
    """Stands for the demo being stopped (Ctrl-C, kill) between two seeding steps."""


async def shape() -> dict[str, Any]:
    """What a seeded demo holds, per demo account (ids and timestamps aside)."""
    out: dict[str, Any] = {}
    for account in await Account.filter(email__in=demo.DEMO_EMAILS).order_by("email"):
        out[account.email] = {
            "tier": account.tier,
            "subscription": [
                (s.status, s.plan_id) for s in await Subscription.filter(account_id=account.id)
            ],
            "cards": sorted(
                (pm.last4, pm.is_default)
                for pm in await PaymentMethod.filter(account_id=account.id)
            ),
            "invoices": sorted(
                (i.status, i.total) for i in await Invoice.filter(account_id=account.id)
            ),
            "payments": sorted(p.status for p in await Payment.filter(account_id=account.id)),
            "usage": sorted(e.event_id for e in await UsageEvent.filter(account_id=account.id)),
            "notifications": await Notification.filter(account_id=account.id).count(),
        }
    out["outbox"] = sorted((m.template, m.to_email) for m in await OutboxMessage.all())
    return out


@pytest.mark.parametrize("step", ["tokenize", "_pay_on_issue", "_subscription"])
async def test_an_interrupted_seed_is_redone_on_the_next_run(
    services: ServiceContext,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
) -> None:
    # given a complete seed's shape, for comparison
    assert await demo.seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
    complete = await shape()
    await Account.filter(email__in=demo.DEMO_EMAILS).delete()
    await OutboxMessage.all().delete()
    await demo.DemoSeed.all().delete()

    # when a run is stopped right after a step (the first card, payment, subscription)
    real = getattr(demo, step)

    async def stop_after(*args: Any, **kwargs: Any) -> None:
        await real(*args, **kwargs)
        raise Interrupted

    monkeypatch.setattr(demo, step, stop_after)
    with pytest.raises(Interrupted):
        await demo.seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
    monkeypatch.setattr(demo, step, real)
    assert await Account.filter(email__in=demo.DEMO_EMAILS).exists()  # half-seeded

    # then the next run sees it is not complete and seeds it again, whole
    assert await demo.seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
    assert await shape() == complete
    assert await demo.DemoSeed.all().count() == 1

    # and the run after that keeps it as it is
    assert not await demo.seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
    assert await shape() == complete


async def test_a_seed_stopped_after_its_final_step_is_complete_and_kept(
    services: ServiceContext, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a run stopped after its last step (the usage) but before its marker
    real = demo.seed_usage

    async def stop_after(*args: Any, **kwargs: Any) -> None:
        await real(*args, **kwargs)
        raise Interrupted

    monkeypatch.setattr(demo, "seed_usage", stop_after)
    with pytest.raises(Interrupted):
        await demo.seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
    monkeypatch.setattr(demo, "seed_usage", real)
    stopped = await shape()

    # then the next run keeps it, as a complete seed, and marks it so
    assert not await demo.seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
    assert await shape() == stopped
    assert stopped["plus@demo.test"]["usage"] == ["demo-plus-1", "demo-plus-2"]
    assert await demo.DemoSeed.all().count() == 1


async def test_a_demo_seeded_before_the_marker_existed_is_kept(
    services: ServiceContext, sandbox: Sandbox
) -> None:
    # given a database seeded completely by an earlier version (no marker row)
    assert await demo.seed_if_absent(services, sandbox.api_base, sandbox.secret_key)
    await demo.DemoSeed.all().delete()
    complete = await shape()
    keys = await ApiKey.all().count()

    # when the demo starts again, it is kept (its final step's usage is there)
    assert not await demo.seed_if_absent(services, sandbox.api_base, sandbox.secret_key)

    assert await shape() == complete
    assert await ApiKey.all().count() == keys
    assert await demo.DemoSeed.all().count() == 1
