"""Usage mutations: their inputs, success types and result unions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema.errors import (
    InvalidInputError,
    NotFoundError,
    OverageNotAvailableError,
    PaymentMethodRequiredError,
    PermissionDeniedError,
    SelfServiceUnavailableError,
    UnauthenticatedError,
)
from schema.types.account import Account
from schema.types.usage import (
    Decimal,
    OverageSettings,
    Usage,
    UsageEventResult,
    UsageNotificationSettings,
)


@strawberry.input(description="One usage event, as the product's backend reports it.")
class UsageEventInput:
    id: str = strawberry.field(
        description=(
            "Your id for the event (up to 255 characters), unique per account for as long as "
            "events are kept: a repeat is DUPLICATE and counted once."
        )
    )
    meter: str = strawberry.field(description="The meter's `code`, e.g. `credits`.")
    quantity: Decimal = strawberry.field(
        description="How much was used: a decimal string, 0 or more, up to six decimal places."
    )
    timestamp: datetime | None = strawberry.field(
        default=None,
        description=(
            "When it happened (default: now); it counts in the period it falls in. More than "
            "5 minutes ahead, or in an invoiced period, is REJECTED."
        ),
    )


@strawberry.input(description="A batch of usage events for one account (SERVICE keys only).")
class ReportUsageInput:
    account_id: strawberry.ID = strawberry.field(description="The account the usage belongs to.")
    events: list[UsageEventInput] = strawberry.field(
        description="Up to 1,000 events; more is INVALID_INPUT and records none."
    )


@strawberry.input(description="Turn overage on or off and set its cap.")
class UpdateOverageSettingsInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The account; may be left out when the key is for exactly one account.",
    )
    enabled: bool = strawberry.field(
        description="Bill usage past the allowance. Turning it off keeps what accrued billable."
    )
    monthly_cap: int | None = strawberry.field(
        default=None,
        description=(
            "The most overage billed per billing period, in minor units (cents); null: no cap. "
            "Below what already accrued this period is INVALID_INPUT."
        ),
    )


@strawberry.input(description="Change when usage notifications are sent.")
class UpdateUsageNotificationsInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The account; may be left out when the key is for exactly one account.",
    )
    thresholds: list[int] | None = strawberry.field(
        default=None,
        description=(
            "Up to 10 percentages of the allowance, each 1 to 1000; null leaves them as they "
            "are, [] turns threshold notifications off."
        ),
    )
    email: bool | None = strawberry.field(
        default=None, description="Also email each notification; null leaves it as it is."
    )


@strawberry.type(description="What became of each event, and the account's usage after them.")
class ReportUsageSuccess:
    results: list[UsageEventResult] = strawberry.field(
        description="One result per event, in the order sent."
    )
    usage: Usage = strawberry.field(description="The account's usage this period, after the batch.")


@strawberry.type(description="The overage settings were saved.")
class UpdateOverageSettingsSuccess:
    overage: OverageSettings = strawberry.field(description="The settings as saved.")
    usage: Usage | None = strawberry.field(
        description="The account's usage rated under them; null without a subscription."
    )
    account: Account = strawberry.field(description="The account changed.")


@strawberry.type(description="The notification settings were saved.")
class UpdateUsageNotificationsSuccess:
    usage_notifications: UsageNotificationSettings = strawberry.field(
        description="The settings as saved."
    )
    account: Account = strawberry.field(description="The account changed.")


_Access = UnauthenticatedError | NotFoundError | PermissionDeniedError | InvalidInputError

ReportUsageResult = Annotated[
    ReportUsageSuccess | _Access,
    strawberry.union(
        "ReportUsageResult", description="The batch's results, or why none was recorded."
    ),
]
UpdateOverageSettingsResult = Annotated[
    UpdateOverageSettingsSuccess
    | _Access
    | SelfServiceUnavailableError
    | OverageNotAvailableError
    | PaymentMethodRequiredError,
    strawberry.union(
        "UpdateOverageSettingsResult", description="The saved settings, or why they were refused."
    ),
]
UpdateUsageNotificationsResult = Annotated[
    UpdateUsageNotificationsSuccess | _Access,
    strawberry.union(
        "UpdateUsageNotificationsResult",
        description="The saved settings, or why they were refused.",
    ),
]
