"""Where a webhook may go (the SSRF guard) and how it is signed (Standard Webhooks).

Guard: https only when `require_https`; no credentials in the URL; every address the
host resolves to must be public (not private, loopback, link-local — which covers the
cloud metadata address 169.254.169.254 —, shared, multicast, reserved or unspecified,
also when written as an IPv4-mapped IPv6 address) unless it is allow-listed. Checked at
registration and again at every delivery, on the very addresses the connection uses
(`GuardedResolver`), so a DNS answer that changes after registration cannot reach an
internal service.

Signature (https://www.standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA256
of "{webhook-id}.{webhook-timestamp}.{body}">` under the secret's bytes (`whsec_<base64>`);
during a rotation both secrets sign, space-separated.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import secrets
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from services.errors import InvalidInput

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format prefix, not a secret)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, not "private" in ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL or an address it resolves to may not receive webhooks."""


@dataclass(frozen=True)
class TargetPolicy:
    require_https: bool = True
    #: Networks (CIDR) or host names allowed even though they are not public.
    allowed: tuple[str, ...] = ()

    def _networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        nets = []
        for item in self.allowed:
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                continue
        return nets

    def address_allowed(self, address: str) -> bool:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address):  # an IPv4 address inside (mapped, 6to4)
            ip = ip.ipv4_mapped or ip.sixtofour or ip
        if any(ip in net for net in self._networks()):
            return True
        return not (
            ip.is_private
            or ip.is_loopback
            or ip.is_link_local
            or ip.is_multicast
            or ip.is_reserved
            or ip.is_unspecified
            or (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED)
        )

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in {a.lower() for a in self.allowed}


def check_url(url: str, policy: TargetPolicy) -> tuple[str, int]:
    """The URL's host and port, or TargetRefused (the syntax and scheme part of the guard)."""
    if len(url) > 2000:
        raise TargetRefused("The URL is longer than 2,000 characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused("The URL is malformed.") from exc
    if parts.scheme not in ("https", "http"):
        raise TargetRefused("Use an https:// URL.")
    if parts.scheme == "http" and policy.require_https:
        raise TargetRefused("Use an https:// URL: plain http is refused in production.")
    if parts.username or parts.password:
        raise TargetRefused("Credentials in the URL are refused; verify the signature instead.")
    host = parts.hostname
    if not host:
        raise TargetRefused("The URL has no host.")
    return host, port or (443 if parts.scheme == "https" else 80)


async def resolve_checked(host: str, port: int, policy: TargetPolicy) -> list[str]:
    """Every address of `host`, each allowed, or TargetRefused."""
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError) as exc:
            raise TargetRefused(f"The host {host!r} does not resolve.") from exc
        addresses = sorted({str(info[4][0]) for info in infos})
    if policy.host_allowed(host):
        return addresses
    refused = [a for a in addresses if not policy.address_allowed(a)]
    if refused or not addresses:
        raise TargetRefused(
            "The URL points at a private, loopback, link-local or otherwise internal "
            "address; only public addresses may receive webhooks."
        )
    return addresses


async def validate_target(url: str, policy: TargetPolicy) -> str:
    """At registration: the cleaned URL, or INVALID_INPUT saying why it is refused."""
    try:
        host, port = check_url(url, policy)
        await resolve_checked(host, port, policy)
    except TargetRefused as exc:
        raise InvalidInput(str(exc), field="url") from exc
    return url.strip()


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that answers only allowed addresses (the delivery-time check)."""

    def __init__(self, policy: TargetPolicy) -> None:
        self.policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await resolve_checked(host, port, self.policy)
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        return None


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    return base64.b64decode(raw + "==")


def signature(secrets_: Iterable[str], msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret, space-separated."""
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets_
    )
