"""The webhook endpoint mutations (a part of the root Mutation), their inputs and results."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers import webhooks
from resolvers.context import Info
from schema.webhook_payloads import (
    CreateWebhookEndpointInput,
    CreateWebhookEndpointResult,
    DeleteWebhookEndpointResult,
    RotateWebhookSecretResult,
    WebhookEndpointIdInput,
)

_ACCESS = (
    "`UNAUTHENTICATED`: the request carries no valid API key or token.",
    "`INVALID_INPUT`: an argument is malformed, or the URL is refused (not https in "
    "production, credentials in it, or a private, loopback, link-local or metadata "
    "address); `field` names it.",
    "`NOT_FOUND`: the account or endpoint named does not exist or is not this key's.",
    "`PERMISSION_DENIED`: only admin and partner keys manage webhook endpoints.",
)


def _doc(summary: str) -> str:
    lines = "\n".join(f"- {error}" for error in _ACCESS)
    return (
        f"{summary}\n\nExpected refusals come back as a member of the result union "
        f"implementing `UserError` (switch on `__typename` or `code`):\n{lines}"
    )


@strawberry.type(description="Webhook endpoints: where billing events are POSTed, signed.")
class WebhookMutations:
    @strawberry.mutation(
        description=_doc(
            "Register a URL to receive billing events as signed POSTs (Standard Webhooks). "
            "Returns the signing secret once. Events from now on are delivered, retried "
            "with backoff for about 3 days; an endpoint failing that long is disabled and "
            "its owner emailed."
        )
    )
    async def create_webhook_endpoint(
        self,
        info: Info,
        input: Annotated[
            CreateWebhookEndpointInput,
            strawberry.argument(description="The URL, the event types and whose events."),
        ],
    ) -> CreateWebhookEndpointResult:
        return await webhooks.create_endpoint(info, input.url, input.types, input.account_id)

    @strawberry.mutation(
        description=_doc(
            "Replace an endpoint's signing secret and return the new one (shown once). For "
            "24 hours deliveries carry a signature under each secret, so receivers can switch "
            "without dropping any."
        )
    )
    async def rotate_webhook_secret(
        self,
        info: Info,
        input: Annotated[
            WebhookEndpointIdInput,
            strawberry.argument(description="The endpoint whose secret is replaced."),
        ],
    ) -> RotateWebhookSecretResult:
        return await webhooks.rotate_secret(info, input.endpoint_id)

    @strawberry.mutation(
        description=_doc("Stop sending events to an endpoint; its pending retries are dropped.")
    )
    async def delete_webhook_endpoint(
        self,
        info: Info,
        input: Annotated[
            WebhookEndpointIdInput,
            strawberry.argument(description="The endpoint to delete; nothing more is sent to it."),
        ],
    ) -> DeleteWebhookEndpointResult:
        return await webhooks.delete_endpoint(info, input.endpoint_id)
