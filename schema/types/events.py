"""Billing events (the log, live and paged) and the webhook endpoints that receive them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from models.events import BillingEvent as BillingEventModel
from models.events import BillingEventType as BillingEventTypeModel
from models.events import WebhookDelivery as WebhookDeliveryModel
from models.events import WebhookDeliveryStatus as WebhookDeliveryStatusModel
from models.events import WebhookEndpoint as WebhookEndpointModel
from resolvers import events as event_resolvers
from resolvers.context import Info
from resolvers.ids import to_global_id
from schema.types.common import Node, PageInfo
from schema.types.enums import described
from services.events.log import Position, encode_cursor

if TYPE_CHECKING:
    from schema.types.invoice import Invoice, Payment
    from schema.types.payment_method import PaymentMethod
    from schema.types.plan import Subscription
    from schema.types.usage import Notification

#: Account, resolved when the schema is built (schema.types.account imports this module).
AccountRef = Annotated["Account", strawberry.lazy("schema.types.account")]  # noqa: F821

#: The `types` argument of `Account.events` and `billingEvents`.
EVENT_TYPES_ARG = (
    "Only these event types; left out or null: every type. An empty list is INVALID_INPUT "
    "(give at least one type, or omit types for all)."
)
BillingEventType = described(
    BillingEventTypeModel,
    name="BillingEventType",
    description="What happened to an account's billing. More types are added as features land.",
    values={
        "INVOICE_CREATED": "An invoice was issued (numbered, OPEN, payable).",
        "INVOICE_PAID": "An invoice was paid in full.",
        "INVOICE_VOIDED": "An invoice was voided; nothing is due on it any more.",
        "PAYMENT_SUCCEEDED": "A charge succeeded.",
        "PAYMENT_FAILED": "A charge failed or was declined; the invoice stays open.",
        "PAYMENT_REQUIRES_ACTION": (
            "A charge waits for the customer's 3-D Secure check (`payment.nextAction`)."
        ),
        "SUBSCRIPTION_UPDATED": (
            "The subscription changed: status (past due, active again, ended), plan or period."
        ),
        "PAYMENT_METHOD_ADDED": "A card was stored (ACTIVE, or REQUIRES_ACTION for 3-D Secure).",
        "PAYMENT_METHOD_UPDATED": "A card changed: verified by 3-D Secure, or its details edited.",
        "PAYMENT_METHOD_REMOVED": "A card was removed (by the customer, the provider or a check).",
        "DEFAULT_PAYMENT_METHOD_CHANGED": "Another card became the default (`paymentMethod`).",
        "BILLING_INFO_UPDATED": "The billing name, email, address or tax ID changed.",
        "USAGE_THRESHOLD_REACHED": "A usage notification fired (`notification`).",
        "PAYMENT_REFUNDED": "Part or all of a payment was refunded at the provider.",
    },
)

WebhookDeliveryStatus = described(
    WebhookDeliveryStatusModel,
    name="WebhookDeliveryStatus",
    description="Where a webhook delivery stands.",
    values={
        "PENDING": "Not delivered yet: waiting for its first attempt or its next retry.",
        "SUCCEEDED": "The endpoint answered 2xx.",
        "FAILED": "Every retry failed (about 3 days) or the endpoint was disabled or deleted.",
    },
)


@strawberry.type(
    description=(
        "One change to an account's billing, from the append-only event log: written in the "
        "same transaction as the change, so every committed change has exactly one event."
    )
)
class BillingEvent(Node):
    model: strawberry.Private[BillingEventModel]
    cursor: str = strawberry.field(
        description=(
            "This event's place in the log: pass it as `after` to `Account.events` or to the "
            "`billingEvents` subscription to continue right after it, with no gap."
        )
    )
    type: BillingEventType = strawberry.field(description="What happened.")
    occurred_at: datetime = strawberry.field(description="When the change was made.")

    @classmethod
    def from_model(cls, event: BillingEventModel) -> BillingEvent:
        return cls(
            id=strawberry.ID(to_global_id("BillingEvent", event.id)),
            model=event,
            cursor=encode_cursor(Position.of(event)),
            type=BillingEventTypeModel(event.type),
            occurred_at=event.occurred_at,
        )

    @strawberry.field(description="The account the event belongs to.")
    async def account(self, info: Info) -> AccountRef:
        return await event_resolvers.event_account(info, self.model)

    @strawberry.field(description="The invoice the event is about, if any.")
    async def invoice(
        self, info: Info
    ) -> Annotated[Invoice, strawberry.lazy("schema.types.invoice")] | None:
        return await event_resolvers.event_invoice(info, self.model)

    @strawberry.field(description="The payment the event is about, if any.")
    async def payment(
        self, info: Info
    ) -> Annotated[Payment, strawberry.lazy("schema.types.invoice")] | None:
        return await event_resolvers.event_payment(info, self.model)

    @strawberry.field(
        description="The card the event is about, if any (also a removed one, status DELETED)."
    )
    async def payment_method(
        self, info: Info
    ) -> Annotated[PaymentMethod, strawberry.lazy("schema.types.payment_method")] | None:
        return await event_resolvers.event_payment_method(info, self.model)

    @strawberry.field(description="The subscription the event is about, if any.")
    async def subscription(
        self, info: Info
    ) -> Annotated[Subscription, strawberry.lazy("schema.types.plan")] | None:
        return await event_resolvers.event_subscription(info, self.model)

    @strawberry.field(description="The usage notification the event is about, if any.")
    async def notification(
        self, info: Info
    ) -> Annotated[Notification, strawberry.lazy("schema.types.usage")] | None:
        return await event_resolvers.event_notification(info, self.model)


@strawberry.type(description="An event and its cursor.")
class BillingEventEdge:
    cursor: str = strawberry.field(description="Pass as `after` to read the events after it.")
    node: BillingEvent = strawberry.field(description="The event.")


@strawberry.type(description="A page of an account's events, oldest first (log order).")
class BillingEventConnection:
    edges: list[BillingEventEdge] = strawberry.field(description="This page's events.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the log.")


@strawberry.type(
    description=(
        "One event for one endpoint: each attempt's outcome, and when the next retry is due."
    )
)
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(
        description="The delivery's ID (the event's id is sent as `webhook-id`)."
    )
    event_id: strawberry.ID = strawberry.field(
        description="The BillingEvent's ID; also what the `webhook-id` header carries."
    )
    type: BillingEventType = strawberry.field(description="The event's type.")
    status: WebhookDeliveryStatus = strawberry.field(description="Where the delivery stands.")
    attempts: int = strawberry.field(description="How many times it was sent so far.")
    response_status: int | None = strawberry.field(
        description="The HTTP status of the last attempt; null when it got no response."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed (timeout, refused address, HTTP status)."
    )
    last_attempt_at: datetime | None = strawberry.field(description="When it was last sent.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next retry is due; null once it succeeded or failed for good."
    )
    attempt_log: list[WebhookAttempt] = strawberry.field(
        description="Every attempt so far, oldest first."
    )

    @classmethod
    def from_model(cls, row: WebhookDeliveryModel, event_type: str) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(to_global_id("WebhookDelivery", row.id)),
            event_id=strawberry.ID(to_global_id("BillingEvent", row.event_id)),
            type=BillingEventTypeModel(event_type),
            status=row.status,
            attempts=row.attempts,
            response_status=row.response_status,
            last_error=row.last_error,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=(
                row.next_attempt_at if row.status is WebhookDeliveryStatusModel.PENDING else None
            ),
            attempt_log=[WebhookAttempt.from_dict(a) for a in row.attempt_log],
        )


@strawberry.type(description="One try at delivering a webhook.")
class WebhookAttempt:
    at: datetime = strawberry.field(description="When it was sent.")
    response_status: int | None = strawberry.field(
        description="The HTTP status answered; null when there was no answer."
    )
    error: str | None = strawberry.field(description="Why it failed; null when it succeeded.")
    duration_ms: int = strawberry.field(description="How long the endpoint took to answer.")

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> WebhookAttempt:
        status = raw.get("status")
        error = raw.get("error")
        return cls(
            at=datetime.fromisoformat(str(raw["at"])),
            response_status=status if isinstance(status, int) else None,
            error=str(error) if error else None,
            duration_ms=int(str(raw.get("ms", 0))),
        )


@strawberry.type(description="A delivery and its cursor.")
class WebhookDeliveryEdge:
    cursor: str = strawberry.field(description="Pass as `after` to read older deliveries.")
    node: WebhookDelivery = strawberry.field(description="The delivery.")


@strawberry.type(description="An endpoint's deliveries, newest first.")
class WebhookDeliveryConnection:
    edges: list[WebhookDeliveryEdge] = strawberry.field(description="This page's deliveries.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")


@strawberry.type(
    description=(
        "A URL that receives billing events as signed POSTs (Standard Webhooks: headers "
        "`webhook-id`, `webhook-timestamp`, `webhook-signature`), retried for about 3 days."
    )
)
class WebhookEndpoint(Node):
    model: strawberry.Private[WebhookEndpointModel]
    url: str = strawberry.field(description="Where events are POSTed (https in production).")
    types: list[BillingEventType] = strawberry.field(
        description="The event types sent; empty: every type (registered without `types`)."
    )
    enabled: bool = strawberry.field(
        description=(
            "False once deliveries failed for days in a row (the owner is emailed); "
            "create a new endpoint to start again."
        )
    )
    disabled_reason: str | None = strawberry.field(
        description="Why the endpoint was disabled; null while enabled."
    )
    created_at: datetime = strawberry.field(description="When it was registered.")

    @classmethod
    def from_model(cls, row: WebhookEndpointModel) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(to_global_id("WebhookEndpoint", row.id)),
            model=row,
            url=row.url,
            types=[BillingEventTypeModel(t) for t in row.types],
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            created_at=row.created_at,
        )

    @strawberry.field(
        description=(
            "The account whose events it receives; null for a partner endpoint that receives "
            "every account the partner key sees."
        )
    )
    async def account(self, info: Info) -> AccountRef | None:
        return await event_resolvers.endpoint_account(info, self.model)

    @strawberry.field(description="Delivery attempts, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="Page size, 0 to 100; 20 when left out.")
        ] = 20,
        after: Annotated[
            str | None,
            strawberry.argument(description="The `endCursor` of the previous page."),
        ] = None,
    ) -> WebhookDeliveryConnection:
        page = await event_resolvers.endpoint_delivery_page(
            info, self.model, first=first, after=after
        )
        edges = [
            WebhookDeliveryEdge(cursor=cursor, node=WebhookDelivery.from_model(row, event_type))
            for cursor, row, event_type in page.rows
        ]
        return WebhookDeliveryConnection(
            edges=edges,
            page_info=PageInfo.of(
                [e.cursor for e in edges],
                has_next_page=page.has_next_page,
                has_previous_page=after is not None,
            ),
        )
