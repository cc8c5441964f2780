"""Webhook endpoint mutations and `Viewer.webhookEndpoints`: decode, one service call, map."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from models.events import BillingEventType as BillingEventTypeModel
from resolvers.context import Info
from resolvers.errors import guarded, raise_top_level
from resolvers.ids import decode_id, decode_optional_id, to_global_id
from services.auth import Principal
from services.errors import BillingError
from services.events import endpoints
from services.events.targets import TargetPolicy
from services.events.webhooks import target_policy

if TYPE_CHECKING:
    from schema.types.events import WebhookEndpoint


def _policy(info: Info) -> TargetPolicy:
    return target_policy(info.context.services.policy)


async def create_endpoint(
    info: Info, url: str, types: list[BillingEventTypeModel] | None, account_id: str | None
) -> Any:
    from schema.types.events import WebhookEndpoint
    from schema.webhook_payloads import CreateWebhookEndpointSuccess

    async def call(principal: Principal) -> CreateWebhookEndpointSuccess:
        pk = decode_optional_id(account_id, "Account", field="accountId")
        endpoint, secret = await endpoints.create_endpoint(
            principal,
            url=url,
            types=types,
            account_id=pk,
            policy=_policy(info),
            now=info.context.services.clock.now(),
        )
        return CreateWebhookEndpointSuccess(
            endpoint=WebhookEndpoint.from_model(endpoint), secret=secret
        )

    return await guarded(info, call)


async def rotate_secret(info: Info, endpoint_id: str) -> Any:
    from schema.types.events import WebhookEndpoint
    from schema.webhook_payloads import RotateWebhookSecretSuccess

    async def call(principal: Principal) -> RotateWebhookSecretSuccess:
        pk = decode_id(endpoint_id, "WebhookEndpoint", field="endpointId")
        endpoint, secret = await endpoints.rotate_secret(
            principal, pk, info.context.services.clock.now()
        )
        return RotateWebhookSecretSuccess(
            endpoint=WebhookEndpoint.from_model(endpoint), secret=secret
        )

    return await guarded(info, call)


async def delete_endpoint(info: Info, endpoint_id: str) -> Any:
    import strawberry

    from schema.webhook_payloads import DeleteWebhookEndpointSuccess

    async def call(principal: Principal) -> DeleteWebhookEndpointSuccess:
        pk = decode_id(endpoint_id, "WebhookEndpoint", field="endpointId")
        deleted = await endpoints.delete_endpoint(principal, pk, info.context.services.clock.now())
        return DeleteWebhookEndpointSuccess(
            deleted_endpoint_id=strawberry.ID(to_global_id("WebhookEndpoint", deleted))
        )

    return await guarded(info, call)


async def viewer_endpoints(info: Info) -> list[WebhookEndpoint]:
    from schema.types.events import WebhookEndpoint

    try:
        principal = info.context.require_principal()
    except BillingError as exc:
        raise_top_level(exc)
    return [WebhookEndpoint.from_model(e) for e in await endpoints.endpoints_of(principal)]
