"""Reading and requeueing the dead-letter queues of a dramatiq Redis broker.

dramatiq's Redis broker keeps a message that failed for good (retries exhausted, a
permanent error, too old) in ``<namespace>:<queue>.XQ`` (a sorted set of message ids
scored by the time they were dead-lettered, in ms) and ``<namespace>:<queue>.XQ.msgs``
(a hash of message id -> encoded message), for ``dead_message_ttl`` ms.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import redis
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.errors import DecodeError

from ams_adapters.dramatiq.broker import errors_key
from ams_core.domain import UnavailableError
from ams_core.ports import JobValue

#: the options a requeued message starts again without (a fresh retry budget and age)
_ATTEMPT_OPTIONS = ("retries", "traceback", "requeue_timestamp", "redis_message_id", "eta")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A job that failed for good and waits in a dead-letter queue."""

    job_name: str
    payload: Mapping[str, JobValue] = field(default_factory=dict)
    idempotency_key: str | None = None
    failed_at: datetime | None = None
    #: the last error (``Type: message``) when known, else the traceback of an earlier attempt
    error: str | None = None
    retries: int = 0
    queue: str = ""
    message_id: str = ""


def _xq(broker: RedisBroker, queue: str) -> str:
    return f"{broker.namespace}:{queue}.XQ"


def _queues(broker: RedisBroker, queues: Iterable[str] | None) -> list[str]:
    return sorted(queues if queues is not None else broker.get_declared_queues())


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def dead_letters(
    broker: RedisBroker, limit: int = 50, *, queues: Iterable[str] | None = None
) -> list[DeadLetter]:
    """The newest ``limit`` dead letters of ``queues`` (default: the broker's declared queues).

    Raises:
        UnavailableError: Redis cannot be reached.
    """
    client = broker.client
    found: list[DeadLetter] = []
    try:
        for queue in _queues(broker, queues):
            xq = _xq(broker, queue)
            entries = cast(
                list[tuple[bytes, float]],
                client.zrevrange(xq, 0, max(limit, 1) - 1, withscores=True),
            )
            if not entries:
                continue
            ids = [entry[0] for entry in entries]
            bodies = cast(list[bytes | None], client.hmget(f"{xq}.msgs", ids))
            errors = cast(
                list[bytes | None], client.hmget(errors_key(broker.namespace, queue), ids)
            )
            for (message_id, score), body, error in zip(entries, bodies, errors, strict=True):
                letter = _letter(queue, message_id, score, body, error)
                if letter is not None:
                    found.append(letter)
    except (redis.RedisError, OSError) as error:
        raise UnavailableError(f"the job queue is unreachable: {error}") from error
    found.sort(key=lambda letter: letter.failed_at or datetime.min.replace(tzinfo=UTC))
    found.reverse()
    return found[:limit]


def _letter(
    queue: str, message_id: bytes, score: float, body: bytes | None, error: bytes | None
) -> DeadLetter | None:
    if body is None:
        return None
    try:
        message = Message.decode(body)
    except DecodeError:
        return DeadLetter(
            job_name="?",
            failed_at=datetime.fromtimestamp(score / 1000, tz=UTC),
            error=_text(error) or "undecodable message",
            queue=queue,
            message_id=message_id.decode(),
        )
    key = message.args[0] if message.args else None
    return DeadLetter(
        job_name=message.actor_name,
        payload=dict(message.kwargs),
        idempotency_key=key if isinstance(key, str) else None,
        failed_at=datetime.fromtimestamp(score / 1000, tz=UTC),
        error=_text(error) or message.options.get("traceback"),
        retries=max(int(message.options.get("retries", 0)), 0),
        queue=queue,
        message_id=message_id.decode(),
    )


def requeue_dead_letters(broker: RedisBroker, *, queues: Iterable[str] | None = None) -> int:
    """Put every dead letter of ``queues`` back on its queue, with a fresh retry budget.

    Each dead letter is claimed (removed from the dead-letter set) before it is requeued,
    so two operators requeueing at once do not queue it twice. Returns how many were
    requeued. The idempotency key is kept: the job was queued once already, its marker
    is not checked again.

    Raises:
        UnavailableError: Redis cannot be reached (what was requeued so far stays requeued).
    """
    client = broker.client
    count = 0
    try:
        for queue in _queues(broker, queues):
            xq = _xq(broker, queue)
            errors = errors_key(broker.namespace, queue)
            entries = cast(list[tuple[bytes, float]], client.zrange(xq, 0, -1, withscores=True))
            for message_id, score in entries:
                if not client.zrem(xq, message_id):
                    continue  # someone else claimed it
                body = cast(bytes | None, client.hget(f"{xq}.msgs", message_id))
                if body is None:
                    continue
                try:
                    old = Message.decode(body)
                except DecodeError:
                    client.zadd(xq, {message_id: score})
                    continue
                options = {k: v for k, v in old.options.items() if k not in _ATTEMPT_OPTIONS}
                fresh: Message[object] = Message(
                    queue_name=queue,
                    actor_name=old.actor_name,
                    args=old.args,
                    kwargs=old.kwargs,
                    options=options,
                    message_timestamp=int(time.time() * 1000),
                )
                try:
                    broker.enqueue(fresh)
                except BaseException:
                    client.zadd(xq, {message_id: score})
                    raise
                client.hdel(f"{xq}.msgs", message_id)
                client.hdel(errors, message_id)
                count += 1
    except (redis.RedisError, OSError) as error:
        raise UnavailableError(f"the job queue is unreachable: {error}") from error
    return count
