"""A Stripe that misbehaves on purpose: an aiohttp proxy in front of localstripe.

The gateway's `StripeProvider` talks to this proxy (`api_base=proxy.url`), which
forwards to localstripe and adds the two things the fault tests need:

* Stripe's idempotency layer, which localstripe lacks (it ignores `Idempotency-Key`):
  a POST with a key already seen and the same parameters gets the first stored
  response (status and body, header `Idempotent-Replayed: true`) without being
  forwarded; the same key with other parameters (or on another endpoint) gets 400
  `idempotency_error`; the same key while the first request is still running gets
  409 `idempotency_key_in_use`. As on Stripe, a result is stored only when the API
  began executing: a 400 (validation), 409 or 429 from upstream is not stored, and
  neither is a fault this proxy answers in place of Stripe.
* Faults by rule (`method`, a path regex, the `nth` matching call): answer 500, 503,
  429 or 409 without forwarding (the request never ran); `TIMEOUT` holds the request
  past the client's timeout and then forwards it (the charge lands after the client
  gave up); `DROP` forwards it and then cuts the connection (the charge happened, the
  answer is lost). Forwarding runs in its own task, so a client that hangs up never
  cancels a request already on its way.

One localstripe serves a whole test session, yet each scenario needs a provider of
its own for `find_drift`: `reset()` starts a new epoch, and `GET /v1/payment_intents`
answers only the PaymentIntents created through the proxy since then.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import json
import re
import socket
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

__all__ = ["Fault", "FaultProxy", "Rule"]

_FORWARD_HEADERS = ("Authorization", "Content-Type", "Stripe-Version", "Stripe-Account")
_NOT_STORED = frozenset({400, 409, 429})
_Stored = tuple[int, bytes]


class Fault(enum.StrEnum):
    TIMEOUT = "timeout"
    DROP = "drop"
    HTTP_500 = "500"
    HTTP_503 = "503"
    HTTP_429 = "429"
    HTTP_409 = "409"

    @property
    def status(self) -> int | None:
        return int(self.value) if self.value.isdigit() else None


@dataclass
class Rule:
    method: str
    path: str  # regex, matched in full against the request path
    fault: Fault
    nth: int = 1  # the nth matching call (1-based) gets the fault
    seen: int = 0
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and re.fullmatch(self.path, path) is not None


@dataclass
class _Entry:
    fingerprint: str
    result: asyncio.Future[_Stored]


@dataclass
class Stats:
    forwarded: Counter[str] = field(default_factory=Counter)  # "POST /v1/payment_intents"
    replayed: int = 0
    in_flight_409: int = 0
    injected: list[str] = field(default_factory=list)


def _error(status: int, type_: str, message: str, code: str | None = None) -> web.Response:
    error: dict[str, Any] = {"type": type_, "message": message}
    if code:
        error["code"] = code
    return web.json_response({"error": error}, status=status)


def _injected(fault: Fault) -> web.Response:
    status = fault.status
    assert status is not None
    if status == 429:
        return _error(429, "invalid_request_error", "Too many requests.", "rate_limit")
    if status == 409:
        return _error(
            409, "invalid_request_error", "Could not acquire a lock; retry.", "lock_timeout"
        )
    return _error(status, "api_error", "Something went wrong on Stripe's end (injected).")


def _fingerprint(method: str, path: str, body: bytes) -> str:
    params = sorted(parse_qsl(body.decode(), keep_blank_values=True))
    return hashlib.sha256(f"{method} {path} {params}".encode()).hexdigest()


class FaultProxy:
    """Start with `await FaultProxy(upstream).start()`; `url` is the gateway's api_base."""

    def __init__(self, upstream: str, *, hold_s: float = 1.5) -> None:
        self.upstream = upstream.rstrip("/")
        self.hold_s = hold_s
        self.url = ""
        self.rules: list[Rule] = []
        self.stats = Stats()
        self._keys: dict[str, _Entry] = {}
        self._intents: list[str] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> FaultProxy:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        app = web.Application(client_max_size=1024**2)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=False)
        await self._runner.setup()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        await self.settle()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    # -- test controls ----------------------------------------------------------------

    def reset(self) -> None:
        """Forget rules, counters and the epoch's intents (a new scenario begins)."""
        self.rules.clear()
        self.stats = Stats()
        self._intents.clear()

    def inject(self, method: str, path: str, fault: Fault, *, nth: int = 1) -> Rule:
        rule = Rule(method, path, fault, nth)
        self.rules.append(rule)
        return rule

    async def settle(self) -> None:
        """Wait until every request already forwarded (or held) has finished upstream."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def charges_forwarded(self) -> int:
        return self.stats.forwarded["POST /v1/payment_intents"]

    # -- the proxy --------------------------------------------------------------------

    def _fault_for(self, method: str, path: str) -> Fault | None:
        for rule in self.rules:
            if rule.matches(method, path):
                rule.seen += 1
                if rule.seen == rule.nth:
                    rule.fired += 1
                    self.stats.injected.append(f"{rule.fault} {method} {path}")
                    return rule.fault
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method, path = request.method, request.path
        body = await request.read()
        headers = {h: request.headers[h] for h in _FORWARD_HEADERS if h in request.headers}
        if method == "GET" and path == "/v1/payment_intents":
            return await self._list_epoch(headers)
        fault = self._fault_for(method, path)
        if fault is not None and fault.status is not None:
            return _injected(fault)  # answered in Stripe's place: nothing ran, nothing stored
        key = request.headers.get("Idempotency-Key") if method == "POST" else None
        entry: _Entry | None = None
        if key:
            fingerprint = _fingerprint(method, path, body)
            known = self._keys.get(key)
            if known is not None:
                return self._answer_known(key, known, fingerprint)
            entry = _Entry(fingerprint, asyncio.get_running_loop().create_future())
            self._keys[key] = entry
        hold = self.hold_s if fault is Fault.TIMEOUT else 0.0
        task = asyncio.create_task(
            self._forward(method, path, request.query_string, headers, body, hold, key, entry)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            status, payload = await asyncio.shield(task)
        except aiohttp.ClientError:
            return _error(502, "api_error", "localstripe could not be reached.")
        if fault is Fault.DROP:
            if request.transport is not None:
                request.transport.abort()  # the answer is lost on the way back
            return web.Response(status=status)  # written to a closed connection: nowhere
        return web.Response(status=status, body=payload, content_type="application/json")

    def _answer_known(self, key: str, known: _Entry, fingerprint: str) -> web.Response:
        if known.fingerprint != fingerprint:
            return _error(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters "
                f"they were first used with. Try using a key other than '{key}' if you "
                "meant to execute a different request.",
            )
        if not known.result.done():
            self.stats.in_flight_409 += 1
            return _error(
                409,
                "idempotency_error",
                "There is currently another in-progress request using this Stripe "
                "Idempotency Key. Please try again later.",
                "idempotency_key_in_use",
            )
        status, payload = known.result.result()
        self.stats.replayed += 1
        return web.Response(
            status=status,
            body=payload,
            content_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )

    async def _forward(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        hold: float,
        key: str | None,
        entry: _Entry | None,
    ) -> _Stored:
        assert self._session is not None
        try:
            if hold:
                await asyncio.sleep(hold)
            url = f"{self.upstream}{path}" + (f"?{query}" if query else "")
            async with self._session.request(method, url, headers=headers, data=body) as resp:
                payload = await resp.read()
                status = resp.status
        except BaseException as exc:
            if key is not None and entry is not None:
                self._keys.pop(key, None)
                entry.result.set_exception(exc)
                entry.result.exception()  # retrieved: no "never retrieved" warning
            raise
        self.stats.forwarded[f"{method} {path}"] += 1
        if method == "POST" and path == "/v1/payment_intents" and status == 200:
            self._intents.append(str(json.loads(payload)["id"]))
        if key is not None and entry is not None:
            if status in _NOT_STORED:
                self._keys.pop(key, None)  # never began executing: safe to send again
            entry.result.set_result((status, payload))
        return status, payload

    async def _list_epoch(self, headers: dict[str, str]) -> web.Response:
        """The PaymentIntents created through the proxy since `reset()`, newest first."""
        assert self._session is not None
        data = []
        for intent_id in reversed(self._intents):
            url = f"{self.upstream}/v1/payment_intents/{intent_id}"
            async with self._session.get(url, headers=headers) as resp:
                data.append(await resp.json(content_type=None))
        return web.json_response(
            {"object": "list", "url": "/v1/payment_intents", "has_more": False, "data": data}
        )
