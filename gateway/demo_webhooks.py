"""The demo's webhook receiver: a loopback endpoint that verifies each delivery's
Standard Webhooks signature and writes it to `{data-dir}/webhooks/*.json`, so a person
can watch what a partner integration would receive.

At start it registers itself, for the demo partner key (every demo account), through
the same service a `createWebhookEndpoint` mutation calls; endpoints of earlier runs
(their port is gone) are deleted first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web

from models.events import WebhookEndpoint
from services.auth import KeyHasher, authenticate_key
from services.events import endpoints
from services.events.targets import TargetPolicy

_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _verified(secret: str, headers: dict[str, str], body: str) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers.get('webhook-id')}.{headers.get('webhook-timestamp')}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.partition(",")[2] for s in headers.get("webhook-signature", "").split()]
    return any(hmac.compare_digest(expected, s) for s in offered)


async def start_webhook_sink(
    directory: Path,
    *,
    partner_key: str,
    hasher: KeyHasher,
    policy: TargetPolicy,
    now: datetime,
) -> Callable[[], Awaitable[None]]:
    """Serve the sink on 127.0.0.1 and register it; returns the function that stops it."""
    directory.mkdir(parents=True, exist_ok=True)
    secret: dict[str, str] = {}

    async def receive(request: web.Request) -> web.Response:
        body = await request.text()
        headers = {k.lower(): v for k, v in request.headers.items()}
        message_id = headers.get("webhook-id", "unknown")
        record = {
            "webhook-id": message_id,
            "webhook-timestamp": headers.get("webhook-timestamp"),
            "verified": _verified(secret.get("value", ""), headers, body),
            "body": json.loads(body) if body else None,
        }
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S%f")
        # One file per message id: a retried delivery overwrites its own file (dedupe).
        name = f"{stamp[:15]}-{_SAFE.sub('_', message_id)}.json"
        for old in directory.glob(f"*-{_SAFE.sub('_', message_id)}.json"):
            old.unlink()
        (directory / name).write_text(json.dumps(record, indent=2) + "\n")
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/webhooks", receive)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/webhooks"

    await WebhookEndpoint.filter(url__startswith="http://127.0.0.1:", deleted_at=None).update(
        deleted_at=now, enabled=False
    )
    partner = await authenticate_key(partner_key, hasher=hasher, now=now)
    _, secret["value"] = await endpoints.create_endpoint(
        partner, url=url, types=None, account_id=None, policy=policy, now=now
    )
    return runner.cleanup
