"""The usage mutations: reportUsage, updateOverageSettings, updateUsageNotifications.
(The Account and Plan usage fields are in resolvers/usage_fields.py.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from models import Account as AccountModel
from resolvers.context import Info
from resolvers.errors import guarded
from resolvers.ids import decode_id, decode_optional_id
from services import access
from services.auth import Principal
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.usage import ingest, overage, reading, thresholds

if TYPE_CHECKING:
    from schema import usage_payloads as payloads


async def report_usage(info: Info, input: payloads.ReportUsageInput) -> payloads.ReportUsageResult:
    from schema import usage_payloads as payloads
    from schema.types.usage import Usage, UsageEventResult, UsageEventStatus

    ctx = info.context.services

    async def call(principal: Principal) -> payloads.ReportUsageSuccess:
        ingest.require_service(principal)  # before anything else: customers learn nothing
        account_id = decode_id(input.account_id, "Account", field="accountId")
        account = await AccountModel.get_or_none(id=account_id)
        if account is None:
            raise NotFound(field="accountId")
        events = [
            ingest.EventIn(
                account_id=account.id,
                id=e.id,
                meter=e.meter,
                quantity=e.quantity,
                timestamp=e.timestamp,
            )
            for e in input.events
        ]
        results = await ingest.report_usage(ctx, principal, events)
        rating = await reading.usage_of(account)
        if rating is None:
            raise InvalidInput("The account has no subscription to meter.", field="accountId")
        return payloads.ReportUsageSuccess(
            results=[
                UsageEventResult(id=r.id, status=UsageEventStatus(r.status), reason=r.reason)
                for r in results
            ],
            usage=Usage.from_value(rating),
        )

    return await guarded(info, call)


async def update_overage_settings(
    info: Info, input: payloads.UpdateOverageSettingsInput
) -> payloads.UpdateOverageSettingsResult:
    from schema import usage_payloads as payloads
    from schema.types.account import Account
    from schema.types.usage import OverageSettings, Usage

    ctx = info.context.services

    async def call(principal: Principal) -> payloads.UpdateOverageSettingsSuccess:
        account_id = decode_optional_id(input.account_id, "Account", field="accountId")
        account = await access.readable_account(principal, account_id)
        rating = await overage.update_overage_settings(
            ctx, principal, account, enabled=input.enabled, monthly_cap=input.monthly_cap
        )
        return payloads.UpdateOverageSettingsSuccess(
            overage=OverageSettings.from_value(rating, account.currency),
            usage=None if rating is None else Usage.from_value(rating),
            account=Account.from_model(account),
        )

    return await guarded(info, call)


async def update_usage_notifications(
    info: Info, input: payloads.UpdateUsageNotificationsInput
) -> payloads.UpdateUsageNotificationsResult:
    from schema import usage_payloads as payloads
    from schema.types.account import Account
    from schema.types.usage import UsageNotificationSettings

    ctx = info.context.services

    async def call(principal: Principal) -> payloads.UpdateUsageNotificationsSuccess:
        account_id = decode_optional_id(input.account_id, "Account", field="accountId")
        account = await access.readable_account(principal, account_id)
        if not principal.can_write_to(account.id):
            raise PermissionDenied()
        levels, email = await thresholds.update_usage_notifications(
            ctx, principal, account, thresholds=input.thresholds, email=input.email
        )
        return payloads.UpdateUsageNotificationsSuccess(
            usage_notifications=UsageNotificationSettings(thresholds=levels, email=email),
            account=Account.from_model(account),
        )

    return await guarded(info, call)
