"""The SSRF guard reads IPv4 addresses embedded in IPv6 ones."""

from __future__ import annotations

import pytest

from services.errors import InvalidInput
from services.events.targets import TargetPolicy, validate_target


@pytest.mark.parametrize("url", ["https://[2002:7f00:1::]/", "https://[2002:a9fe:a9fe::]/"])
async def test_a_6to4_address_of_an_internal_ipv4_is_refused(url: str) -> None:
    # 2002:7f00:1:: (6to4 for 127.0.0.1) and 6to4 for 169.254.169.254 were accepted.
    with pytest.raises(InvalidInput):
        await validate_target(url, TargetPolicy(require_https=True))
