"""The webhook endpoint mutations' inputs and results (schema/webhook_mutations.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.errors import (
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from schema.types.events import BillingEventType, WebhookEndpoint


@strawberry.input(description="A URL to receive billing events, and which ones.")
class CreateWebhookEndpointInput:
    url: str = strawberry.field(
        description="Where to POST events: an https URL on a public address (http outside "
        "production)."
    )
    types: list[BillingEventType] | None = strawberry.field(
        default=None,
        description=(
            "The event types to send; left out or null: every type. An empty list is "
            "INVALID_INPUT (give at least one type, or omit types for all)."
        ),
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The account whose events to send. Admin keys: their account (may be left out). "
            "Partner keys: one of their accounts, or null for every account the key sees."
        ),
    )


@strawberry.input(description="Names a webhook endpoint.")
class WebhookEndpointIdInput:
    endpoint_id: strawberry.ID = strawberry.field(description="The WebhookEndpoint's ID.")


@strawberry.interface(
    description="An endpoint with its signing secret, shown this once: store it now."
)
class WebhookEndpointSecretSuccess:
    endpoint: WebhookEndpoint = strawberry.field(description="The endpoint.")
    secret: str = strawberry.field(
        description=(
            "The signing secret (`whsec_` + base64), for verifying `webhook-signature` with "
            "any Standard Webhooks library. It is never shown again; rotate to get a new one."
        )
    )


@strawberry.type(description="The endpoint was registered; its signing secret is shown once.")
class CreateWebhookEndpointSuccess(WebhookEndpointSecretSuccess):
    pass


@strawberry.type(
    description="The endpoint's secret was replaced; the new one is shown once (the old one "
    "keeps signing for 24 hours)."
)
class RotateWebhookSecretSuccess(WebhookEndpointSecretSuccess):
    pass


@strawberry.type(description="The endpoint was deleted; its pending deliveries are dropped.")
class DeleteWebhookEndpointSuccess:
    deleted_endpoint_id: strawberry.ID = strawberry.field(description="The deleted endpoint's ID.")


_Errors = UnauthenticatedError | NotFoundError | PermissionDeniedError | InvalidInputError

CreateWebhookEndpointResult = Annotated[
    CreateWebhookEndpointSuccess | _Errors,
    strawberry.union(
        "CreateWebhookEndpointResult",
        description="What `createWebhookEndpoint` answers: the endpoint and its secret.",
    ),
]
RotateWebhookSecretResult = Annotated[
    RotateWebhookSecretSuccess | _Errors,
    strawberry.union(
        "RotateWebhookSecretResult",
        description="What `rotateWebhookSecret` answers: the endpoint and its new secret.",
    ),
]
DeleteWebhookEndpointResult = Annotated[
    DeleteWebhookEndpointSuccess | _Errors,
    strawberry.union(
        "DeleteWebhookEndpointResult",
        description="What `deleteWebhookEndpoint` answers.",
    ),
]
