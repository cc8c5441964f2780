"""updateBillingInfo: only the parts the client sent change."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers.context import Info
from resolvers.errors import guarded
from resolvers.ids import decode_optional_id
from schema import payloads
from schema.inputs import UpdateBillingInfoInput
from schema.types.account import Account
from services import billing_info
from services.auth import Principal


async def update_billing_info(
    info: Info, input: UpdateBillingInfoInput
) -> payloads.UpdateBillingInfoResult:
    async def call(principal: Principal) -> payloads.UpdateBillingInfoSuccess:
        account_id = decode_optional_id(input.account_id, "Account", field="accountId")
        changes: dict[str, Any] = {}
        for name in ("name", "email", "tax_id"):
            value = getattr(input, name)
            if value is not strawberry.UNSET:
                changes[name] = value
        if input.address is not strawberry.UNSET:
            changes["address"] = input.address.to_value() if input.address else None
        account = await billing_info.update_billing_info(
            principal, account_id, now=info.context.services.clock.now(), **changes
        )
        return payloads.UpdateBillingInfoSuccess(account=Account.from_model(account))

    return await guarded(info, call)
