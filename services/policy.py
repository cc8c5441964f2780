"""Billing policy knobs that come from settings: the dunning schedule and where to send people."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from models import SubscriptionStatus


@dataclass(frozen=True)
class BillingPolicy:
    #: Days after the first failed charge on which the worker tries again.
    retry_days: tuple[int, ...] = (1, 3, 5, 7)
    #: Where a subscription ends once every retry failed: CANCELED or UNPAID.
    final_status: SubscriptionStatus = SubscriptionStatus.CANCELED
    #: Payments left PENDING/PROCESSING longer than this are settled by the reconciler.
    reconcile_after: timedelta = timedelta(minutes=5)
    #: Invoices are due this long after issue.
    invoice_due_in: timedelta = timedelta(days=14)
    portal_url: str = "http://127.0.0.1:8000/portal"
    public_url: str = "http://127.0.0.1:8000"
    #: Outgoing webhooks: https only (production), and the networks or host names allowed
    #: although not public (the demo allows loopback for its sink).
    webhook_require_https: bool = True
    webhook_allowed_targets: tuple[str, ...] = ()
    #: Builds the (signed) receipt link put into emails; the portal when unset.
    receipt_link: Callable[[int], str] | None = None

    def receipt_url(self, invoice_id: int) -> str:
        if self.receipt_link is not None:
            return self.receipt_link(invoice_id)
        return self.portal_url

    def retry_delay(self, attempts_failed: int) -> timedelta | None:
        """Offset from the first failure of the next retry, or None when exhausted."""
        if attempts_failed < 1 or attempts_failed > len(self.retry_days):
            return None
        return timedelta(days=self.retry_days[attempts_failed - 1])
