"""A worker process for the outbox SIGKILL test: ``python -m tests.http.outbox_worker``.

Arguments: the Redis URL, the broker namespace, the queue and the database URL (the API's
login). It delivers ``notifications.deliver`` jobs through the real use case over
PostgreSQL; its notifier counts each push in Redis (``<namespace>:push:<idempotency key>``)
and takes 0.3 s, so a test can kill it in the middle of a batch.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Sequence
from types import FrameType

from dishka import make_container

from ams_adapters.composition import build_providers
from ams_adapters.dramatiq import DramatiqJobQueue, make_broker, run_worker
from ams_adapters.identity import IdentitySettings
from ams_adapters.settings import SqlSettings
from ams_core.domain import DeliveryReport, Notification, PushToken
from ams_core.ports import Clock, Job, Notifier, UnitOfWork
from ams_core.use_cases import DELIVER_NOTIFICATION, DeliverNotification, DeliverNotificationCommand
from tests.adapters.dramatiq.sigkill_worker import settings_for


def main(argv: list[str]) -> None:
    redis_url, namespace, queue, database_url = argv
    settings = settings_for(redis_url, namespace, queue)
    broker = make_broker(settings)
    client = broker.client

    class CountingNotifier(Notifier):
        def send(self, notification: Notification, devices: Sequence[PushToken]) -> DeliveryReport:
            client.incr(f"{namespace}:push:{notification.idempotency_key}")
            time.sleep(0.3)
            return DeliveryReport(delivered=len(devices))

    identity = IdentitySettings(secret_key=b"outbox-worker-test-key-0123456789abcdef")
    container = make_container(
        *build_providers(sql=SqlSettings(url=database_url), identity=identity)
    )
    notifier = CountingNotifier()

    def deliver(job: Job) -> None:
        with container() as request:
            use_case = DeliverNotification(request.get(UnitOfWork), notifier, request.get(Clock))
            use_case(DeliverNotificationCommand.of(job))

    DramatiqJobQueue(broker, client, {DELIVER_NOTIFICATION: deliver}, settings)
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_term)
    try:
        run_worker(broker, settings, stop, on_ready=lambda: print("ready", flush=True))
    finally:
        container.close()


if __name__ == "__main__":
    main(sys.argv[1:])
