"""StripeProvider against a real localstripe process (no Stripe account, no network).

The fixtures are module-local (`_sandbox`, `_provider`) so they never collide with the
shared conftest fixtures.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from gateway.sandbox import Sandbox, start_sandbox
from services.provider.base import ProviderError, ProviderUnavailableError
from services.provider.recording import RecordingProvider
from services.provider.stripe import StripeProvider
from tests.sandbox_browser import (
    authenticate_payment,
    complete_setup_3ds,
    confirm_card_setup,
    create_card_payment_method,
)

OK = "4242424242424242"
CHARGE_DECLINED = "4000000000000341"
ATTACH_DECLINED = "4000000000000002"
THREE_DS = "4000002760003184"
THREE_DS_2 = "4000002500003155"


@pytest.fixture(scope="session")
def _sandbox() -> Iterator[Sandbox]:
    sandbox = start_sandbox()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
async def _provider(_sandbox: Sandbox) -> AsyncIterator[StripeProvider]:
    provider = StripeProvider(
        _sandbox.secret_key,
        _sandbox.publishable_key,
        api_base=_sandbox.api_base,
        js_url=_sandbox.js_url,
        timeout_s=10,
        max_network_retries=0,
    )
    try:
        yield provider
    finally:
        await provider.close()


def _key() -> str:
    return uuid.uuid4().hex


async def _customer(provider: StripeProvider) -> str:
    return await provider.create_customer(
        email="ada@example.com", name="Ada", idempotency_key=_key()
    )


async def _card_on_file(provider: StripeProvider, sandbox: Sandbox, number: str) -> tuple[str, str]:
    customer = await _customer(provider)
    pm = await create_card_payment_method(sandbox, number)
    await provider.attach_payment_method(payment_method_id=pm, customer_id=customer)
    return customer, pm


async def _charge(provider: StripeProvider, customer: str, pm: str, **kw: object) -> object:
    return await provider.charge(
        customer_id=customer,
        payment_method_id=pm,
        amount=1999,
        currency="USD",
        idempotency_key=_key(),
        off_session=bool(kw.get("off_session", False)),
        metadata={"invoice": "inv_1"},
    )


async def test_create_customer(_provider: StripeProvider) -> None:
    customer = await _customer(_provider)
    assert customer.startswith("cus_")


async def test_ping(_provider: StripeProvider) -> None:
    await _provider.ping()


async def test_token_first_setup_ok_card(_provider: StripeProvider, _sandbox: Sandbox) -> None:
    customer = await _customer(_provider)
    pm = await create_card_payment_method(_sandbox, OK, exp_month=7, exp_year=2031)
    result = await _provider.setup_payment_method(
        customer_id=customer, payment_method_id=pm, idempotency_key=_key()
    )
    assert result.status == "succeeded"
    assert result.setup_intent_id.startswith("seti_")
    assert result.payment_method_id == pm
    assert result.customer_id == customer
    assert result.card is not None
    assert (result.card.brand, result.card.last4) == ("visa", "4242")
    assert (result.card.exp_month, result.card.exp_year) == (7, 2031)
    assert result.card.funding == "credit"
    assert result.card.customer_id == customer


@pytest.mark.parametrize("number", [THREE_DS, THREE_DS_2])
async def test_token_first_setup_3ds(
    _provider: StripeProvider, _sandbox: Sandbox, number: str
) -> None:
    customer = await _customer(_provider)
    pm = await create_card_payment_method(_sandbox, number)
    result = await _provider.setup_payment_method(
        customer_id=customer, payment_method_id=pm, idempotency_key=_key()
    )
    assert result.status == "requires_action"
    assert result.client_secret and result.client_secret.startswith(result.setup_intent_id)
    assert result.redirect_url is None  # localstripe uses use_stripe_sdk, never a URL

    await complete_setup_3ds(_sandbox, result.setup_intent_id, result.client_secret)
    done = await _provider.retrieve_setup_intent(result.setup_intent_id)
    assert done.status == "succeeded"
    assert done.card is not None and done.card.payment_method_id == pm
    assert done.card.last4 == number[-4:]


async def test_setup_first_flow(_provider: StripeProvider, _sandbox: Sandbox) -> None:
    customer = await _customer(_provider)
    started = await _provider.create_setup_intent(customer_id=customer)
    # A fresh SetupIntent is the browser's turn: reported as requires_action.
    assert started.status == "requires_action"
    assert started.client_secret is not None and started.payment_method_id is None

    seti = await confirm_card_setup(_sandbox, started.client_secret, OK)
    assert seti == started.setup_intent_id
    done = await _provider.retrieve_setup_intent(seti)
    assert done.status == "succeeded"
    assert done.card is not None and done.payment_method_id == done.card.payment_method_id
    assert done.card.customer_id is None  # the sandbox does not attach; Stripe would

    card = await _provider.attach_payment_method(
        payment_method_id=done.card.payment_method_id, customer_id=customer
    )
    assert card.customer_id == customer and card.last4 == "4242"


async def test_setup_first_flow_3ds(_provider: StripeProvider, _sandbox: Sandbox) -> None:
    customer = await _customer(_provider)
    started = await _provider.create_setup_intent(customer_id=customer)
    assert started.client_secret is not None
    seti = await confirm_card_setup(_sandbox, started.client_secret, THREE_DS, authenticate=None)
    pending = await _provider.retrieve_setup_intent(seti)
    assert pending.status == "requires_action"
    await complete_setup_3ds(_sandbox, seti, started.client_secret)
    assert (await _provider.retrieve_setup_intent(seti)).status == "succeeded"


async def test_declined_at_attach_is_a_failed_setup(
    _provider: StripeProvider, _sandbox: Sandbox
) -> None:
    """Token-first: a card refused at attach is a *result* (status failed), not an error."""
    customer = await _customer(_provider)
    pm = await create_card_payment_method(_sandbox, ATTACH_DECLINED)
    result = await _provider.setup_payment_method(
        customer_id=customer, payment_method_id=pm, idempotency_key=_key()
    )
    assert result.status == "failed"
    assert result.failure_code == "card_declined"
    assert result.failure_message
    assert result.setup_intent_id.startswith("seti_")
    assert result.card is None


async def test_declined_at_attach_direct_attach_raises(
    _provider: StripeProvider, _sandbox: Sandbox
) -> None:
    """`attach_payment_method` returns card details, so a refusal is a ProviderError."""
    customer = await _customer(_provider)
    pm = await create_card_payment_method(_sandbox, ATTACH_DECLINED)
    with pytest.raises(ProviderError) as info:
        await _provider.attach_payment_method(payment_method_id=pm, customer_id=customer)
    assert info.value.code == "card_declined"
    assert ATTACH_DECLINED not in str(info.value)


async def test_attach_is_idempotent_and_detach_too(
    _provider: StripeProvider, _sandbox: Sandbox
) -> None:
    customer, pm = await _card_on_file(_provider, _sandbox, OK)
    again = await _provider.attach_payment_method(payment_method_id=pm, customer_id=customer)
    assert again.customer_id == customer
    other = await _customer(_provider)
    with pytest.raises(ProviderError) as info:
        await _provider.attach_payment_method(payment_method_id=pm, customer_id=other)
    assert info.value.code == "payment_method_attached_elsewhere"
    await _provider.detach_payment_method(pm)
    await _provider.detach_payment_method(pm)


async def test_charge_ok(_provider: StripeProvider, _sandbox: Sandbox) -> None:
    customer, pm = await _card_on_file(_provider, _sandbox, OK)
    result = await _provider.charge(
        customer_id=customer,
        payment_method_id=pm,
        amount=1999,
        currency="USD",
        idempotency_key=_key(),
        off_session=True,
        metadata={"invoice": "inv_1"},
    )
    assert result.status == "succeeded"
    assert result.payment_intent_id.startswith("pi_")
    assert (result.amount, result.currency) == (1999, "USD")
    assert result.failure_code is None and result.client_secret is None
    assert (await _provider.retrieve_charge(result.payment_intent_id)) == result


async def test_charge_declined(_provider: StripeProvider, _sandbox: Sandbox) -> None:
    customer, pm = await _card_on_file(_provider, _sandbox, CHARGE_DECLINED)
    result = await _provider.charge(
        customer_id=customer,
        payment_method_id=pm,
        amount=500,
        currency="EUR",
        idempotency_key=_key(),
        off_session=True,
        metadata={},
    )
    assert result.status == "failed"
    assert result.failure_code == "card_declined"
    assert result.failure_message
    assert (result.amount, result.currency) == (500, "EUR")
    # localstripe answers 402 with only the charge id; we find the intent through it.
    assert result.payment_intent_id.startswith("pi_")
    stored = await _provider.retrieve_charge(result.payment_intent_id)
    assert stored.status == "failed" and stored.failure_code == "card_declined"


async def test_charge_3ds_authenticated(_provider: StripeProvider, _sandbox: Sandbox) -> None:
    customer, pm = await _card_on_file(_provider, _sandbox, THREE_DS)
    result = await _provider.charge(
        customer_id=customer,
        payment_method_id=pm,
        amount=4200,
        currency="USD",
        idempotency_key=_key(),
        off_session=True,  # ignored by localstripe: Stripe would fail it instead
        metadata={},
    )
    assert result.status == "requires_action"
    assert result.client_secret and result.client_secret.startswith(result.payment_intent_id)
    await authenticate_payment(
        _sandbox, result.payment_intent_id, result.client_secret, success=True
    )
    done = await _provider.retrieve_charge(result.payment_intent_id)
    assert done.status == "succeeded" and done.amount == 4200


async def test_charge_3ds_authentication_failed(
    _provider: StripeProvider, _sandbox: Sandbox
) -> None:
    customer, pm = await _card_on_file(_provider, _sandbox, THREE_DS_2)
    result = await _provider.charge(
        customer_id=customer,
        payment_method_id=pm,
        amount=4200,
        currency="USD",
        idempotency_key=_key(),
        off_session=False,
        metadata={},
    )
    assert result.status == "requires_action" and result.client_secret
    await authenticate_payment(
        _sandbox, result.payment_intent_id, result.client_secret, success=False
    )
    done = await _provider.retrieve_charge(result.payment_intent_id)
    assert done.status == "failed"
    assert done.failure_code == "payment_intent_authentication_failure"


async def test_cancel_requires_action_charge(_provider: StripeProvider, _sandbox: Sandbox) -> None:
    customer, pm = await _card_on_file(_provider, _sandbox, THREE_DS)
    result = await _provider.charge(
        customer_id=customer,
        payment_method_id=pm,
        amount=100,
        currency="USD",
        idempotency_key=_key(),
        off_session=False,
        metadata={},
    )
    assert result.status == "requires_action"
    canceled = await _provider.cancel_charge(result.payment_intent_id)
    assert canceled.status == "canceled"
    again = await _provider.cancel_charge(result.payment_intent_id)  # idempotent
    assert again.status == "canceled"


async def test_unreachable_provider_is_unavailable(_sandbox: Sandbox) -> None:
    provider = StripeProvider(
        _sandbox.secret_key,
        _sandbox.publishable_key,
        api_base="http://127.0.0.1:9",  # discard port: connection refused
        timeout_s=2,
        max_network_retries=0,
    )
    try:
        with pytest.raises(ProviderUnavailableError):
            await provider.create_customer(email="a@example.com", name="A", idempotency_key=_key())
        with pytest.raises(ProviderUnavailableError):
            await provider.charge(
                customer_id="cus_x",
                payment_method_id="pm_x",
                amount=100,
                currency="USD",
                idempotency_key=_key(),
                off_session=True,
                metadata={},
            )
        with pytest.raises(ProviderUnavailableError):
            await provider.ping()
    finally:
        await provider.close()


async def test_bad_token_is_provider_error(_provider: StripeProvider) -> None:
    customer = await _customer(_provider)
    with pytest.raises(ProviderError) as info:
        await _provider.setup_payment_method(
            customer_id=customer, payment_method_id="pm_doesnotexist", idempotency_key=_key()
        )
    assert info.value.code == "resource_missing"
    with pytest.raises(ProviderError):
        await _provider.retrieve_charge("pi_doesnotexist")


async def test_recording_provider_records_and_injects(
    _provider: StripeProvider, _sandbox: Sandbox
) -> None:
    recorder = RecordingProvider(_provider)
    assert recorder.publishable_key == _sandbox.publishable_key
    customer = await recorder.create_customer(email="b@example.com", name="B", idempotency_key="k")
    assert recorder.calls == [
        ("create_customer", {"email": "b@example.com", "name": "B", "idempotency_key": "k"})
    ]
    recorder.reset()
    assert recorder.calls == []
    recorder.fail_next("charge", ProviderUnavailableError("boom"))
    with pytest.raises(ProviderUnavailableError):
        await recorder.charge(
            customer_id=customer,
            payment_method_id="pm_x",
            amount=1,
            currency="USD",
            idempotency_key="k2",
            off_session=True,
            metadata={},
        )
    assert recorder.names() == ["charge"]
    assert recorder.calls_to("charge")[0]["amount"] == 1


@pytest.fixture
async def _faulty_api() -> AsyncIterator[tuple[str, dict[str, object]]]:
    """A fake Stripe answering every request with `state["status"]` (or hanging)."""
    import asyncio

    from aiohttp import web

    state: dict[str, object] = {"status": 500, "hang": False}
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        if state["hang"]:
            await release.wait()
        body = {"error": {"type": "api_error", "message": "injected"}}
        return web.json_response(body, status=int(str(state["status"])))

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", state
    finally:
        release.set()
        await runner.cleanup()


@pytest.mark.parametrize(
    ("status", "hang", "expected"),
    [
        (500, False, ProviderUnavailableError),
        (503, False, ProviderUnavailableError),
        (429, False, ProviderUnavailableError),
        (409, False, ProviderUnavailableError),  # idempotent request still in flight
        (200, True, ProviderUnavailableError),  # timeout
        (401, False, ProviderError),
        (400, False, ProviderError),
    ],
)
async def test_error_mapping(
    _faulty_api: tuple[str, dict[str, object]],
    status: int,
    hang: bool,
    expected: type[Exception],
) -> None:
    base, state = _faulty_api
    state.update(status=status, hang=hang)
    provider = StripeProvider(
        "sk_test_x", "pk_test_x", api_base=base, timeout_s=0.5, max_network_retries=0
    )
    try:
        with pytest.raises(expected) as info:
            await provider.charge(
                customer_id="cus_x",
                payment_method_id="pm_x",
                amount=100,
                currency="USD",
                idempotency_key=_key(),
                off_session=True,
                metadata={},
            )
        assert "sk_test_x" not in str(info.value)
    finally:
        await provider.close()
