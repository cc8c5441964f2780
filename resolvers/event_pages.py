"""`Account.events` (the log, paged) and the `billingEvents` subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from graphql import GraphQLError

from models.events import BillingEventType as BillingEventTypeModel
from resolvers.context import Info
from resolvers.errors import raise_top_level
from resolvers.ids import decode_optional_id
from schema.types.common import PageInfo
from schema.types.events import BillingEvent, BillingEventConnection, BillingEventEdge
from services import access
from services.errors import BillingError, InvalidInput
from services.events import fanout, log


async def event_connection(
    info: Info,
    account_id: int,
    *,
    first: int | None,
    after: str | None,
    types: list[BillingEventTypeModel] | None,
) -> BillingEventConnection:
    try:
        page = await log.list_events(account_id, first=first, after=after, types=types)
    except BillingError as exc:
        raise_top_level(exc)
    nodes = [BillingEvent.from_model(e) for e in page.events]
    return BillingEventConnection(
        edges=[BillingEventEdge(cursor=n.cursor, node=n) for n in nodes],
        page_info=PageInfo.of(
            [n.cursor for n in nodes],
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
        ),
    )


async def billing_events(
    info: Info,
    account_id: str | None,
    after: str | None,
    types: list[BillingEventTypeModel] | None,
) -> AsyncGenerator[BillingEvent, None]:
    """The subscription: the caller's events (one account, or all a partner sees) after
    `after`, then live. Idle turns yield nothing; the transport sends keep-alives and
    re-checks the credential (gateway/subscriptions.py)."""
    try:
        principal = info.context.require_principal()
        account_ids = await stream_accounts(principal, account_id)
        position = log.decode_cursor(after) if after else None
        chosen = log.type_filter(types)
    except BillingError as exc:
        raise_top_level(exc)
    try:
        async for event in fanout.follow(
            fanout.current(),
            caller=principal.caller,
            account_ids=account_ids,
            after=position,
            types=chosen or (),
        ):
            if event is not None:
                yield BillingEvent.from_model(event)
    except fanout.StreamClosed as closed:
        raise GraphQLError(closed.message, extensions={"code": closed.code}) from closed


async def stream_accounts(principal: Any, account_id: str | None) -> frozenset[int]:
    """The accounts a stream covers: the one named (NOT_FOUND unless the caller sees it),
    else the caller's only account, else (partners) every account the key sees."""
    from models import ApiKeyRole

    pk = decode_optional_id(account_id, "Account", field="accountId")
    if pk is not None or len(principal.account_ids) == 1:
        account = await access.readable_account(principal, pk)
        return frozenset({account.id})
    if principal.role is ApiKeyRole.PARTNER:
        return frozenset(principal.account_ids)
    raise InvalidInput("Pass accountId: this key sees no single account.", field="accountId")


async def events_cursor(info: Info, account_id: int) -> str:
    return log.encode_cursor(await log.account_head(account_id))
