"""The root subscription type, `Events` (`Subscription` is the billing subscription)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from resolvers import event_pages
from resolvers.context import Info
from schema.types.events import EVENT_TYPES_ARG, BillingEvent, BillingEventType


@strawberry.type(
    description=(
        "Live billing events, over WebSocket (graphql-transport-ws, credentials in the "
        "`connection_init` payload's `Authorization`) or Server-Sent Events (GraphQL over "
        "SSE: POST or GET /graphql with `Accept: text/event-stream` and an Authorization "
        "header)."
    )
)
class Events:
    @strawberry.subscription(
        description=(
            "The caller's billing events as they commit: for one account (`accountId`, which "
            "a key over one account may leave out), or every account a partner key sees. "
            "With `after` (a `cursor` from an event or from `Account.events`) the events "
            "since then are replayed first, then live ones follow with no gap and no "
            "duplicate. The stream ends with an error when the key is revoked or the token "
            "expires (within seconds), when more than a thousand events wait for a slow "
            "client (code SLOW_CONSUMER: subscribe again with `after`), and a key may hold "
            "at most 20 streams per gateway process (TOO_MANY_STREAMS)."
        )
    )
    async def billing_events(
        self,
        info: Info,
        account_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="The account to follow; null: the key's only account, or (partner "
                "keys) every account the key sees."
            ),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="Replay the events after this cursor first; null: live events only."
            ),
        ] = None,
        types: Annotated[
            list[BillingEventType] | None,
            strawberry.argument(description=EVENT_TYPES_ARG),
        ] = None,
    ) -> AsyncGenerator[BillingEvent, None]:
        async for event in event_pages.billing_events(info, account_id, after, types):
            yield event
