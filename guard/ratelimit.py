"""A request rate per caller: a token bucket holding `burst` requests that refills at
`per_minute`. In memory it counts for one instance; in Redis (one atomic script per request,
timed by the Redis server's clock) every instance sharing that Redis counts together."""

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as redis
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Receive, Scope, Send

from kilas.guard._caller import caller_key
from kilas.guard._responses import deny_websocket, error_body, send_json

log = logging.getLogger("kilas.guard")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0
    """Whole seconds until the next request would be allowed (at least 1 when refused)."""


# Set in a request's scope by whatever took its token already (compiler.http's CompiledPosts,
# which then fell through): a request is counted once.
COUNTED_KEY = "kilas.rate_counted"


class RateLimiter(Protocol):
    per_minute: int
    burst: int

    async def hit(self, key: str) -> Decision: ...

    async def close(self) -> None: ...


def _retry_after(missing: float, per_second: float) -> int:
    return max(1, math.ceil(missing / per_second))


class MemoryRateLimiter:
    # Buckets that would be full again are dropped every so often, so that a stream of
    # distinct callers does not grow memory.
    prune_every = 60.0

    def __init__(self, per_minute: int, burst: int) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self.per_second = per_minute / 60
        self.buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, at)
        self.pruned_at = time.monotonic()

    async def hit(self, key: str) -> Decision:
        now = time.monotonic()
        if now - self.pruned_at > self.prune_every:
            self._prune(now)
        tokens, at = self.buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return Decision(True)
        self.buckets[key] = (tokens, now)
        return Decision(False, _retry_after(1 - tokens, self.per_second))

    def _prune(self, now: float) -> None:
        self.pruned_at = now
        full_after = self.burst / self.per_second
        self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < full_after}

    async def close(self) -> None:
        pass


# KEYS[1]: the bucket; ARGV: tokens per second, burst. Returns {allowed, seconds to wait}.
# Floats travel as strings: Redis truncates a Lua number reply to an integer.
TOKEN_BUCKET = """
local per_second = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_second)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = (1 - tokens) / per_second
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / per_second * 1000) + 1000)
return {allowed, tostring(wait)}
"""


class RedisRateLimiter:
    prefix = "kilas:ratelimit:"
    # How long a request may wait for Redis before it is let through unlimited.
    timeout = 0.5

    def __init__(self, url: str, per_minute: int, burst: int) -> None:
        self.per_minute = per_minute
        self.burst = burst
        self.per_second = per_minute / 60
        self.client = redis.Redis.from_url(
            url, socket_timeout=self.timeout, socket_connect_timeout=self.timeout
        )
        self.script = self.client.register_script(TOKEN_BUCKET)
        self.warned_at = 0.0

    async def hit(self, key: str) -> Decision:
        try:
            allowed, wait = await asyncio.wait_for(
                self.script(keys=[self.prefix + key], args=[self.per_second, self.burst]),
                self.timeout * 2,
            )
        except (RedisError, OSError, TimeoutError) as error:
            # A limiter that is down must not take the API down with it.
            if time.monotonic() - self.warned_at > 60:
                self.warned_at = time.monotonic()
                log.warning("rate limit not applied, Redis does not answer: %s", error)
            return Decision(True)
        if int(allowed):
            return Decision(True)
        return Decision(False, max(1, math.ceil(float(wait))))

    async def close(self) -> None:
        await self.client.aclose()


def open_rate_limiter(url: str, per_minute: int, burst: int) -> RateLimiter | None:
    """The limiter for these settings: none when `per_minute` is 0, Redis for a redis:// URL."""
    if per_minute <= 0:
        return None
    if url:
        return RedisRateLimiter(url, per_minute, burst)
    return MemoryRateLimiter(per_minute, burst)


RATE_LIMITED = "RATE_LIMITED"


def refusal(limiter: RateLimiter, decision: Decision) -> dict[str, Any]:
    return error_body(
        f"too many requests: at most {limiter.per_minute} a minute, in bursts of up to "
        f"{limiter.burst} (KILAS_RATE_LIMIT); retry in {decision.retry_after} s",
        RATE_LIMITED,
        retryAfter=decision.retry_after,
    )


class RateLimit:
    """ASGI middleware: each request to `paths` (an exact path, or a prefix ending in "/")
    and each WebSocket handshake there takes a token from its caller's bucket. It sits
    inside the authentication middleware, whose caller (`scope["kilas.caller"]`) it counts."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter | None, paths: tuple[str, ...]) -> None:
        self.app = app
        self.limiter = limiter
        self.paths = paths

    def _counts(self, path: str) -> bool:
        return any(path == p or (p.endswith("/") and path.startswith(p)) for p in self.paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.limiter is None
            or scope.get(COUNTED_KEY)
            or scope["type"] not in ("http", "websocket")
            or not self._counts(scope["path"])
        ):
            return await self.app(scope, receive, send)
        decision = await self.limiter.hit(caller_key(scope))
        if decision.allowed:
            return await self.app(scope, receive, send)
        body = refusal(self.limiter, decision)
        headers = {"Retry-After": str(decision.retry_after)}
        if scope["type"] == "http":
            return await send_json(send, 429, body, headers)
        await receive()  # websocket.connect
        if "websocket.http.response" in scope.get("extensions", {}):
            await deny_websocket(receive, send, 429, body, headers)
        else:
            await send({"type": "websocket.close", "code": 1008})  # the handshake gets a 403
