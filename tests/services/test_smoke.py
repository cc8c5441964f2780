from models import PaymentMethodStatus
from tests.factories import add_card, make_account


async def test_first_card_becomes_default(services, sandbox, provider):
    account = await make_account()
    pm = await add_card(services, sandbox, account)
    assert pm.status is PaymentMethodStatus.ACTIVE
    assert pm.is_default
