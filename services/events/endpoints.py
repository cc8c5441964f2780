"""Webhook endpoints: registered by admins (their account) and partners (one account or
all of theirs), the secret shown once and rotatable, every delivery readable."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import ApiKey, ApiKeyRole
from models.events import (
    BillingEvent,
    BillingEventType,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from services import access
from services.auth import Principal, account_principal
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.events.log import type_filter
from services.events.targets import TargetPolicy, new_secret, validate_target

ROTATION_OVERLAP = timedelta(hours=24)
MAX_ENDPOINTS_PER_OWNER = 10
MAX_PAGE = 100


async def _owner(principal: Principal) -> str:
    if principal.key_id is not None:
        key = await ApiKey.get_or_none(id=principal.key_id)
        if key is not None and key.principal:
            return key.principal
    return principal.caller


#: The one refusal of every webhook mutation to a key that may not manage endpoints.
MANAGERS_ONLY = "Only admin and partner keys manage webhook endpoints."


async def create_endpoint(
    principal: Principal,
    *,
    url: str,
    types: Iterable[BillingEventType] | None,
    account_id: int | None,
    policy: TargetPolicy,
    now: datetime,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its secret (shown this once). `types` None:
    every type (stored as an empty list); an empty `types` is refused."""
    # Found first, then role (as every mutation): another account's ID is NOT_FOUND.
    account = None
    if principal.role is ApiKeyRole.SERVICE:
        raise PermissionDenied(MANAGERS_ONLY)
    if account_id is not None or principal.role is not ApiKeyRole.PARTNER:
        account = await access.readable_account(principal, account_id)
    if principal.role is ApiKeyRole.ADMIN:
        assert account is not None
        owner = account_principal(account.id, ApiKeyRole.ADMIN)
        email: str | None = account.billing_email or account.email
    elif principal.role is ApiKeyRole.PARTNER:
        if account is None and principal.key_id is None:
            # A token's accounts are known only while it is presented: name one.
            raise InvalidInput(
                "Pass accountId: sign in with a partner API key to receive every account's events.",
                field="accountId",
            )
        owner, email = await _owner(principal), None
    else:
        raise PermissionDenied(MANAGERS_ONLY)
    account_id = account.id if account is not None else None
    chosen = type_filter(types) or ()
    cleaned = await validate_target(url, policy)
    live = WebhookEndpoint.filter(owner_principal=owner, deleted_at=None)
    if await live.count() >= MAX_ENDPOINTS_PER_OWNER:
        raise InvalidInput(
            f"At most {MAX_ENDPOINTS_PER_OWNER} endpoints: delete one first.", field="url"
        )
    secret = new_secret()
    endpoint = await WebhookEndpoint.create(
        owner_principal=owner,
        owner_email=email,
        account_id=account_id,
        url=cleaned,
        types=sorted({BillingEventType(t).value for t in chosen}),
        secret=secret,
        created_at=now,
    )
    return endpoint, secret


async def endpoints_of(principal: Principal) -> list[WebhookEndpoint]:
    """The endpoints a caller manages (admins, partners) or may see (viewers: its account's)."""
    query = WebhookEndpoint.filter(deleted_at=None)
    if principal.role is ApiKeyRole.PARTNER:
        query = query.filter(owner_principal=await _owner(principal))
    elif principal.role in (ApiKeyRole.ADMIN, ApiKeyRole.VIEWER):
        owners = [account_principal(a, ApiKeyRole.ADMIN) for a in principal.account_ids]
        query = query.filter(owner_principal__in=owners)
    else:
        return []
    return await query.order_by("id")


async def scoped_endpoint(principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    """An endpoint the caller manages; NotFound for anyone else's (no existence leak).
    A viewer finding its account's endpoint, or a service key (which sees none), is
    refused in the words createWebhookEndpoint uses."""
    if principal.role not in (ApiKeyRole.ADMIN, ApiKeyRole.PARTNER, ApiKeyRole.VIEWER):
        raise PermissionDenied(MANAGERS_ONLY)
    for endpoint in await endpoints_of(principal):
        if endpoint.id == endpoint_id:
            if principal.role is ApiKeyRole.VIEWER:
                raise PermissionDenied(MANAGERS_ONLY)
            return endpoint
    raise NotFound(field="endpointId")


async def rotate_secret(
    principal: Principal, endpoint_id: int, now: datetime
) -> tuple[WebhookEndpoint, str]:
    endpoint = await scoped_endpoint(principal, endpoint_id)
    secret = new_secret()
    await WebhookEndpoint.filter(id=endpoint.id).update(
        secret=secret,
        previous_secret=endpoint.secret,
        previous_secret_expires_at=now + ROTATION_OVERLAP,
    )
    await endpoint.refresh_from_db()
    return endpoint, secret


async def delete_endpoint(principal: Principal, endpoint_id: int, now: datetime) -> int:
    endpoint = await scoped_endpoint(principal, endpoint_id)
    async with in_transaction():
        await WebhookEndpoint.filter(id=endpoint.id).update(deleted_at=now, enabled=False)
        await WebhookDelivery.filter(
            endpoint_id=endpoint.id, status=WebhookDeliveryStatus.PENDING
        ).update(status=WebhookDeliveryStatus.FAILED, last_error="endpoint deleted")
    return endpoint.id


@dataclass(frozen=True)
class DeliveryPage:
    rows: list[tuple[str, WebhookDelivery, str]]  # (cursor, delivery, event type)
    has_next_page: bool


async def list_deliveries(
    endpoint_id: int, *, first: int | None, after: str | None
) -> DeliveryPage:
    size = 20 if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE}.", field="first")
    query = WebhookDelivery.filter(endpoint_id=endpoint_id)
    if after:
        try:
            before = int(base64.urlsafe_b64decode(after.encode()).decode().removeprefix("wd:"))
        except ValueError as exc:
            raise InvalidInput("Invalid cursor.", field="after") from exc
        query = query.filter(id__lt=before)
    rows = await query.order_by("-id").limit(size + 1)
    types = {
        e.id: e.type
        for e in await BillingEvent.filter(id__in=[r.event_id for r in rows]).only("id", "type")
    }
    return DeliveryPage(
        rows=[
            (base64.urlsafe_b64encode(f"wd:{r.id}".encode()).decode(), r, types[r.event_id])
            for r in rows[:size]
        ],
        has_next_page=len(rows) > size,
    )


async def readable_endpoint(principal: Principal, endpoint_id: int) -> WebhookEndpoint:
    """An endpoint the caller may read (see `endpoints_of`); NotFound otherwise."""
    for endpoint in await endpoints_of(principal):
        if endpoint.id == endpoint_id:
            return endpoint
    raise NotFound()
