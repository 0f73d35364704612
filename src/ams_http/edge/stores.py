"""The edge's shared state: rate-limit counters and idempotency records.

Redis when ``AMS_REDIS_URL`` is set (every API process sees the same counters and records),
process memory otherwise (one process, the demo, tests). ADR 0011 explains the choice.

Rate limits are sliding-window counters: one counter per window of ``window`` seconds, and
the estimate ``previous × (share of the previous window still inside the sliding window) +
current``. Every limit of a request is checked, and counted only when all of them pass, in
one round trip (a Lua script on Redis, one synchronous step in memory).

Idempotency records are claimed with "set if absent" (``in_flight``, short lifetime), then
replaced by the finished response (``done``, 24 hours) or released when the answer must not
be kept (a 5xx).
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import msgspec
import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from ams_core.ports import HealthCheck, HealthStatus

log = logging.getLogger("ams.http.stores")

#: A store call that takes longer than this is treated as "the store is down".
REDIS_TIMEOUT_SECONDS = 0.5


class StoreUnavailableError(Exception):
    """The shared store did not answer (Redis down, timed out or refused)."""


@dataclass(frozen=True, slots=True)
class Limit:
    """``limit`` hits of one ``name`` (e.g. ``check-in``) per ``subject`` per ``window`` s."""

    name: str
    subject: str
    limit: int
    window: int = 60


@dataclass(frozen=True, slots=True)
class Refusal:
    """The limit that refused a hit and how long until the same hit would pass."""

    limit: Limit
    retry_after: int


class IdempotencyRecord(msgspec.Struct, array_like=True):
    """A claimed key (``state == "in_flight"``) or the stored answer (``"done"``)."""

    state: str
    fingerprint: str
    token: str = ""
    status: int = 0
    headers: list[tuple[str, str]] = []
    body: bytes = b""


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(IdempotencyRecord).decode


class EdgeStore(Protocol):
    """What the rate-limit and idempotency middleware need from a store."""

    @abstractmethod
    async def hit(self, limits: Sequence[Limit], now: float | None = None) -> Refusal | None:
        """Count one hit against every limit, unless one of them refuses it."""

    @abstractmethod
    async def claim(
        self, key: str, fingerprint: str, lock_seconds: float
    ) -> tuple[str, IdempotencyRecord | None]:
        """Claim ``key``: ``(token, None)`` when claimed, else ``("", existing record)``."""

    @abstractmethod
    async def finish(self, key: str, record: IdempotencyRecord, keep_seconds: float) -> None:
        """Replace the claim with the finished answer."""

    @abstractmethod
    async def release(self, key: str, token: str) -> None:
        """Drop the claim (only if it is still the one ``token`` names)."""

    @abstractmethod
    async def aclose(self) -> None:
        """Release connections."""


def _windows(limit: Limit, now: float) -> tuple[int, float]:
    """The index of the current window and the weight of the previous one."""
    index = math.floor(now / limit.window)
    elapsed = now - index * limit.window
    return index, (limit.window - elapsed) / limit.window


def retry_after(limit: Limit, current: int, previous: int, now: float) -> int:
    """Whole seconds until one more hit fits under ``limit`` if nothing else is counted."""
    window = float(limit.window)
    _, weight = _windows(limit, now)
    elapsed = window * (1 - weight)
    room = limit.limit - 1  # the estimate must be at most this before the hit
    if current <= room and previous > 0:
        # still in this window: the previous window's share fades out linearly
        wait = (window - elapsed) - (room - current) * window / previous
    else:
        # in the next window: this window's count becomes the fading "previous"
        wait = (window - elapsed) + (window * (1 - room / current) if current > 0 else 0.0)
    return max(1, math.ceil(wait))


def _key(prefix: str, limit: Limit, index: int) -> str:
    return f"{prefix}rl:{limit.name}:{limit.window}:{limit.subject}:{index}"


class MemoryEdgeStore(EdgeStore):
    """Counters and records of this process only (no awaits inside a step: atomic).

    A limit's subject keeps one entry: its current window's index and count, the previous
    window's count and when the entry may be forgotten, so a hit looks one entry up per
    limit and builds no key string (a check-in counts two limits on every request).
    """

    PRUNE_EVERY = 4096

    def __init__(self) -> None:
        # no key prefix: nothing else shares a process's memory
        #: (name, window, subject) -> (window index, its count, the previous one's, expiry)
        self._counters: dict[tuple[str, int, str], tuple[int, int, int, float]] = {}
        self._records: dict[str, tuple[bytes, float]] = {}
        self._operations = 0

    def _prune(self, now: float) -> None:
        self._operations += 1
        if self._operations % self.PRUNE_EVERY:
            return
        self._counters = {k: v for k, v in self._counters.items() if v[3] > now}
        self._records = {k: v for k, v in self._records.items() if v[1] > now}

    async def hit(self, limits: Sequence[Limit], now: float | None = None) -> Refusal | None:
        clock = time.time() if now is None else now
        monotonic = time.monotonic()
        self._prune(monotonic)
        counters = self._counters
        counted = []
        for limit in limits:
            window = limit.window
            index = math.floor(clock / window)
            key = (limit.name, window, limit.subject)
            entry = counters.get(key)
            current = previous = 0
            if entry is not None and entry[3] > monotonic:
                if entry[0] == index:
                    current, previous = entry[1], entry[2]
                elif entry[0] == index - 1:
                    previous = entry[1]
            weight = (window - (clock - index * window)) / window
            if previous * weight + current + 1 > limit.limit:
                return Refusal(limit, retry_after(limit, current, previous, clock))
            counted.append((key, (index, current + 1, previous, monotonic + 2 * window)))
        for key, entry in counted:
            counters[key] = entry
        return None

    async def claim(
        self, key: str, fingerprint: str, lock_seconds: float
    ) -> tuple[str, IdempotencyRecord | None]:
        now = time.monotonic()
        self._prune(now)
        existing = self._records.get(key)
        if existing is not None and existing[1] > now:
            return "", _decode(existing[0])
        token = secrets.token_hex(8)
        record = IdempotencyRecord("in_flight", fingerprint, token)
        self._records[key] = (_encode(record), now + lock_seconds)
        return token, None

    async def finish(self, key: str, record: IdempotencyRecord, keep_seconds: float) -> None:
        self._records[key] = (_encode(record), time.monotonic() + keep_seconds)

    async def release(self, key: str, token: str) -> None:
        existing = self._records.get(key)
        if existing is not None and _decode(existing[0]).token == token:
            del self._records[key]

    async def aclose(self) -> None:
        self._counters.clear()
        self._records.clear()


# KEYS: current and previous window of each limit; ARGV: limit, previous weight, ttl (ms)
# of each. Returns {0} when counted, else {i, current, previous} of the refusing limit.
_HIT_SCRIPT = """
local n = #KEYS / 2
for i = 1, n do
  local current = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local previous = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  if previous * tonumber(ARGV[3 * i - 1]) + current + 1 > tonumber(ARGV[3 * i - 2]) then
    return {i, current, previous}
  end
end
for i = 1, n do
  redis.call('INCR', KEYS[2 * i - 1])
  redis.call('PEXPIRE', KEYS[2 * i - 1], ARGV[3 * i])
end
return {0}
"""

# KEYS[1]: the record; ARGV: the claim, its lifetime (ms). Returns the existing record or nil.
_CLAIM_SCRIPT = """
local existing = redis.call('GET', KEYS[1])
if existing then
  return existing
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""

# KEYS[1]: the record; ARGV[1]: the token of the claim to drop.
_RELEASE_SCRIPT = """
local existing = redis.call('GET', KEYS[1])
if existing and string.find(existing, ARGV[1], 1, true) then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class RedisEdgeStore(EdgeStore):
    """Counters and records in Redis, shared by every process of the deployment."""

    def __init__(self, url: str, prefix: str = "ams:") -> None:
        self._prefix = prefix
        self._client: aioredis.Redis = aioredis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            retry=AsyncRetry(NoBackoff(), 1),
            health_check_interval=30,
        )
        self._hit = self._client.register_script(_HIT_SCRIPT)
        self._claim = self._client.register_script(_CLAIM_SCRIPT)
        self._release = self._client.register_script(_RELEASE_SCRIPT)

    async def _call(self, operation: Any) -> Any:
        try:
            return await asyncio.wait_for(operation, timeout=2 * REDIS_TIMEOUT_SECONDS)
        except (redis.RedisError, OSError, TimeoutError) as error:
            raise StoreUnavailableError(f"{type(error).__name__}: {error}") from error

    async def hit(self, limits: Sequence[Limit], now: float | None = None) -> Refusal | None:
        clock = time.time() if now is None else now
        keys: list[str] = []
        args: list[float | int] = []
        for limit in limits:
            index, weight = _windows(limit, clock)
            keys += [_key(self._prefix, limit, index), _key(self._prefix, limit, index - 1)]
            args += [limit.limit, round(weight, 4), 2 * limit.window * 1000]
        answer = await self._call(self._hit(keys=keys, args=args))
        if int(answer[0]) == 0:
            return None
        limit = limits[int(answer[0]) - 1]
        return Refusal(limit, retry_after(limit, int(answer[1]), int(answer[2]), clock))

    async def claim(
        self, key: str, fingerprint: str, lock_seconds: float
    ) -> tuple[str, IdempotencyRecord | None]:
        token = secrets.token_hex(8)
        claim = _encode(IdempotencyRecord("in_flight", fingerprint, token))
        existing = await self._call(
            self._claim(keys=[self._prefix + key], args=[claim, int(lock_seconds * 1000)])
        )
        if existing is None:
            return token, None
        return "", _decode(existing)

    async def finish(self, key: str, record: IdempotencyRecord, keep_seconds: float) -> None:
        await self._call(
            self._client.set(self._prefix + key, _encode(record), px=int(keep_seconds * 1000))
        )

    async def release(self, key: str, token: str) -> None:
        await self._call(self._release(keys=[self._prefix + key], args=[token]))

    async def aclose(self) -> None:
        await self._client.aclose()


class RedisHealthCheck(HealthCheck):
    """Readiness probe: one ``PING`` with a short timeout (run in a worker thread)."""

    name = "redis"

    def __init__(self, url: str, timeout: float = 1.0) -> None:
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )

    def check(self) -> HealthStatus:
        started = time.perf_counter()
        try:
            self._client.ping()
        except (redis.RedisError, OSError) as error:
            return HealthStatus(self.name, False, type(error).__name__)
        return HealthStatus(self.name, True, "", round((time.perf_counter() - started) * 1000, 2))

    def close(self) -> None:
        self._client.close()


def open_store(redis_url: str | None, prefix: str) -> EdgeStore:
    """Redis when a URL is configured, process memory otherwise."""
    if redis_url:
        return RedisEdgeStore(redis_url, prefix)
    return MemoryEdgeStore()
