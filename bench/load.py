"""Load generator: keep-alive HTTP/1.1 POSTs from `concurrency` connections for `duration`
seconds, one JSON line of results on stdout. Run as its own process, pinned to a core
the server does not use (bench/run.py does both).

A hand-rolled client on asyncio streams (uvloop when installed) rather than httpx: at
thousands of requests per second httpx's own CPU per request would be what is measured.

    python bench/load.py --port 8001 --path /graphql --body '{"query": "..."}' \
        --header 'Authorization: Bearer ...' --concurrency 8 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time


def _request(host: str, path: str, body: bytes, headers: list[str], method: str = "POST") -> bytes:
    if method == "GET":  # the query travels in `path`; no body
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", *headers, "", ""]
        return "\r\n".join(lines).encode()
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *headers,
        "",
        "",
    ]
    return "\r\n".join(lines).encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    chunked = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    parts = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        parts.append(await reader.readexactly(size + 2))
        if size == 0:
            return status, b"".join(p[:-2] for p in parts)


async def _worker(
    args: argparse.Namespace,
    payload: bytes,
    stop_at: float,
    warm_until: float,
    samples: list[float],
    errors: list[int],
    done: list[int],
) -> None:
    """Requests until the window closed and at least --min-requests were measured (a slow
    server still yields a figure); only those started after the warm-up count."""
    reader, writer = await asyncio.open_connection(args.host, args.port)
    try:
        while True:
            start = time.perf_counter()
            if start >= stop_at and len(samples) >= args.min_requests:
                return
            writer.write(payload)
            status, _ = await _read_response(reader)
            end = time.perf_counter()
            done[0] += 1
            if start >= warm_until:
                if status != args.expect_status:
                    errors.append(status)
                samples.append(end - start)
    finally:
        writer.close()


async def run(args: argparse.Namespace) -> dict[str, float]:
    body = args.body.encode()
    payload = _request(f"{args.host}:{args.port}", args.path, body, args.header, args.method)
    samples: list[float] = []
    errors: list[int] = []
    done = [0]
    begin = time.perf_counter()
    warm_until = begin + args.warmup
    stop_at = warm_until + args.duration
    await asyncio.gather(
        *(
            _worker(args, payload, stop_at, warm_until, samples, errors, done)
            for _ in range(args.concurrency)
        )
    )
    elapsed = time.perf_counter() - warm_until
    samples.sort()

    def pct(q: float) -> float:
        if not samples:
            return 0.0
        return samples[min(len(samples) - 1, round(q * (len(samples) - 1)))] * 1000

    return {
        "requests": len(samples),
        "rps": len(samples) / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": len(errors),
        # every request answered, warm-up included: what the server's CPU time covers
        "total_requests": done[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--body", default="")
    parser.add_argument("--method", choices=("POST", "GET"), default="POST")
    parser.add_argument("--expect-status", type=int, default=200)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--min-requests", type=int, default=20)
    args = parser.parse_args()
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
