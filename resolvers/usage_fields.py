"""Usage fields on Account and Plan: usage, overage, usageNotifications, notifications,
allowances. Reads go through the per-request loaders and the per-period totals."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from models import Account as AccountModel
from resolvers.context import Info
from resolvers.errors import raise_top_level
from resolvers.ids import parse_pk
from services.errors import BillingError, InvalidInput
from services.usage import reading
from services.usage.rating import UsageRating

if TYPE_CHECKING:
    from schema.types.usage import (
        NotificationConnection,
        OverageSettings,
        PlanAllowance,
        Usage,
        UsageNotificationSettings,
    )


async def _rating(info: Info, account_id: int) -> UsageRating | None:
    loader = info.context.loaders.usage_by_account
    result: UsageRating | None = await loader.load(account_id)
    return result


async def account_usage(info: Info, account: AccountModel) -> Usage | None:
    from schema.types.usage import Usage

    rating = await _rating(info, account.id)
    return None if rating is None else Usage.from_value(rating)


async def account_overage(info: Info, account: AccountModel) -> OverageSettings:
    from schema.types.usage import OverageSettings

    return OverageSettings.from_value(await _rating(info, account.id), account.currency)


async def account_usage_notifications(
    info: Info, account: AccountModel
) -> UsageNotificationSettings:
    from schema.types.usage import UsageNotificationSettings

    levels, email = await reading.notification_settings(account.id)
    return UsageNotificationSettings(thresholds=levels, email=email)


def _cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"notification:{pk}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        kind, _, raw = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "notification":
            raise ValueError(kind)
        return parse_pk(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError, InvalidInput) as exc:
        raise InvalidInput("Invalid cursor.", field="after") from exc


async def account_notifications(
    info: Info, account: AccountModel, first: int | None, after: str | None
) -> NotificationConnection:
    from schema.types.common import PageInfo
    from schema.types.usage import Notification, NotificationConnection, NotificationEdge

    try:
        rows, has_next, total = await reading.list_notifications(
            account.id, first=first, after=None if after is None else _decode_cursor(after)
        )
    except BillingError as exc:
        raise_top_level(exc)
    cursors = [_cursor(n.id) for n in rows]
    return NotificationConnection(
        edges=[
            NotificationEdge(cursor=c, node=Notification.from_model(n))
            for c, n in zip(cursors, rows, strict=True)
        ],
        page_info=PageInfo.of(cursors, has_next_page=has_next, has_previous_page=after is not None),
        total_count=total,
    )


async def plan_allowances(info: Info, plan_id: int, currency: str) -> list[PlanAllowance]:
    from schema.types.usage import PlanAllowance

    rows = await info.context.loaders.allowances_by_plan.load(plan_id)
    return [PlanAllowance.from_value(a, currency) for a in rows]


async def usage_of_account(info: Info, account_id: str) -> Usage | None:
    """Query.usage: any account's for a SERVICE key (the product's backend reads `allowed`
    to block), the caller's own otherwise; null when not found or not readable."""
    from models import ApiKeyRole
    from resolvers.ids import from_global_id
    from schema.types.usage import Usage
    from services import access

    try:
        principal = info.context.require_principal()
    except BillingError as exc:
        raise_top_level(exc)
    try:
        type_name, pk = from_global_id(account_id)
        if type_name != "Account":
            return None
        if principal.role is ApiKeyRole.SERVICE:
            account = await AccountModel.get_or_none(id=pk)
        else:
            account = await access.readable_account(principal, pk)
    except BillingError:
        return None
    if account is None:
        return None
    rating = await _rating(info, account.id)
    return None if rating is None else Usage.from_value(rating)
