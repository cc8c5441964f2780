"""A viewer (or service) key refused by any webhook mutation reads one message: the same
refusal, the same words. The mutations are found from the schema, so a new one must be
added here."""

from __future__ import annotations

import httpx
import pytest

from models import ApiKeyRole, WebhookEndpoint
from schema import schema
from services.auth import create_service_key
from services.events import endpoints
from services.events.targets import TargetPolicy
from tests.conftest import NOW
from tests.factories import admin_of, api_key, gql, make_account
from tests.graphql.helpers import db_state, gid

pytestmark = pytest.mark.usefixtures("db")

MESSAGE = "Only admin and partner keys manage webhook endpoints."
_ERROR = "__typename ... on UserError { code message field }"
MUTATIONS = {
    "createWebhookEndpoint": f"""mutation {{
        createWebhookEndpoint(input: {{url: "https://93.184.215.14/other"}}) {{ {_ERROR} }}
    }}""",
    "rotateWebhookSecret": f"""mutation($id: ID!) {{
        rotateWebhookSecret(input: {{endpointId: $id}}) {{ {_ERROR} }}
    }}""",
    "deleteWebhookEndpoint": f"""mutation($id: ID!) {{
        deleteWebhookEndpoint(input: {{endpointId: $id}}) {{ {_ERROR} }}
    }}""",
}


def test_every_webhook_mutation_is_covered() -> None:
    mutation = schema._schema.mutation_type
    assert mutation is not None
    webhook_fields = {name for name in mutation.fields if "Webhook" in name}
    assert webhook_fields == set(MUTATIONS)


@pytest.mark.parametrize("role", [ApiKeyRole.VIEWER, ApiKeyRole.SERVICE])
@pytest.mark.parametrize("name", MUTATIONS)
async def test_a_refused_role_reads_one_message_on_every_webhook_mutation(
    client: httpx.AsyncClient, name: str, role: ApiKeyRole
) -> None:
    # given an account with an endpoint its admin registered
    alice = await make_account()
    endpoint, _ = await endpoints.create_endpoint(
        admin_of(alice),
        url="https://93.184.215.14/hooks",
        types=None,
        account_id=None,
        policy=TargetPolicy(),
        now=NOW,
    )
    key = (
        await create_service_key(now=NOW)
        if role is ApiKeyRole.SERVICE
        else await api_key(alice, role)
    )
    before = await db_state()

    # when a key of this role calls the mutation
    variables = (
        {} if name == "createWebhookEndpoint" else {"id": gid("WebhookEndpoint", endpoint.id)}
    )
    body = await gql(client, MUTATIONS[name], variables, key=key)

    # then it is PERMISSION_DENIED, worded as everywhere else, and nothing changed
    assert body["data"][name] == {
        "__typename": "PermissionDeniedError",
        "code": "PERMISSION_DENIED",
        "message": MESSAGE,
        "field": None,
    }
    assert await db_state() == before
    assert await WebhookEndpoint.filter(deleted_at=None).count() == 1
