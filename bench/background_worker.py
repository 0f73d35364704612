"""`python -m bench.background_worker`: one `ams worker` process for `bench.background`.

It builds what `ams worker --no-relay` builds — the container of ``build_providers`` on the
benchmark database as the app login, ``dramatiq_jobs`` (every job handler on Redis, large
notifications in parts on the spread queue) and :func:`run_worker` with the default
threads, prefetch and part size — except that the notifier
is :class:`FcmNotifier` over the suite's fake FCM transport (firebase-admin's HTTP seam;
no network), which counts the tokens it accepted. ``--noop`` registers one empty job
instead (the floor). The process warms up (database connection, Firebase app), writes
``--ready-file``, starts consuming once ``--go-file`` exists, and stops on SIGTERM,
printing ``tokens=<accepted> jobs=<run>`` on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import redis
from dishka import Container, Provider, Scope, make_container, provide
from dramatiq.brokers.redis import RedisBroker
from tests.adapters.fcm.fake_fcm import FakeFcm, fake_app

from ams_adapters.composition import NotifierProvider, build_providers
from ams_adapters.dramatiq import (
    DramatiqJobQueue,
    QueueSettings,
    make_broker,
    make_redis,
    run_worker,
)
from ams_adapters.fcm import FcmNotifier
from ams_adapters.identity import IdentitySettings
from ams_adapters.settings import BackgroundSettings, SqlSettings
from ams_core.domain import InstitutionId, NotFoundError, NotificationId
from ams_core.ports import Clock, Job, JobHandler, Notifier, UnitOfWork
from ams_core.use_cases import DeliverNotification, DeliverNotificationCommand
from ams_http.serve.background import dramatiq_jobs

#: the empty job of the floor
NOOP_JOB = "bench.noop"
#: how long a worker waits for the go file before giving up
GO_TIMEOUT_SECONDS = 300.0
SECRET_KEY = b"ams-bench-background-not-a-production-key-0123"


class FakeFcmNotifierProvider(Provider):
    """The notifier of ``NotifierProvider``, replaced by one given notifier."""

    scope = Scope.APP

    def __init__(self, notifier: Notifier) -> None:
        super().__init__()
        self._notifier = notifier

    @provide
    def notifier(self) -> Notifier:
        return self._notifier


class JobCounter:
    """Counts the jobs the handlers ran (thread-safe)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def wrap(self, handler: JobHandler) -> JobHandler:
        def run(job: Job) -> None:
            handler(job)
            with self._lock:
                self.count += 1

        return run


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.background_worker", description=__doc__)
    parser.add_argument("--database-url", required=True, help="the app login's database URL")
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--namespace", required=True, help="dramatiq's Redis key prefix")
    parser.add_argument("--queue", required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--go-file", type=Path, required=True)
    parser.add_argument("--noop", action="store_true", help="run empty jobs only (the floor)")
    return parser.parse_args(argv)


def _container(database_url: str, notifier: Notifier, threads: int) -> Container:
    providers = build_providers(
        sql=SqlSettings(url=database_url, pool_size=threads),
        identity=IdentitySettings(secret_key=SECRET_KEY),
        background=BackgroundSettings(),
    )
    return make_container(
        *(
            FakeFcmNotifierProvider(notifier) if isinstance(p, NotifierProvider) else p
            for p in providers
        )
    )


def _warm_up(container: Container) -> None:
    """One delivery of a notification that is not there: a database connection, RLS set."""
    with container() as request:
        deliver = DeliverNotification(
            request.get(UnitOfWork), request.get(Notifier), request.get(Clock)
        )
        command = DeliverNotificationCommand(NotificationId("warm-up"), InstitutionId("warm-up"))
        with contextlib.suppress(NotFoundError):
            deliver(command)


def _wait_for(go: Path, stop: threading.Event) -> bool:
    deadline = time.monotonic() + GO_TIMEOUT_SECONDS
    while not go.exists():
        if stop.wait(0.002) or time.monotonic() > deadline:
            return False
    return True


def _serve(
    args: argparse.Namespace,
    options: QueueSettings,
    declare: Callable[[RedisBroker, redis.Redis], object],
    stop: threading.Event,
) -> None:
    client = make_redis(options)
    broker = make_broker(options, client=client)
    declare(broker, client)
    args.ready_file.write_text("ready")
    try:
        if _wait_for(args.go_file, stop):
            run_worker(broker, options, stop)
    finally:
        broker.close()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s [%(process)d] %(message)s"
    )
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    defaults = BackgroundSettings()
    options = QueueSettings(
        redis_url=args.redis_url,
        namespace=args.namespace,
        queue=args.queue,
        threads=defaults.worker_threads,
        prefetch=defaults.prefetch,
    )
    counter = JobCounter()
    fake = FakeFcm()
    if args.noop:
        handlers = {NOOP_JOB: counter.wrap(lambda job: None)}
        _serve(args, options, lambda b, c: DramatiqJobQueue(b, c, handlers, options), stop)
    else:
        app = fake_app(fake)
        container = _container(args.database_url, FcmNotifier(app), options.threads)
        try:
            _warm_up(container)
            _serve(
                args,
                options,
                lambda b, c: dramatiq_jobs(container, b, options, defaults),
                stop,
            )
        finally:
            container.close()
            _delete_app(app)
    print(f"tokens={fake.successes} jobs={counter.count}", flush=True)
    return 0


def _delete_app(app: object) -> None:
    import firebase_admin  # type: ignore[import-untyped]

    firebase_admin.delete_app(app)


if __name__ == "__main__":
    sys.exit(main())
